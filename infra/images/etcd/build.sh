#!/usr/bin/env bash
# etcd/build.sh: build etcd ${ETCD_VERSION} from the Go module proxy and the
# image registry.k8s.io/etcd:${ETCD_IMAGE_TAG} that kubeadm asks for.
# etcd's own go.mod replaces its sibling modules with local paths, so the
# build goes through a wrapper module requiring go.etcd.io/etcd/server/v3.
# Prints the image tarball's path.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/common.sh"
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

IMAGE="registry.k8s.io/etcd:$ETCD_IMAGE_TAG"

# build_etcd OUT: the static etcd server binary into OUT/etcd.
build_etcd() {
  local out=$1
  go_build_wrapper "$out" "$(printf 'module mysqlcharttoolkit.local/etcdbuild\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION")" "" go.etcd.io/etcd/server/v3
  mv "$out/server" "$out/etcd"
  "$out/etcd" --version
}

main() {
  need_go
  cached_build etcd "$ETCD_VERSION" build_etcd
  local ctx; ctx=$(mktemp -d)
  scratch_context "$ctx" "" "$BUILD_DIR/etcd-$ETCD_VERSION/etcd"
  mkdir -p "$ctx/rootfs/var/lib/etcd" "$ctx/rootfs/var/etcd"
  build_image_tar "$IMAGE" "$ctx"
  rm -rf "$ctx"
  image_tar "$IMAGE"
}

main "$@"
