#!/usr/bin/env bash
# busybox/build.sh: the small test image the cluster smoke test runs,
# mysql-chart-toolkit/busybox:<Debian busybox-static version>, from the host's
# Debian busybox-static package (a static binary: sh, httpd, wget, nc, nslookup).
# Prints the image tarball's path; the image name is in $CACHE_DIR/busybox-image.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

# ensure_busybox: make sure the static busybox from Debian is installed.
ensure_busybox() {
  if ! dpkg -s busybox-static >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || die "Install busybox-static: sudo apt-get install -y busybox-static"
    run_logged "apt-get install busybox-static" "$LOG_DIR/apt-get-busybox.log" \
      env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static
  fi
}

main() {
  ensure_busybox
  local ver image ctx
  ver=$(dpkg-query -W -f '${Version}' busybox-static | sed 's/^[0-9]*://; s/[^A-Za-z0-9_.-]/_/g')
  image="mysql-chart-toolkit/busybox:$ver"
  ctx=$(mktemp -d)
  static_rootfs "$ctx/rootfs" /bin/busybox
  mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/data" "$ctx/rootfs/www"
  printf 'ok\n' >"$ctx/rootfs/www/index.html"
  local a applets
  # Listed apart: a failing $(...) in the for list would give an image without sh.
  applets=$(/bin/busybox --list) || die "/bin/busybox --list failed"
  for a in $applets; do
    [[ $a == busybox ]] || ln -sf ../usr/local/bin/busybox "$ctx/rootfs/bin/$a"
  done
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin:/usr/local/bin\nCMD ["sh"]\n' >"$ctx/Dockerfile"
  build_image_tar "$image" "$ctx"
  docker_has_image "$image" || docker load -i "$(image_tar "$image")" >/dev/null
  rm -rf "$ctx"
  printf '%s\n' "$image" >"$CACHE_DIR/busybox-image"
  image_tar "$image"
}

main "$@"
