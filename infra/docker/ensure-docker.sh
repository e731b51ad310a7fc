#!/usr/bin/env bash
# ensure-docker.sh: make sure a Docker engine answers `docker info`.
#
# Idempotent. When a daemon already answers, nothing is changed. Otherwise
# (as root) Debian's docker.io is installed with apt-get and dockerd is started
# in the background, logging to $CACHE_DIR/logs/dockerd.log.
#
# Machines whose capability bounding set lacks CAP_SYS_RESOURCE (some VMs and
# sandboxes) cannot start `--privileged` containers ("unable to apply caps:
# operation not permitted"), which kind needs. Only on such machines a small
# OCI runtime wrapper (runc-drop-caps.sh) is installed and registered as
# dockerd's default runtime; it removes that capability from the container
# spec and then runs runc. A normal laptop runs the stock runtime.
#
# Docker client: any client on PATH works. Debian's docker.io (20.10, API 1.41)
# ships /usr/bin/docker; a newer client (e.g. 28.x in /usr/local/bin) negotiates
# the API version down to the daemon's automatically. Both are fine for
# `docker build` (legacy builder), `docker run`, `docker import` and kind.
set -euo pipefail
shopt -s inherit_errexit

# shellcheck source=../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

WRAPPER_NAME=runc-drop-caps
WRAPPER_PATH=/usr/local/libexec/mysql-chart-toolkit/runc-drop-caps.sh
DOCKERD_LOG="$CACHE_DIR/logs/dockerd.log"

# docker_ok: true when a daemon answers.
docker_ok() { timeout 20 docker info >/dev/null 2>&1; }

# bounding_set_lacks_sys_resource: true when CAP_SYS_RESOURCE (bit 24) is not
# in this process's capability bounding set.
bounding_set_lacks_sys_resource() {
  local hex
  # Checked: (( )) on an unread value just fails, which the if/|| callers take as "has it".
  hex=$(awk '/^CapBnd:/ {print $2}' /proc/self/status) || die "cannot read /proc/self/status"
  [[ $hex =~ ^[0-9a-fA-F]+$ ]] || die "cannot read CapBnd from /proc/self/status (got '$hex')"
  (( (16#$hex >> 24 & 1) == 0 ))
}

# install_engine: apt-get install Debian's docker.io (dockerd, containerd, runc)
# without letting the package start a daemon on its own (we start it below).
install_engine() {
  [[ $(id -u) -eq 0 ]] || die "Docker is not running and this script is not root. Start Docker yourself (e.g. 'sudo systemctl start docker'), or run: sudo $0"
  need_cmd apt-get "Install Docker Engine by hand (https://docs.docker.com/engine/install/) and start it."
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -d /run/systemd/system && ! -e $policy ]]; then
    # No systemd: stop the package's init script from starting dockerd without our flags.
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1
  fi
  local rc=0
  # Subshells: run_logged dies on failure, which would exit before policy-rc.d is removed.
  ( run_logged "apt-get update" "$CACHE_DIR/logs/apt-get-update.log" apt-get update ) || rc=$?
  if (( rc == 0 )); then
    ( run_logged "apt-get install docker.io" "$CACHE_DIR/logs/apt-get-docker.log" \
      env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      docker.io containerd runc iptables jq ca-certificates ) || rc=$?
  fi
  (( created_policy )) && rm -f "$policy"
  (( rc == 0 )) || die "Installing docker.io failed; see the log above."
}

# install_wrapper: write the OCI runtime wrapper that removes CAP_SYS_RESOURCE
# from config.json (create/run) and from the --process file (exec), then runs runc.
install_wrapper() {
  need_cmd jq "Run: apt-get install -y jq"
  mkdir -p "$(dirname "$WRAPPER_PATH")"
  local tmp; tmp=$(mktemp "$WRAPPER_PATH.XXXXXX")
  cat >"$tmp" <<'WRAPPER'
#!/bin/bash
# OCI runtime wrapper installed by mysql-chart-toolkit's ensure-docker.sh.
# This host's capability bounding set lacks CAP_SYS_RESOURCE, so runc cannot
# grant it to privileged containers. Remove it from the spec, then run runc.
set -euo pipefail
DROP=CAP_SYS_RESOURCE
RUNC=${REAL_RUNC:-$(command -v runc)}

# strip FILE JQPATH: remove $DROP from every capability list at JQPATH in FILE.
strip() {
  local f=$1 path=$2 t
  [[ -f $f ]] || return 0
  grep -q "$DROP" "$f" || return 0
  t=$(mktemp "$f.XXXXXX")
  jq --arg d "$DROP" "if $path then $path |= with_entries(.value |= (if type == \"array\" then map(select(. != \$d)) else . end)) else . end" "$f" >"$t"
  chmod --reference="$f" "$t"; mv -f "$t" "$f"
}

args=("$@") cmd="" bundle="." process=""
for ((i = 0; i < ${#args[@]}; i++)); do
  a=${args[i]}
  if [[ -z $cmd ]]; then
    case $a in
      --root|--log|--log-format|--criu|--rootless) i=$((i + 1)) ;;
      -*) ;;
      *) cmd=$a ;;
    esac
    continue
  fi
  case $a in
    --bundle|-b) bundle=${args[i+1]:-.} ;;
    --bundle=*) bundle=${a#--bundle=} ;;
    --process|-p) process=${args[i+1]:-} ;;
    --process=*) process=${a#--process=} ;;
  esac
done
case $cmd in
  create|run) strip "$bundle/config.json" ".process.capabilities" ;;
  exec) [[ -n $process ]] && strip "$process" ".capabilities" ;;
esac
exec "$RUNC" "$@"
WRAPPER
  chmod 0755 "$tmp"; mv -f "$tmp" "$WRAPPER_PATH"
}

# start_dockerd: start dockerd in the background and wait until it answers.
start_dockerd() {
  [[ $(id -u) -eq 0 ]] || die "Docker is installed but not running, and this script is not root. Run: sudo $0"
  if [[ -d /run/systemd/system ]] && ! bounding_set_lacks_sys_resource; then
    log "starting docker with systemctl"
    systemctl start docker || die "systemctl start docker failed. See: journalctl -u docker"
  else
    local args=()
    if bounding_set_lacks_sys_resource; then
      install_wrapper
      log "capability bounding set lacks CAP_SYS_RESOURCE: using runtime wrapper $WRAPPER_PATH"
      args+=(--add-runtime "$WRAPPER_NAME=$WRAPPER_PATH" --default-runtime "$WRAPPER_NAME")
    fi
    # IP forwarding is needed for container networking; dockerd sets it too.
    sysctl -qw net.ipv4.ip_forward=1 2>/dev/null || true
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    nohup setsid dockerd "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
    echo $! >"$CACHE_DIR/dockerd.pid"
  fi
  local i
  for ((i = 0; i < 60; i++)); do
    docker_ok && return 0
    sleep 1
  done
  tail -n 30 "$DOCKERD_LOG" >&2 2>/dev/null || true
  die "Docker did not start within 60s. Read $DOCKERD_LOG; check free disk (df -h /var/lib/docker) and that no other dockerd is running (pgrep -a dockerd)."
}

# check_running_runtime: warn when a running daemon lacks the needed wrapper.
check_running_runtime() {
  bounding_set_lacks_sys_resource || return 0
  local rt; rt=$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null || true)
  if [[ $rt != "$WRAPPER_NAME" ]]; then
    log "WARNING: CAP_SYS_RESOURCE is missing from the capability bounding set and dockerd's default runtime is '$rt';"
    log "         privileged containers (kind nodes) may fail. Stop that dockerd and re-run $0 to restart it with the wrapper."
  fi
}

main() {
  if docker_ok; then
    check_running_runtime
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then install_engine; fi
  if pgrep -x dockerd >/dev/null 2>&1; then
    log "a dockerd process exists but does not answer yet; waiting"
    local i; for ((i = 0; i < 30; i++)); do docker_ok && return 0; sleep 1; done
    die "dockerd is running (pid $(pgrep -x dockerd | head -1)) but does not answer. Read $DOCKERD_LOG, stop it (kill <pid>) and re-run."
  fi
  start_dockerd
  log "docker is up: server $(docker version --format '{{.Server.Version}}' 2>/dev/null), client $(docker version --format '{{.Client.Version}}' 2>/dev/null) ($(command -v docker))"
}

main "$@"
