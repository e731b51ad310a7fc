#!/usr/bin/env bash
# coredns/build.sh: build CoreDNS ${COREDNS_VERSION} from the Go module proxy
# and the image registry.k8s.io/coredns/coredns:${COREDNS_VERSION}.
# kubeadm's Deployment passes only arguments, so the image has an explicit
# ENTRYPOINT. Prints the image tarball's path.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

# build_coredns OUT: the static coredns binary into OUT/coredns.
build_coredns() {
  go_build_in_module "$1" github.com/coredns/coredns "$COREDNS_VERSION" \
    "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" .
  "$1/coredns" -version
}

# coredns_context CTX BINDIR
coredns_context() {
  scratch_context "$1" '["/usr/local/bin/coredns"]' "$2/coredns"
  ln -s usr/local/bin/coredns "$1/rootfs/coredns"
}

binary_image "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" coredns "$COREDNS_VERSION" build_coredns coredns_context
