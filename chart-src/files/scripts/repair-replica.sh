#!/usr/bin/env bash
# repair-replica.sh: a replica that can never continue replicating (the primary has purged the
# binary logs it needs, or its history diverged from the primary's) re-clones itself from the
# primary, run by the sidecar: it marks the data volume (RECLONE_MARKER), stops the server, which
# then waits for the marker to go (run-server.sh; probe.sh keeps it alive, not Ready), copies the
# primary into a staging directory, swaps it in, and points replication at the primary again.
# AUTO_RECLONE=false (recovery.autoReclone) only reports it. Sourced by replication-sidecar.sh
# after lib.sh and passwords.sh; it loads kube-api.sh and the flavor's clone.sh itself.

# shellcheck source=kube-api.sh
. "$(dirname "${BASH_SOURCE[0]}")/kube-api.sh"
# shellcheck source=mysql/clone.sh
. "$(dirname "${BASH_SOURCE[0]}")/clone.sh"

# Where check_replica_health remembers a reason until the next check confirms it.
SUSPECT_FILE="$RUN_DIR/replica-broken.suspect"
# How many checks check_replica_health has made in this sidecar.
HEALTH_CHECKS=0

# broken_reason: why this replica can never continue, on one line; nothing when it can.
broken_reason() {
  local status errno error primary_cnf="$RUN_DIR/primary-root.cnf" mine theirs errant
  status=$(status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" Last_IO_Errno Last_IO_Error) || return 1
  IFS=$'\t' read -r errno error <<<"$status"
  if [[ -n "$errno" && "$errno" != 0 ]] && flavor_source_gave_up "$errno"; then
    echo "the primary refuses to send what this replica needs (error $errno: $error)"
    return 0
  fi
  declare -F flavor_errant_gtids >/dev/null || return 0
  # Set empty by check_replica_health on the checks that skip the comparison (see there).
  [[ -n "${COMPARE_HISTORIES-yes}" ]] || return 0
  remote_root_cnf "$primary_cnf" "$PRIMARY_HOST" || return 1
  # This replica's state first: whatever it holds that the primary lacks afterwards is errant.
  mine=$(flavor_gtid_state "$CLIENT_CNF") || return 1
  theirs=$(flavor_gtid_state "$primary_cnf" 2>/dev/null) || return 0 # primary away: nothing to compare
  errant=$(flavor_errant_gtids "$mine" "$theirs") || return 1
  [[ -z "$errant" ]] || echo "its history diverged from the primary's: errant transactions $errant"
}

# check_replica_health: re-clone (or report) when the same reason is seen on two checks in a row,
# so a passing state never triggers it.
check_replica_health() {
  local reason previous compare=""
  # Comparing histories logs in to the primary over the network (TLS) and runs three queries: it
  # runs at the first check, then once every GTID_COMPARE_EVERY checks (a minute at the sidecar's
  # 10 s), and at every check while a reason is suspected, so a second sighting confirms it at
  # once. The error check (a local status read) runs every time.
  if [[ -s "$SUSPECT_FILE" ]] || (( HEALTH_CHECKS % ${GTID_COMPARE_EVERY:-6} == 0 )); then compare=yes; fi
  HEALTH_CHECKS=$((HEALTH_CHECKS + 1))
  reason=$(COMPARE_HISTORIES=$compare broken_reason) || { log "cannot read the replication state"; return 0; }
  if [[ -z "$reason" ]]; then
    rm -f "$SUSPECT_FILE"
    return 0
  fi
  previous=$(cat "$SUSPECT_FILE" 2>/dev/null) || previous=""
  echo "$reason" >"$SUSPECT_FILE"
  [[ "$reason" == "$previous" ]] || return 0
  if [[ "${AUTO_RECLONE:-true}" != true ]]; then
    if [[ ! -e "$SUSPECT_FILE.reported" ]]; then
      log "this replica cannot continue: $reason; recovery.autoReclone=false: not re-cloning (delete the pod and its claim to re-create it)"
      pod_event Warning ReplicaBroken "This replica cannot continue: $reason. recovery.autoReclone=false: delete the pod and its claim to re-create it."
      touch "$SUSPECT_FILE.reported"
    fi
    return 0
  fi
  reclone_self "$reason"
}

# reclone_self REASON: replace this replica's data with a fresh copy of the primary's.
reclone_self() {
  local reason=${1:?reclone_self needs REASON} start=$SECONDS
  log "this replica cannot continue: $reason; re-cloning it from $PRIMARY_HOST"
  pod_event Warning RecloningReplica "This replica cannot continue: $reason. Re-cloning it from $PRIMARY_HOST."
  echo "$reason" >"$RECLONE_MARKER" || die "cannot write $RECLONE_MARKER"
  "$ADMIN_BIN" --defaults-extra-file="$CLIENT_CNF" shutdown >/dev/null 2>&1 || true
  # Stopped: it no longer answers and has removed its pid file (a crash leaves one: 120 s at most).
  while sql "$CLIENT_CNF" --connect-timeout=2 <<<"SELECT 1" >/dev/null 2>&1 || { [[ -e "$RUN_DIR/mysqld.pid" ]] && (( SECONDS - start < 120 )); }; do
    (( SECONDS - start < 600 )) || die "the server did not stop in 600s"
    sleep 1
  done
  log "server stopped; copying $PRIMARY_HOST"
  rm -rf "$STAGING_DIR"
  copy_with_retries "$PRIMARY_HOST" flavor_clone_into \
    || die "could not clone $PRIMARY_HOST after ${CLONE_ATTEMPTS:-5} attempts; the sidecar restarts and the check runs again"
  # The old copy goes: it cannot be replicated to, and what it alone held is named in the Event.
  rm -rf "$DATADIR"
  promote_staging
  rm -f "$RECLONE_MARKER" "$SUSPECT_FILE"
  log "re-cloned from $PRIMARY_HOST in $((SECONDS - start))s; waiting for the server"
  until wait_for_server "$CLIENT_CNF" 3600 "local server"; do :; done
  configure_replication
  pod_event Normal ReplicaRecloned "Re-cloned from $PRIMARY_HOST in $((SECONDS - start))s; replicating again."
}
