#!/usr/bin/env bash
# debian-net/build.sh: a small Debian bookworm image with the networking tools
# kube-proxy and kube-router call (iptables, ipset, iproute2, conntrack, kmod),
# built with debootstrap and imported as mysql-chart-toolkit/debian-net.
# Prints the image name.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

SUITE=bookworm
PACKAGES=iptables,ipset,iproute2,conntrack,kmod,ca-certificates,nftables
REV=1
KEY="$SUITE-r$REV"
IMAGE="mysql-chart-toolkit/debian-net:$KEY"

# build_rootfs OUT: debootstrap the root filesystem and archive it as OUT/rootfs.tar.
build_rootfs() {
  local out=$1
  debootstrap_rootfs "$out/rootfs" "$SUITE" minbase "$PACKAGES"
  tar_rootfs "$out/rootfs" "$out/rootfs.tar"
  rm -rf "$out/rootfs"
}

main() {
  cached_build debian-net "$KEY" build_rootfs
  if ! docker_has_image "$IMAGE"; then
    import_tar_image "$BUILD_DIR/debian-net-$KEY/rootfs.tar" "$IMAGE" \
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  fi
  printf '%s\n' "$IMAGE"
}

main "$@"
