#!/usr/bin/env bash
# clone.sh (MySQL 9.7 / 8.4): how a new replica copies its donor before its first start: the
# clone plugin's CLONE INSTANCE, run from a temporary server on the staging directory.
# prepare-data.sh calls flavor_clone_into (and retries it). Sourced after lib.sh and flavor.sh.

# The staging directory whose empty instance runs, ready to clone into (flavor_prepare_clone_target).
CLONE_TARGET=""

# flavor_prepare_clone_target DIR: create an empty instance in DIR and start its temporary server,
# so that the clone starts the moment a donor is Ready: prepare-data.sh calls it before waiting
# for one (on a new installation, while the primary initialises). Kept while it runs; 1 on failure.
flavor_prepare_clone_target() {
  local dir=${1:?flavor_prepare_clone_target needs DIR} sock="$RUN_DIR/clone.sock" cnf="$RUN_DIR/clone-client.cnf"
  if [[ "$CLONE_TARGET" == "$dir" && -d "$dir/mysql" && -n "$TEMP_SERVER_PID" ]] && kill -0 "$TEMP_SERVER_PID" 2>/dev/null \
      && sql "$cnf" <<<"SELECT 1" >/dev/null 2>&1; then
    return 0
  fi
  discard_clone_target
  log "creating an empty instance in $dir to clone into"
  flavor_initialize_datadir "$dir"
  CLIENT_SOCKET=$sock write_client_cnf "$cnf" root "" || return 1
  start_temp_server "$dir" "$sock" "${FLAVOR_SKIP_REPLICA_START[@]}" || { log "temporary server did not start"; return 1; }
  wait_for_server "$cnf" 300 "temporary server" || { stop_temp_server "$cnf"; return 1; }
  CLONE_TARGET=$dir
}

# discard_clone_target: stop the empty instance's server (its directory is then discarded).
discard_clone_target() {
  stop_temp_server "$RUN_DIR/clone-client.cnf"
  CLONE_TARGET=""
}

# flavor_clone_into DIR DONOR_HOST [FINISH_SQL]: fill DIR with a copy of the donor's data with
# the clone plugin (CLONE INSTANCE FROM the donor into a temporary server on DIR); 1 on any
# failure. The clone also carries the donor's GTID set, so the replica later auto-positions.
# FINISH_SQL runs on the copy before it is shut down (recover-primary.sh's last step). 2 when the
# donor is busy with another clone (copy_with_retries asks again).
# Called under `||` (errexit is off inside): every step's failure is checked here.
flavor_clone_into() {
  local dir=${1:?flavor_clone_into needs DIR} donor=${2:?flavor_clone_into needs DONOR_HOST} finish_sql=${3-}
  local sock="$RUN_DIR/clone.sock" cnf="$RUN_DIR/clone-client.cnf" donor_cnf="$RUN_DIR/clone-donor.cnf"
  local clone_pw root_pw out status state error source bytes
  clone_pw=$(read_secret mysql-clone-password) || { discard_clone_target; return 1; }
  root_pw=$(read_secret mysql-root-password) || { discard_clone_target; return 1; }
  require_env CLONE_USER

  write_member_cnf "$donor_cnf" "$CLONE_USER" "$clone_pw" "$donor" || { discard_clone_target; return 1; }
  log "waiting for donor $donor to answer as $CLONE_USER"
  wait_for_server "$donor_cnf" "${DONOR_WAIT_SECONDS:-600}" "donor $donor" || { log "donor $donor did not answer"; discard_clone_target; return 1; }
  rm -f "$donor_cnf"

  flavor_prepare_clone_target "$dir" || { discard_clone_target; return 1; }
  # The server below ends with the clone, one way or the other.
  CLONE_TARGET=""

  # TLS: the donor verified against the release's CA (the clone plugin checks no hostname), the
  # release's certificate presented, as the clone account requires.
  log "cloning from $donor:$DB_PORT"
  # The server replaces its data with the donor's; having no supervisor to restart it,
  # it then reports ER 3707 and shuts down. The next start finishes the clone.
  out=$(sql "$cnf" 2>&1 <<SQL
SET GLOBAL clone_valid_donor_list = $(sql_string "$donor:$DB_PORT");
SET GLOBAL clone_ssl_ca = $(sql_string "$TLS_DIR/ca.crt");
SET GLOBAL clone_ssl_cert = $(sql_string "$TLS_DIR/tls.crt");
SET GLOBAL clone_ssl_key = $(sql_string "$TLS_DIR/tls.key");
CLONE INSTANCE FROM $(sql_string "$CLONE_USER")@$(sql_string "$donor"):$DB_PORT IDENTIFIED BY $(sql_string "$clone_pw") REQUIRE SSL;
SQL
  ) || true
  log "clone statement answered: ${out:-OK}"
  # 3634: the donor serves one clone at a time and serves another (replicas started side by side
  # ask at once); it refused before anything was copied, so the empty instance stays for the next try.
  if [[ "$out" == *"ERROR 3862"*"3634"* ]]; then
    CLONE_TARGET=$dir
    return 2
  fi
  # Any answer but 3707 (the clone done, the server unable to restart itself) is a failed clone:
  # the server keeps running, and the attempt is discarded at once.
  if [[ -n "$out" && "$out" != *"ERROR 3707"* ]]; then
    log "the clone from $donor failed"
    discard_clone_target
    return 1
  fi
  if ! wait_temp_server_exit 300; then
    log "the server kept running after CLONE: the clone did not replace its data"
    stop_temp_server "$cnf"
    return 1
  fi

  log "restarting on the cloned data to finish recovery"
  CLIENT_SOCKET=$sock write_client_cnf "$cnf" root "$root_pw" || return 1
  start_temp_server "$dir" "$sock" "${FLAVOR_SKIP_REPLICA_START[@]}" || { log "server did not start on the cloned data"; return 1; }
  if ! wait_for_server "$cnf" 900 "server on the cloned data"; then
    stop_temp_server "$cnf"
    return 1
  fi
  status=$(sql "$cnf" <<<"SELECT STATE, ERROR_NO, SOURCE FROM performance_schema.clone_status") || status=""
  bytes=$(sql "$cnf" <<<"SELECT COALESCE(SUM(DATA), 0) FROM performance_schema.clone_progress") || bytes="?"
  if [[ -n "$finish_sql" ]] && ! sql "$cnf" <<<"$finish_sql"; then
    log "the statements finishing the copy failed"
    stop_temp_server "$cnf"
    return 1
  fi
  stop_temp_server "$cnf"
  rm -f "$cnf"
  IFS=$'\t' read -r state error source <<<"$status"
  if [[ "$state" != "Completed" || "$error" != "0" ]]; then
    log "clone did not complete: state=${state:-none} error=${error:-none}"
    return 1
  fi
  log "clone completed from $source: $bytes bytes copied"
}
