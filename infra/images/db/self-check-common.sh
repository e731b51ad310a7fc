#!/usr/bin/env bash
# self-check-common.sh: the part of the image self-check both flavors share.
# verify.sh feeds it into the container ahead of self-check-<flavor>.sh, which
# defines `fail` (it knows which logs to show) and calls image_basics.
# shellcheck disable=SC2317  # the functions are called by the flavor's script

# fact KEY VALUE: one collected fact.
fact() { printf 'FACT %s=%s\n' "$1" "$2"; }

# names DIR [GLOB]: the sorted names of DIR's entries (matching GLOB) on one line.
names() { find "$1" -mindepth 1 -maxdepth 1 -name "${2:-*}" -printf '%f\n' | sort | tr '\n' ' '; }

# identity: who the image runs as and its OS.
identity() {
  fact uid "$(id -u):$(id -g) ($(id -un))"
  fact os "$(. /etc/os-release && echo "$PRETTY_NAME")"
}

# probe_failed MSG: a helper image's fail (the database images' scripts show the server's logs too).
probe_failed() {
  echo "PROBE FAILED: $*" >&2
  exit 1
}

# image_basics: who the image runs as, its OS, and what the chart's scripts
# need besides the server: the shell tools, time zones and CA certificates,
# and no systemd.
image_basics() {
  local b
  identity
  for b in bash sed grep gawk find ps socat gzip openssl hostname curl; do
    command -v "$b" >/dev/null || fail "$b missing from the image"
  done
  [[ -e /usr/share/zoneinfo/UTC && -e /etc/ssl/certs/ca-certificates.crt ]] || fail "tzdata or ca-certificates missing"
  ! command -v systemctl >/dev/null || fail "systemd is in the image"
}
