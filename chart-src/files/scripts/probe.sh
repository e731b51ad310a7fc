#!/usr/bin/env bash
# probe.sh startup|liveness|readiness: the database container's probes. Each authenticates as
# root through the local socket. Liveness never looks at replication (a broken replica must
# not be restarted in a loop); readiness on a replica also requires both replication threads
# running and a lag of at most MAX_LAG_SECONDS.
set -euo pipefail
LOG_TAG=probe
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql/flavor.sh
. "$(dirname "${BASH_SOURCE[0]}")/flavor.sh"

# replica_ready: 0 when both replication threads run and the lag is within bounds.
replica_ready() {
  local io sqlt lag
  IFS=$'\t' read -r io sqlt lag < <(status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" \
    "$REPLICA_IO_FIELD" "$REPLICA_SQL_FIELD" "$REPLICA_LAG_FIELD")
  if [[ "$io" != "Yes" || "$sqlt" != "Yes" ]]; then
    echo "replication not running (io=${io:-none} sql=${sqlt:-none})"
    return 1
  fi
  if [[ ! "$lag" =~ ^[0-9]+$ ]] || (( lag > ${MAX_LAG_SECONDS:-60} )); then
    echo "replica lag ${lag:-unknown}s is over ${MAX_LAG_SECONDS:-60}s"
    return 1
  fi
}

main() {
  local mode=${1:-}
  ensure_root_cnf
  case "$mode" in
    startup|liveness)
      sql "$CLIENT_CNF" --connect-timeout=4 <<<"SELECT 1" >/dev/null
      ;;
    readiness)
      sql "$CLIENT_CNF" --connect-timeout=4 <<<"SELECT 1" >/dev/null
      if (( $(pod_ordinal "$POD_NAME") > 0 )); then
        replica_ready
      fi
      ;;
    *)
      die "usage: probe.sh startup|liveness|readiness"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
