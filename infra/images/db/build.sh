#!/usr/bin/env bash
# build.sh: build the database images the chart is tested with, from Debian
# packages only (no container registry needed).
#
#   infra/images/db/build.sh [mysql-9.7|mariadb-11.8|mariadb-10.11|mysqld-exporter|rclone|all|sysbench]   (default: all)
#
# mysqld-exporter is the chart's metrics sidecar (metrics.enabled); rclone is the S3 client the
# chart copies into its backup Job and restoring pod (backup.s3, restore.from.s3). sysbench (the benchmark's load
# generator, scripts/bench/lag.ts) is built on request only: `all` is what the tests need.
#
# Each image is a debootstrap --variant=minbase root file system of one Debian
# suite plus the server, client and backup packages (Depends only, no
# Recommends), trimmed (no apt lists, docs, man pages, locales), with a
# non-root user mysql (uid/gid 999), then `docker import`ed with its config
# (PATH, USER 999, CMD, labels).
#
# Idempotent: the root file system tarball is cached under
# $CACHE_DIR/images/db/<key>.tar.gz, where <key> names the suite, the pinned server
# package version (scripts/versions.env) and a hash of the recipe. When the
# docker image with the tag already carries that key as a label, nothing is
# done; when only the tarball exists, it is imported again. Everything is
# written to temporary paths and renamed on success.
#
# Environment: DEBIAN_MIRROR overrides the mirror read from /etc/apt/sources*;
# DB_IMAGES_REBUILD=1 ignores the caches and builds again.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source-path=SCRIPTDIR

# shellcheck source=../../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/common.sh"

# Bump when the recipe below changes in a way that changes the image contents.
RECIPE_REV=2
KEY_LABEL=org.mysql-chart.build-key
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
IMAGES_DIR="$CACHE_DIR/images/db"
BUILD_DIR="$CACHE_DIR/build"
LOG_DIR="$CACHE_DIR/logs"
DEB_CACHE_DIR="$CACHE_DIR/debs"
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# What the chart's in-pod scripts call, on top of minbase (which already has
# bash, coreutils, sed, grep, mawk, findutils, gzip, hostname, passwd).
COMMON_PKGS="bash,coreutils,sed,grep,gawk,findutils,procps,socat,gzip,tzdata,ca-certificates,openssl,hostname,passwd,curl"

# Temporary root file systems of this run, removed on exit.
TMP_ROOTS=()

# usage: print how to call the script and exit 2.
usage() {
  echo "usage: $0 [mysql-9.7|mariadb-11.8|mariadb-10.11|mysqld-exporter|rclone|all|sysbench]" >&2
  exit 2
}

# target_vars NAME: set SUITE, TAG, SERVER_PKG, PIN, PKGS, CMD_JSON, PORTS for
# one image target.
target_vars() {
  case $1 in
    mysql-9.7)
      SUITE=$DEBIAN_SUITE_MYSQL
      TAG=$LOCAL_IMAGE_MYSQL_9_7
      SERVER_PKG=mysql-server-core
      PIN=$MYSQL_9_7_DEB_VERSION
      PKGS="mysql-server-core,mysql-client-core"
      CMD_JSON='["mysqld"]'
      PORTS="3306 33060"
      ;;
    mariadb-11.8|mariadb-10.11)
      if [[ $1 == mariadb-11.8 ]]; then
        SUITE=$DEBIAN_SUITE_MARIADB_11_8; TAG=$LOCAL_IMAGE_MARIADB_11_8; PIN=$MARIADB_11_8_DEB_VERSION
      else
        SUITE=$DEBIAN_SUITE_MARIADB_10_11; TAG=$LOCAL_IMAGE_MARIADB_10_11; PIN=$MARIADB_10_11_DEB_VERSION
      fi
      SERVER_PKG=mariadb-server-core
      PKGS="mariadb-server-core,mariadb-client,mariadb-backup"
      CMD_JSON='["mariadbd"]'
      PORTS="3306"
      ;;
    mysqld-exporter)
      SUITE=$DEBIAN_SUITE_EXPORTER
      TAG=$LOCAL_IMAGE_EXPORTER
      SERVER_PKG=prometheus-mysqld-exporter
      PIN=$MYSQLD_EXPORTER_DEB_VERSION
      PKGS="prometheus-mysqld-exporter"
      # The name the upstream image (prom/mysqld-exporter) runs, linked in customize_root.
      CMD_JSON='["/bin/mysqld_exporter"]'
      PORTS="9104"
      ;;
    rclone)
      SUITE=$DEBIAN_SUITE_RCLONE
      TAG=$LOCAL_IMAGE_RCLONE
      SERVER_PKG=rclone
      PIN=$RCLONE_DEB_VERSION
      PKGS="rclone"
      # The chart copies /usr/local/bin/rclone (upstream image's path), linked in customize_root.
      CMD_JSON='["rclone"]'
      PORTS=""
      ;;
    sysbench)
      SUITE=$DEBIAN_SUITE_SYSBENCH
      TAG=$LOCAL_IMAGE_SYSBENCH
      SERVER_PKG=sysbench
      PIN=$SYSBENCH_DEB_VERSION
      PKGS="sysbench"
      CMD_JSON='["sysbench"]'
      PORTS=""
      ;;
    *) usage ;;
  esac
}

# debian_mirror: the Debian archive mirror configured on this machine (not the
# security archive), or DEBIAN_MIRROR when set.
debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
      | grep -v '^[[:space:]]*#' \
      | grep -oE '(https?)://[^ ]*/debian/?( |$)' \
      | grep -v -- '-security' | head -n1 | tr -d ' ' || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# build_key NAME: the cache key of one target: name, suite, pinned version and
# a hash of everything in the recipe that shapes the image.
build_key() {
  local recipe hash
  recipe="rev=$RECIPE_REV|suite=$SUITE|pkgs=$PKGS|common=$COMMON_PKGS|pin=$PIN|cmd=$CMD_JSON|path=$IMAGE_PATH"
  hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-12) || return 1  # runs inside $(...): set -e may be off
  printf '%s-%s-%s-%s' "$1" "$SUITE" "$(printf '%s' "$PIN" | tr ':+~' '___')" "$hash"
}

# image_key TAG: the build key label of the docker image TAG, empty when absent.
image_key() {
  docker image inspect "$1" --format "{{ index .Config.Labels \"$KEY_LABEL\" }}" 2>/dev/null || true
}

# unmount_under DIR: unmount everything mounted at or below DIR (deepest
# first), so that removing DIR can never reach into /proc, /sys or /dev.
unmount_under() {
  local dir mnt
  dir=$(realpath -m "$1")
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r mnt; do
    umount -l "$mnt" 2>/dev/null || true
  done
}

# remove_root DIR: safely delete a temporary root file system and its
# not-yet-renamed tarball and manifest.
remove_root() {
  [[ -n $1 ]] || return 0
  rm -f "$1.tar.gz" "$1.packages.txt"
  [[ -d $1 ]] || return 0
  unmount_under "$1"
  rm -rf --one-file-system "$1"
}

# cleanup: on exit, remove this run's temporary root file systems.
cleanup() {
  local r
  for r in "${TMP_ROOTS[@]}"; do remove_root "$r"; done
}

# in_root ROOT SCRIPT: run a POSIX shell script inside ROOT with a clean
# environment (chroot keeps absolute symlinks such as /var/run inside ROOT).
in_root() {
  chroot "$1" /usr/bin/env -i PATH="$IMAGE_PATH" LC_ALL=C /bin/sh -eu -c "$2"
}

# customize_root ROOT NAME: add the mysql user, set up the server directories,
# check the pinned version, and trim the root file system. The single-quoted
# scripts are meant to expand inside the root, not here.
# shellcheck disable=SC2016
customize_root() {
  local root=$1 name=$2 got
  got=$(in_root "$root" "dpkg-query -W -f '\${Version}' $SERVER_PKG")
  # debootstrap installs whatever the suite carries today: a moved suite is reported, not fatal,
  # so a fresh machine still builds after a routine Debian update (the tests then prove the new one).
  if [[ $got != "$PIN" ]]; then
    log "WARNING: $SUITE now carries $SERVER_PKG $got; scripts/versions.env expects $PIN. Building with $got; update the pin after checking it."
  fi

  # The mysql user and group with the ids the official images use.
  in_root "$root" '
    if getent group 999 >/dev/null && [ "$(getent group 999 | cut -d: -f1)" != mysql ]; then echo "gid 999 is taken" >&2; exit 1; fi
    if getent passwd 999 >/dev/null && [ "$(getent passwd 999 | cut -d: -f1)" != mysql ]; then echo "uid 999 is taken" >&2; exit 1; fi
    getent group mysql >/dev/null || groupadd --system --gid 999 mysql
    getent passwd mysql >/dev/null || useradd --system --uid 999 --gid 999 --home-dir /var/lib/mysql --no-create-home --shell /usr/sbin/nologin --comment "MySQL Server" mysql
    [ "$(id -u mysql):$(id -g mysql)" = 999:999 ]'

  # Server directories: an empty datadir (the chart initialises its own), the
  # socket/pid directory, the log directory and MySQL's secure_file_priv dir.
  in_root "$root" '
    rm -rf /var/lib/mysql /run/mysqld
    mkdir -p /var/lib/mysql /run/mysqld /var/log/mysql /etc/mysql/conf.d
    chown 999:999 /var/lib/mysql /run/mysqld /var/log/mysql
    chmod 0750 /var/lib/mysql
    chmod 1777 /run/mysqld
    if [ -x /usr/sbin/mysqld ] && [ ! -e /usr/sbin/mariadbd ]; then
      mkdir -p /var/lib/mysql-files /var/lib/mysql-keyring
      chown 999:999 /var/lib/mysql-files /var/lib/mysql-keyring
      chmod 0750 /var/lib/mysql-files /var/lib/mysql-keyring
      if [ ! -e /etc/mysql/my.cnf ]; then
        printf "%s\\n" "# No mysql-common in this image: read the files the chart drops in conf.d." "!includedir /etc/mysql/conf.d/" >/etc/mysql/my.cnf
      fi
    fi'

  # The exporter under the path the upstream image uses, so the chart runs either image alike.
  in_root "$root" '
    if [ -x /usr/bin/prometheus-mysqld-exporter ]; then ln -sf prometheus-mysqld-exporter /usr/bin/mysqld_exporter; fi'
  # rclone under the path of the upstream image (rclone/rclone), which the chart copies from.
  in_root "$root" '
    if [ -x /usr/bin/rclone ]; then mkdir -p /usr/local/bin && ln -sf /usr/bin/rclone /usr/local/bin/rclone; fi'

  # Keep later package installs small, the way Debian's slim images do.
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/90-container-minimal" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
  cat >"$root/etc/apt/apt.conf.d/90-container-minimal" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF

  # Trim: apt state, logs, docs (keeping copyright files), man pages, locales,
  # and files copied from the build host (resolv.conf, hostname).
  in_root "$root" '
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/log/apt/* /var/log/*.log
    find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
    find /usr/share/doc -mindepth 1 -type d -empty -delete
    rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/share/lintian /usr/share/linda /usr/share/groff /usr/share/bug
    rm -f /etc/resolv.conf /etc/hostname
    if [ -e /etc/machine-id ]; then : >/etc/machine-id; fi
    if command -v systemctl >/dev/null 2>&1; then echo "systemd got installed" >&2; exit 1; fi'
  unmount_under "$root"
  rm -rf --one-file-system "${root:?}"/dev/* "${root:?}"/proc/* "${root:?}"/sys/* "${root:?}"/tmp/* "${root:?}"/var/tmp/*

  in_root "$root" "dpkg-query -W -f '\${Package}\t\${Version}\n'" >"$root.packages.txt"
  log "$name: $SERVER_PKG $got, $(wc -l <"$root.packages.txt") packages, root file system $(du -sh --one-file-system "$root" | cut -f1)"
}

# build_rootfs NAME KEY: debootstrap, customise and tar one root file system
# into $IMAGES_DIR/KEY.tar.gz (renamed into place on success).
build_rootfs() {
  local name=$1 key=$2 root mirror
  mirror=$(debian_mirror)
  mkdir -p "$BUILD_DIR" "$IMAGES_DIR" "$DEB_CACHE_DIR/$SUITE"
  root=$(mktemp -d "$BUILD_DIR/$name.XXXXXX")
  TMP_ROOTS+=("$root")
  chmod 0755 "$root"
  log "$name: debootstrap $SUITE from $mirror"
  run_logged "$name: debootstrap $SUITE" "$LOG_DIR/db-image-$name-debootstrap.log" \
    debootstrap --variant=minbase --keyring="$KEYRING" --cache-dir="$DEB_CACHE_DIR/$SUITE" \
      --include="$COMMON_PKGS,$PKGS" "$SUITE" "$root" "$mirror"
  customize_root "$root" "$name"
  run_logged "$name: tar root file system" "$LOG_DIR/db-image-$name-tar.log" \
    tar --numeric-owner --xattrs --xattrs-include='security.capability' -C "$root" -I 'gzip -1' -cf "$root.tar.gz" .
  mv -f "$root.packages.txt" "$IMAGES_DIR/$key.packages.txt"
  mv -f "$root.tar.gz" "$IMAGES_DIR/$key.tar.gz"
  remove_root "$root"
  prune_old_tarballs "$name" "$key"
}

# prune_old_tarballs NAME KEY: delete NAME's cached tarballs of other keys.
prune_old_tarballs() {
  local f
  for f in "$IMAGES_DIR/$1"-*.tar.gz; do
    [[ -e $f && $f != "$IMAGES_DIR/$2.tar.gz" ]] || continue
    log "$1: removing outdated cache $(basename "$f")"
    rm -f "$f" "${f%.tar.gz}.packages.txt"
  done
}

# import_image NAME KEY: docker import the cached tarball as TAG with the image
# config, via a temporary tag that is renamed on success.
import_image() {
  local name=$1 key=$2 tmp_tag port old_id
  local -a changes=(
    --change "ENV PATH=$IMAGE_PATH"
    --change "ENV LANG=C.UTF-8"
    --change "USER 999"
    --change "WORKDIR /var/lib/mysql"
    --change "CMD $CMD_JSON"
    --change "LABEL $KEY_LABEL=\"$key\""
    --change "LABEL org.opencontainers.image.title=\"$name\""
    --change "LABEL org.opencontainers.image.version=\"$PIN\""
    --change "LABEL org.opencontainers.image.base.name=\"debian:$SUITE\""
    --change "LABEL org.opencontainers.image.description=\"$SERVER_PKG $PIN on Debian $SUITE (debootstrap minbase)\""
  )
  for port in $PORTS; do changes+=(--change "EXPOSE $port"); done
  tmp_tag="$TAG-import-$$"
  old_id=$(docker image inspect "$TAG" --format '{{.Id}}' 2>/dev/null || true)
  run_logged "$name: docker import" "$LOG_DIR/db-image-$name-import.log" \
    docker import "${changes[@]}" "$IMAGES_DIR/$key.tar.gz" "$tmp_tag"
  docker tag "$tmp_tag" "$TAG"
  docker rmi "$tmp_tag" >/dev/null
  # The replaced image, if nothing else uses it (fails harmlessly otherwise).
  if [[ -n $old_id && $old_id != "$(docker image inspect "$TAG" --format '{{.Id}}')" ]]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true
  fi
  [[ $(image_key "$TAG") == "$key" ]] || die "$TAG was imported but does not carry label $KEY_LABEL=$key"
}

# build_one NAME: make sure the image of one target is present and current.
build_one() {
  local name=$1 key t0 lock
  t0=$(date +%s)
  target_vars "$name"
  key=$(build_key "$name")
  mkdir -p "$IMAGES_DIR"
  lock="$IMAGES_DIR/.$name.lock"
  exec {lockfd}>"$lock"
  flock "$lockfd"
  if [[ ${DB_IMAGES_REBUILD:-0} != 1 && $(image_key "$TAG") == "$key" ]]; then
    log "$name: $TAG is current ($key), nothing to do"
  else
    if [[ ${DB_IMAGES_REBUILD:-0} == 1 || ! -s "$IMAGES_DIR/$key.tar.gz" ]]; then
      build_rootfs "$name" "$key"
    else
      log "$name: using cached root file system $IMAGES_DIR/$key.tar.gz"
    fi
    import_image "$name" "$key"
    # A new image proves itself before anything uses it; a failed one is removed, so the next
    # run builds it again instead of taking it as current.
    if ! bash "$(dirname "${BASH_SOURCE[0]}")/verify.sh" "$TAG"; then
      docker rmi "$TAG" >/dev/null 2>&1 || true
      die "$name: the new image $TAG failed its self-check (infra/images/db/verify.sh)"
    fi
  fi
  flock -u "$lockfd"
  exec {lockfd}>&-
  SUMMARY+=("$(printf '%-14s %-34s %6ss  %s' "$name" "$TAG" "$(( $(date +%s) - t0 ))" \
    "$(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')")")
}

# main ARGS: build the requested target(s) and print a summary.
main() {
  local target=${1:-all} t
  [[ $# -le 1 ]] || usage
  [[ $(id -u) == 0 ]] || die "debootstrap and chroot need root."
  ensure_apt_packages debootstrap debian-archive-keyring
  need_cmd docker "Run: bash infra/docker/ensure-docker.sh"
  need_cmd flock "Run: apt-get install -y util-linux"
  [[ -r $KEYRING ]] || die "$KEYRING is missing. Run: apt-get install -y debian-archive-keyring"
  docker info >/dev/null 2>&1 || die "No Docker daemon answers. Run: bash infra/docker/ensure-docker.sh"
  trap cleanup EXIT
  local -a targets
  case $target in
    all) targets=(mysql-9.7 mariadb-11.8 mariadb-10.11 mysqld-exporter rclone) ;;
    mysql-9.7|mariadb-11.8|mariadb-10.11|mysqld-exporter|rclone|sysbench) targets=("$target") ;;
    *) usage ;;
  esac
  SUMMARY=()
  for t in "${targets[@]}"; do build_one "$t"; done
  log "done:"
  printf '  %s\n' "${SUMMARY[@]}" >&2
}

main "$@"
