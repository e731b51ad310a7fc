#!/usr/bin/env bash
# etcd/build.sh: build etcd ${ETCD_VERSION} from the Go module proxy and the
# image registry.k8s.io/etcd:${ETCD_IMAGE_TAG} that kubeadm asks for.
# etcd's own go.mod replaces its sibling modules with local paths, so the
# build goes through a wrapper module requiring go.etcd.io/etcd/server/v3.
# Prints the image tarball's path.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

# build_etcd OUT: the static etcd server binary into OUT/etcd.
build_etcd() {
  local out=$1
  go_build_wrapper "$out" "$(printf 'module mysqlcharttoolkit.local/etcdbuild\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$ETCD_VERSION")" "" go.etcd.io/etcd/server/v3
  mv "$out/server" "$out/etcd"
  "$out/etcd" --version
}

# etcd_context CTX BINDIR: kubeadm mounts the data directory at /var/lib/etcd.
etcd_context() {
  scratch_context "$1" "" "$2/etcd"
  mkdir -p "$1/rootfs/var/lib/etcd" "$1/rootfs/var/etcd"
}

binary_image "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" etcd "$ETCD_VERSION" build_etcd etcd_context
