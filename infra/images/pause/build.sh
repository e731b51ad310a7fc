#!/usr/bin/env bash
# pause/build.sh: a static C build of Kubernetes' build/pause/linux/pause.c
# (from the k8s.io/kubernetes module) and the image
# registry.k8s.io/pause:${PAUSE_IMAGE_TAG}, with ENTRYPOINT /pause.
# Prints the image tarball's path.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=../node/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"

# build_pause OUT: the static pause binary into OUT/pause.
build_pause() {
  local src; src=$(go_module_dir k8s.io/kubernetes "$KUBERNETES_VERSION")
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_IMAGE_TAG" -o "$1/pause" "$src/build/pause/linux/pause.c"
  strip "$1/pause"
  "$1/pause" -v
}

# pause_context CTX BINDIR: runs as nobody, like the upstream image.
pause_context() {
  mkdir -p "$1/rootfs"
  cp "$2/pause" "$1/rootfs/pause"
  printf 'FROM scratch\nCOPY rootfs/ /\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$1/Dockerfile"
}

need_cmd gcc "Run: apt-get install -y gcc libc6-dev (a static C build of pause)"
binary_image "registry.k8s.io/pause:$PAUSE_IMAGE_TAG" pause "$PAUSE_IMAGE_TAG" build_pause pause_context
