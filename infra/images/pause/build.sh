#!/usr/bin/env bash
# pause/build.sh: a static C build of Kubernetes' build/pause/linux/pause.c
# (from the k8s.io/kubernetes module) and the image
# registry.k8s.io/pause:${PAUSE_IMAGE_TAG}, with ENTRYPOINT /pause.
# Prints the image tarball's path.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/common.sh"
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

IMAGE="registry.k8s.io/pause:$PAUSE_IMAGE_TAG"

# build_pause OUT: the static pause binary into OUT/pause.
build_pause() {
  local src; src=$(go_module_dir k8s.io/kubernetes "$KUBERNETES_VERSION")
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_IMAGE_TAG" -o "$1/pause" "$src/build/pause/linux/pause.c"
  strip "$1/pause"
  "$1/pause" -v
}

main() {
  need_go
  need_cmd gcc "Run: apt-get install -y gcc libc6-dev (a static C build of pause)"
  cached_build pause "$PAUSE_IMAGE_TAG" build_pause
  local ctx; ctx=$(mktemp -d)
  mkdir -p "$ctx/rootfs"
  cp "$BUILD_DIR/pause-$PAUSE_IMAGE_TAG/pause" "$ctx/rootfs/pause"
  printf 'FROM scratch\nCOPY rootfs/ /\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$ctx/Dockerfile"
  build_image_tar "$IMAGE" "$ctx"
  rm -rf "$ctx"
  image_tar "$IMAGE"
}

main "$@"
