#!/usr/bin/env bash
# run-server.sh (database container): start the server on the assembled my.cnf. exec makes
# the server PID 1, so it receives SIGTERM and shuts down cleanly and promptly.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  [[ -s "$MY_CNF" ]] || die "$MY_CNF is missing: the choose-config init container did not run"
  local waited=0
  while [[ -e "$RECLONE_MARKER" ]]; do
    (( waited % 60 )) || log "the sidecar is re-cloning this replica ($(cat "$RECLONE_MARKER" 2>/dev/null || true)); waiting (${waited}s)"
    sleep 2
    waited=$((waited + 2))
  done
  # Never start on an empty directory: the server would create a blank instance (a replica
  # with no data must not become Ready).
  [[ -d "$DATADIR/mysql" ]] || die "$DATADIR holds no database: the prepare-data init container did not finish"
  local first_start=()
  if [[ -f "$DATADIR/$FIRST_START_SQL_NAME" ]]; then
    # Replication is not started (the SQL may reset it), and writes wait for the SQL to succeed.
    log "first start on this data: running $FIRST_START_SQL_NAME before accepting connections, read-only until it succeeds"
    first_start=(--init-file="$DATADIR/$FIRST_START_SQL_NAME" "${FLAVOR_SKIP_REPLICA_START[@]}" --read-only=ON)
  fi
  if [[ -e "$BOOTSTRAP_MARKER" ]]; then
    # Pod 0 replicates from bootstrap.cloneFrom's source until the cut-over (bootstrap.sh).
    log "replicating from bootstrap.cloneFrom's source until the cut-over: read-only"
    first_start+=(--super-read-only=ON)
  fi
  log "starting $SERVER_BIN"
  exec "$SERVER_BIN" --defaults-file="$MY_CNF" "${first_start[@]}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
