#!/usr/bin/env bash
# Shared helpers for the project's host-side scripts: pinned versions, cache
# location, progress logging with elapsed time, and clear failures.
# Source it; it does not change shell options of the caller.

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PROJECT_ROOT

# shellcheck source=../versions.env
set -a; . "$PROJECT_ROOT/scripts/versions.env"; set +a

# Everything built or downloaded lives here, keyed by version, outside the repo.
CACHE_DIR="${MYSQL_CHART_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mysql-chart-toolkit}"
TOOLS_BIN="$CACHE_DIR/bin"
export CACHE_DIR TOOLS_BIN
mkdir -p "$TOOLS_BIN"
case ":$PATH:" in *":$TOOLS_BIN:"*) ;; *) PATH="$TOOLS_BIN:$PATH" ;; esac
export PATH

_COMMON_T0=${_COMMON_T0:-$(date +%s)}
export _COMMON_T0

# elapsed: seconds since the top-level script started, as "Ns" or "MmSSs".
elapsed() {
  local s=$(( $(date +%s) - _COMMON_T0 ))
  if (( s >= 60 )); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

# log MSG...: a progress line on stderr with the elapsed time.
log() { printf '[%s %6s] %s\n' "$(date +%H:%M:%S)" "$(elapsed)" "$*" >&2; }

# die MSG...: print what went wrong and what to do, then exit 1.
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

# need_cmd CMD HINT: fail with HINT when CMD is not on PATH.
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed. $2"; }

# run_logged NAME LOGFILE CMD...: run a long step with its output in LOGFILE,
# print a heartbeat every 30 s, and on failure show the log's tail and its path.
run_logged() {
  local name=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$logfile")"
  log "$name: started (log: $logfile)"
  local t0; t0=$(date +%s)
  "$@" >"$logfile" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    local now; now=$(date +%s)
    if (( (now - t0) % 30 < 5 && now - t0 >= 30 )); then log "$name: still running ($(( now - t0 ))s)"; fi
  done
  if ! wait "$pid"; then
    tail -n 40 "$logfile" >&2
    die "$name failed after $(( $(date +%s) - t0 ))s. Full log: $logfile"
  fi
  log "$name: done in $(( $(date +%s) - t0 ))s"
}

# is_ci: true when running under CI (no prompts, no interactivity).
is_ci() { [[ "${CI:-}" == "true" ]]; }

# ensure_apt_packages PKG...: install the Debian packages that are missing (root, apt-get);
# runs apt-get update first when the package lists are empty or stale, as on a fresh machine.
ensure_apt_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  (( ${#missing[@]} )) || return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and apt-get is not available: install them and re-run."
  [[ $(id -u) == 0 ]] || die "missing packages ${missing[*]}: run as root, or install them with sudo apt-get install ${missing[*]}"
  mkdir -p "$CACHE_DIR/logs"
  run_logged "apt-get install ${missing[*]}" "$CACHE_DIR/logs/apt-get-install.log" \
    env DEBIAN_FRONTEND=noninteractive bash -c 'apt-get install -y -qq --no-install-recommends "$@" || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"; }' _ "${missing[@]}"
}
