#!/usr/bin/env bash
# coredns/build.sh: build CoreDNS ${COREDNS_VERSION} from the Go module proxy
# and the image registry.k8s.io/coredns/coredns:${COREDNS_VERSION}.
# kubeadm's Deployment passes only arguments, so the image has an explicit
# ENTRYPOINT. Prints the image tarball's path.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/common.sh"
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

IMAGE="registry.k8s.io/coredns/coredns:$COREDNS_VERSION"

# build_coredns OUT: the static coredns binary into OUT/coredns.
build_coredns() {
  go_build_in_module "$1" github.com/coredns/coredns "$COREDNS_VERSION" \
    "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" .
  "$1/coredns" -version
}

main() {
  need_go
  cached_build coredns "$COREDNS_VERSION" build_coredns
  local ctx; ctx=$(mktemp -d)
  scratch_context "$ctx" '["/usr/local/bin/coredns"]' "$BUILD_DIR/coredns-$COREDNS_VERSION/coredns"
  ln -s usr/local/bin/coredns "$ctx/rootfs/coredns"
  build_image_tar "$IMAGE" "$ctx"
  rm -rf "$ctx"
  image_tar "$IMAGE"
}

main "$@"
