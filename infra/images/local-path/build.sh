#!/usr/bin/env bash
# local-path/build.sh: the two storage images kind's default StorageClass uses,
# under the exact names kind ${KIND_VERSION} expects (read from its source):
# the local-path provisioner (github.com/rancher/local-path-provisioner, the
# version kind pins, from the Go module proxy) and the helper image that runs
# the setup/teardown shell scripts (Debian's static busybox).
# Prints the two image tarballs' paths.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

# kind_const NAME: the value of a Go string constant in kind's node-image source.
# (Runs inside $(...), where set -e may be off: the download is checked.)
kind_const() {
  local src; src=$(go_module_dir sigs.k8s.io/kind "$KIND_VERSION") || return 1
  sed -n "s/^const $1 = \"\(.*\)\"$/\1/p" "$src/pkg/build/nodeimage/const_storage.go"
}

# provisioner_version: the local-path-provisioner version kind's image Makefile pins.
provisioner_version() {
  local src; src=$(go_module_dir sigs.k8s.io/kind "$KIND_VERSION") || return 1
  sed -n 's/^VERSION=\(v.*\)$/\1/p' "$src/images/local-path-provisioner/Makefile"
}

# build_provisioner OUT VERSION: the static provisioner binary into OUT.
build_provisioner() {
  go_build_in_module "$1" github.com/rancher/local-path-provisioner "$2" \
    "-X main.VERSION=$2" .
}

main() {
  need_go
  local ver prov helper ctx
  ver=$(provisioner_version); prov=$(kind_const storageProvisionerImage); helper=$(kind_const storageHelperImage)
  [[ -n $ver && -n $prov && -n $helper ]] || die "could not read the local-path images from kind $KIND_VERSION's source."
  cached_build local-path-provisioner "$ver" build_provisioner "$ver"

  ctx=$(mktemp -d)
  scratch_context "$ctx" '["/usr/local/bin/local-path-provisioner"]' "$BUILD_DIR/local-path-provisioner-$ver/local-path-provisioner"
  build_image_tar "$prov" "$ctx"
  rm -rf "$ctx"

  dpkg -s busybox-static >/dev/null 2>&1 || "$PROJECT_ROOT/infra/images/busybox/build.sh" >/dev/null
  ctx=$(mktemp -d)
  static_rootfs "$ctx/rootfs" /bin/busybox
  mkdir -p "$ctx/rootfs/bin"
  local a; for a in sh mkdir rm chmod ls cat; do ln -s ../usr/local/bin/busybox "$ctx/rootfs/bin/$a"; done
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin:/usr/local/bin\n' >"$ctx/Dockerfile"
  build_image_tar "$helper" "$ctx"
  rm -rf "$ctx"
  image_tar "$prov"; image_tar "$helper"
}

main "$@"
