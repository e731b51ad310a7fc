#!/usr/bin/env bash
# pre-stop.sh (database container, preStop hook): prepare the server for a prompt shutdown
# before the kubelet sends SIGTERM. A running event scheduler holds a primary's shutdown for
# about 8 s (MySQL 9.7, measured), so it is stopped first; the setting is not persisted, and the
# server starts with its configured value again. Never fails: the shutdown goes ahead regardless.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG="pre-stop"
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  local state
  ensure_root_cnf || { log "cannot log in; shutting down as is"; return 0; }
  if ! state=$(sql "$CLIENT_CNF" --connect-timeout=3 <<<"SELECT @@GLOBAL.event_scheduler" 2>/dev/null); then
    log "the server does not answer; shutting down as is"
    return 0
  fi
  if [[ "$state" != "ON" && "$state" != "1" ]]; then
    return 0
  fi
  if sql "$CLIENT_CNF" --connect-timeout=3 <<<"SET GLOBAL event_scheduler = OFF" 2>/dev/null; then
    log "event scheduler stopped before shutdown"
  else
    log "could not stop the event scheduler; shutting down as is"
  fi
  return 0
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
