#!/usr/bin/env bash
# Helpers shared by the node-image build scripts: cached build directories,
# Go builds from the module proxy, and image import with metadata.
# Sourcing it also loads scripts/lib/common.sh (versions, cache, logging).

# shellcheck source=../../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/common.sh"

BUILD_DIR="$CACHE_DIR/build"
LOG_DIR="$CACHE_DIR/logs"
export BUILD_DIR LOG_DIR
mkdir -p "$BUILD_DIR" "$LOG_DIR"

# Go builds are static and reproducible; keep the module cache and build cache
# (the build cache makes a re-run after a failure resume quickly).
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local

# need_go: fail with advice when Go is missing.
need_go() {
  need_cmd go "Go is needed to build kind, kubectl and the node image's binaries. Install Go 1.24 or newer (https://go.dev/dl/; Debian bookworm's golang package is too old), or use USE_STOCK_NODE_IMAGE=1 where a registry is reachable."
}

# cached_build NAME KEY FN [ARGS...]: unless $BUILD_DIR/NAME-KEY is complete,
# run "FN OUTDIR ARGS..." into a temporary directory (logged to
# $LOG_DIR/NAME-KEY.log) and rename it into place when FN succeeds.
# Prints nothing; the result is $BUILD_DIR/NAME-KEY.
cached_build() {
  local name=$1 key=$2 fn=$3; shift 3
  local dest="$BUILD_DIR/$name-$key"
  if [[ -f $dest/.complete ]]; then
    log "$name $key: cached ($dest)"
    return 0
  fi
  local tmp="$dest.tmp"
  rm -rf "$tmp" "$dest"
  mkdir -p "$tmp"
  run_logged "build $name $key" "$LOG_DIR/$name-$key.log" "$fn" "$tmp" "$@"
  touch "$tmp/.complete"
  mv "$tmp" "$dest"
}

# go_module_dir MODULE VERSION: download a module and print its (read-only) source dir.
go_module_dir() {
  local dir
  dir=$(cd /tmp && go mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -n $dir && -d $dir ]] || die "could not download Go module $1@$2 from the module proxy (GOPROXY=$(go env GOPROXY))."
  printf '%s\n' "$dir"
}

# go_build_in_module OUT MODULE VERSION LDFLAGS PKG...: copy the module's source
# into a scratch directory and build PKG... (relative to it) there, so its own
# go.mod, go.sum and replace directives apply. Binaries go to OUT.
go_build_in_module() {
  local out=$1 mod=$2 ver=$3 ldflags=$4; shift 4
  local src work
  src=$(go_module_dir "$mod" "$ver")
  work=$(mktemp -d "$BUILD_DIR/src.XXXXXX")
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  (cd "$work" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@")
  rm -rf "$work"
}

# go_build_wrapper OUT GOMOD LDFLAGS PKG...: build PKG... (full import paths)
# from a throw-away module whose go.mod is GOMOD (requires and replaces).
go_build_wrapper() {
  local out=$1 gomod=$2 ldflags=$3; shift 3
  local work
  work=$(mktemp -d "$BUILD_DIR/wrap.XXXXXX")
  printf '%s\n' "$gomod" >"$work/go.mod"
  printf 'package wrapper\n' >"$work/wrapper.go"
  (cd "$work" && go mod download && go build -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@")
  rm -rf "$work"
}


# static_rootfs DIR BINARY...: a minimal root filesystem holding static
# binaries in /usr/local/bin plus /etc/passwd, /etc/group, /tmp and CA certs.
static_rootfs() {
  local dir=$1; shift
  mkdir -p "$dir/usr/local/bin" "$dir/etc/ssl/certs" "$dir/tmp" "$dir/var/run"
  chmod 1777 "$dir/tmp"
  cp "$@" "$dir/usr/local/bin/"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  printf 'hosts: files dns\n' >"$dir/etc/nsswitch.conf"
  [[ -f /etc/ssl/certs/ca-certificates.crt ]] && cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/"
  return 0
}

# debian_mirror: the Debian mirror for debootstrap: $DEBIAN_MIRROR, else the
# host's first configured Debian URI, else deb.debian.org.
debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then printf '%s\n' "$DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# debootstrap_rootfs DIR SUITE VARIANT PACKAGES: debootstrap a Debian root
# filesystem into DIR (root only), then drop apt lists, caches and logs.
debootstrap_rootfs() {
  local dir=${1:?} suite=$2 variant=$3 pkgs=$4
  [[ $(id -u) -eq 0 ]] || die "debootstrap needs root: run this as root (sudo), or use USE_STOCK_NODE_IMAGE=1 where a registry is reachable."
  if ! command -v debootstrap >/dev/null 2>&1; then
    # Subshell: run_logged dies itself, so the hint below would never be shown.
    ( run_logged "apt-get install debootstrap" "$LOG_DIR/apt-get-debootstrap.log" \
      env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap ) ||
      die "could not install debootstrap; run: apt-get update && apt-get install -y debootstrap"
  fi
  debootstrap --variant="$variant" --include="$pkgs" "$suite" "$dir" "$(debian_mirror)"
  rm -rf "${dir:?}"/var/lib/apt/lists/* "${dir:?}"/var/cache/apt/*.bin "${dir:?}"/var/cache/apt/archives/*.deb \
    "${dir:?}"/var/log/*.log "${dir:?}"/var/log/apt/* "${dir:?}"/tmp/* "${dir:?}"/dev/*
}

# tar_rootfs DIR TARFILE: archive a root filesystem (without /proc, /sys, /dev content).
tar_rootfs() {
  tar --numeric-owner --xattrs -C "$1" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -cf "$2" .
}

# docker_has_image IMAGE: true when the local Docker has IMAGE.
docker_has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# docker_build_dir IMAGE DIR: legacy `docker build` of DIR (its Dockerfile only
# uses FROM scratch or local images, so nothing is pulled).
docker_build_dir() {
  local err rc=0
  err=$(DOCKER_BUILDKIT=0 docker build -q --pull=false -t "$1" "$2" 2>&1 >/dev/null) || rc=$?
  if (( rc != 0 )); then printf '%s\n' "$err" >&2; return "$rc"; fi
}

# import_tar_image TARFILE IMAGE [DOCKERFILE_LINES...]: import a rootfs tarball
# as IMAGE, then apply metadata lines (ENV, ENTRYPOINT, STOPSIGNAL ...) with a
# metadata-only build (Docker 20.10 refuses STOPSIGNAL as an import change).
import_tar_image() {
  local tarfile=$1 image=$2; shift 2
  local base="$image-import"
  docker import "$tarfile" "$base" >/dev/null
  local ctx; ctx=$(mktemp -d)
  { printf 'FROM %s\n' "$base"; local l; for l in "$@"; do printf '%s\n' "$l"; done; } >"$ctx/Dockerfile"
  docker_build_dir "$image" "$ctx"
  docker rmi "$base" >/dev/null 2>&1 || true
  rm -rf "$ctx"
}

# recipe_hash: a short hash of every script that shapes the node image and of
# the pinned versions, so any change to the recipe gives a new node image tag.
recipe_hash() {
  local d
  (cd "$PROJECT_ROOT" && cat scripts/versions.env &&
    for d in node kubernetes etcd coredns pause kube-router local-path busybox debian-net; do
      cat "infra/images/$d"/*.sh "infra/images/$d"/*.yaml 2>/dev/null || true
    done) | sha256sum | cut -c1-12
}

# image_tar IMAGE: where the `docker save` tarball of IMAGE is cached (keyed by
# the recipe hash, since a tag alone does not change when the recipe does).
image_tar() {
  # Hash checked apart: a failing $(...) as printf's argument goes unnoticed (wrong cache path).
  local h; h=$(recipe_hash) && [[ -n $h ]] || return 1
  printf '%s/node-images/%s/%s.tar\n' "$CACHE_DIR" "$h" "$(printf '%s' "$1" | tr '/:' '__')"
}

# build_image_tar IMAGE CONTEXT_DIR: build IMAGE from CONTEXT_DIR (its
# Dockerfile) and save it to image_tar, atomically. Skips work when cached.
build_image_tar() {
  local image=$1 ctx=$2 tar
  tar=$(image_tar "$image")
  if [[ -f $tar ]]; then log "image $image: cached"; return 0; fi
  mkdir -p "$(dirname "$tar")"
  docker_build_dir "$image" "$ctx" || die "docker build of $image failed (context $ctx)."
  docker save -o "$tar.tmp" "$image" || die "docker save of $image failed: disk full? (df -h $CACHE_DIR)"
  mv "$tar.tmp" "$tar"
  log "image $image: built"
}

# scratch_context DIR ENTRYPOINT_JSON BINARY...: prepare a build context for a
# FROM-scratch image holding static BINARY... in /usr/local/bin, with a PATH
# and an ENTRYPOINT (JSON array, or "" for none).
scratch_context() {
  local dir=$1 entry=$2; shift 2
  static_rootfs "$dir/rootfs" "$@"
  {
    printf 'FROM scratch\nCOPY rootfs/ /\n'
    printf 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin\n'
    if [[ -n $entry ]]; then printf 'ENTRYPOINT %s\n' "$entry"; fi
  } >"$dir/Dockerfile"
}

# binary_image IMAGE NAME VERSION BUILD_FN CONTEXT_FN: the recipe of the
# one-binary images. Builds NAME VERSION with BUILD_FN (cached), lets
# "CONTEXT_FN CTX BINDIR" fill a Docker build context from the build's output,
# builds IMAGE from it and prints the image tarball's path.
binary_image() {
  local image=$1 name=$2 version=$3 build_fn=$4 context_fn=$5 ctx
  need_go
  cached_build "$name" "$version" "$build_fn"
  ctx=$(mktemp -d)
  "$context_fn" "$ctx" "$BUILD_DIR/$name-$version"
  build_image_tar "$image" "$ctx"
  rm -rf "$ctx"
  image_tar "$image"
}
