#!/usr/bin/env bash
# replication-sidecar.sh (sidecar container): once the local server answers, a replica points
# replication at the primary from the position its clone carried and starts it (once: later
# starts find it configured, and the server resumes replication by itself). Then, where the
# flavor needs it (MariaDB), it serves backups to the next new replica; otherwise it idles.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql/flavor.sh
. "$(dirname "${BASH_SOURCE[0]}")/flavor.sh"

main() {
  # A shell as PID 1 ignores SIGTERM unless it traps it: stop at once on pod deletion.
  trap 'log "stopping"; exit 0' TERM INT
  require_env POD_NAME
  local ordinal
  ordinal=$(pod_ordinal "$POD_NAME")
  ensure_root_cnf
  log "waiting for the local server"
  until wait_for_server "$CLIENT_CNF" 3600 "local server"; do :; done
  if (( ordinal > 0 )); then
    flavor_configure_replication
  fi
  if declare -F flavor_serve_backups >/dev/null; then
    flavor_serve_backups
  fi
  log "idle"
  while :; do
    sleep 3600 &
    wait $! || true
  done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
