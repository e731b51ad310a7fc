#!/usr/bin/env bash
# flavor.sh (MySQL 9.7 / 8.4): the MySQL commands behind lib.sh's generic steps.
# A new replica copies its donor with the clone plugin and replicates with GTID
# auto-positioning. Sourced after lib.sh, never run.
# Variables here are read by the scripts that source this file.
# shellcheck disable=SC2034

SERVER_BIN=mysqld
CLIENT_BIN=mysql
ADMIN_BIN=mysqladmin
FLAVOR_SKIP_REPLICA_START=(--skip-replica-start)
REPLICA_STATUS_SQL="SHOW REPLICA STATUS"
REPLICA_IO_FIELD=Replica_IO_Running
REPLICA_SQL_FIELD=Replica_SQL_Running
REPLICA_LAG_FIELD=Seconds_Behind_Source
REPLICA_SOURCE_FIELD=Source_Host
# The clone account is used over the network from the new replica.
CLONE_ACCOUNT_HOST=%

# flavor_initialize_datadir DIR: create the system tables in the new directory DIR.
flavor_initialize_datadir() {
  local dir=${1:?}
  rm -rf "$dir"
  "$SERVER_BIN" --defaults-file="$MY_CNF" --initialize-insecure --datadir="$dir" \
    || die "mysqld --initialize-insecure failed on $dir"
}

# flavor_pre_account_sql: statements run before the accounts are created (none for MySQL).
flavor_pre_account_sql() {
  :
}

# flavor_post_account_sql: statements run after the accounts are created (none for MySQL:
# super_read_only already makes replicas refuse every account's writes).
flavor_post_account_sql() {
  :
}

# flavor_clone_account_sql USER PASSWORD: the donor-side clone account; BACKUP_ADMIN is all
# the clone plugin needs on a donor.
flavor_clone_account_sql() {
  local pw
  pw=$(sql_password "${2-}") || return 1
  echo "CREATE USER $(sql_string "${1:?}")@'%' IDENTIFIED BY $pw;"
  echo "GRANT BACKUP_ADMIN ON *.* TO $(sql_string "$1")@'%';"
}

# flavor_clone_into DIR DONOR_HOST: fill DIR with a copy of the donor's data with the clone
# plugin (CLONE INSTANCE FROM the donor into a temporary server on DIR); 1 on any failure.
# The clone also carries the donor's GTID set, so the replica later auto-positions.
# Called from `if` (errexit is off inside): every step's failure is checked here.
flavor_clone_into() {
  local dir=${1:?} donor=${2:?}
  local sock="$RUN_DIR/clone.sock" cnf="$RUN_DIR/clone-client.cnf" donor_cnf="$RUN_DIR/clone-donor.cnf"
  local clone_pw root_pw out status state error source bytes
  clone_pw=$(read_secret mysql-clone-password) || return 1
  root_pw=$(read_secret mysql-root-password) || return 1
  require_env CLONE_USER

  write_client_cnf "$donor_cnf" "$CLONE_USER" "$clone_pw" "$donor" "$DB_PORT" || return 1
  log "waiting for donor $donor to answer as $CLONE_USER"
  wait_for_server "$donor_cnf" "${DONOR_WAIT_SECONDS:-600}" "donor $donor" || { log "donor $donor did not answer"; return 1; }
  rm -f "$donor_cnf"

  log "creating an empty instance in $dir to clone into"
  flavor_initialize_datadir "$dir"
  CLIENT_SOCKET=$sock write_client_cnf "$cnf" root "" || return 1
  start_temp_server "$dir" "$sock" "${FLAVOR_SKIP_REPLICA_START[@]}" || { log "temporary server did not start"; return 1; }
  wait_for_server "$cnf" 300 "temporary server" || { stop_temp_server "$cnf"; return 1; }

  log "cloning from $donor:$DB_PORT"
  # The server replaces its data with the donor's; having no supervisor to restart it,
  # it then reports ER 3707 and shuts down. The next start finishes the clone.
  out=$(sql "$cnf" 2>&1 <<SQL
SET GLOBAL clone_valid_donor_list = $(sql_string "$donor:$DB_PORT");
CLONE INSTANCE FROM $(sql_string "$CLONE_USER")@$(sql_string "$donor"):$DB_PORT IDENTIFIED BY $(sql_string "$clone_pw") REQUIRE SSL;
SQL
  ) || true
  log "clone statement answered: ${out:-OK}"
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
  stop_temp_server "$cnf"
  rm -f "$cnf"
  IFS=$'\t' read -r state error source <<<"$status"
  if [[ "$state" != "Completed" || "$error" != "0" ]]; then
    log "clone did not complete: state=${state:-none} error=${error:-none}"
    return 1
  fi
  log "clone completed from $source: $bytes bytes copied"
}

# flavor_configure_replication: point this replica at the primary with the replication account,
# GTID auto-positioning and TLS (the caching_sha2_password account needs a secure connection;
# the server's auto-generated certificate is used without CA verification), then start it.
# Does nothing when it already replicates from the primary with that account.
flavor_configure_replication() {
  local host user auto repl_pw status
  require_env PRIMARY_HOST REPLICATION_USER
  # A failed status read must stop here, not look like "not configured yet".
  status=$(status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" "$REPLICA_SOURCE_FIELD" Source_User Auto_Position) \
    || die "cannot read the replication status"
  IFS=$'\t' read -r host user auto <<<"$status"
  if [[ "$host" == "$PRIMARY_HOST" && "$user" == "$REPLICATION_USER" && "$auto" == "1" ]]; then
    log "replication already points at $PRIMARY_HOST as $REPLICATION_USER"
    return 0
  fi
  repl_pw=$(read_secret mysql-replication-password) || die "cannot read the replication password"
  log "pointing replication at $PRIMARY_HOST:$DB_PORT (GTID auto-position, TLS)"
  sql "$CLIENT_CNF" <<SQL || die "configuring replication failed"
STOP REPLICA;
CHANGE REPLICATION SOURCE TO
  SOURCE_HOST = $(sql_string "$PRIMARY_HOST"),
  SOURCE_PORT = $DB_PORT,
  SOURCE_USER = $(sql_string "$REPLICATION_USER"),
  SOURCE_PASSWORD = $(sql_password "$repl_pw"),
  SOURCE_AUTO_POSITION = 1,
  SOURCE_SSL = 1,
  SOURCE_CONNECT_RETRY = ${CONNECT_RETRY_SECONDS:-5},
  SOURCE_RETRY_COUNT = 86400;
START REPLICA;
SQL
  record_applied mysql-replication-password "$repl_pw" || die "cannot record the applied replication password"
  log "replication started"
}

# flavor_set_replication_password PASSWORD: the replication connection logs in with PASSWORD from
# now on. Only the receiver thread stops, for a moment; the applier keeps going.
flavor_set_replication_password() {
  local pw
  pw=$(sql_password "${1-}") || return 1
  sql "$CLIENT_CNF" <<SQL
STOP REPLICA IO_THREAD;
CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = $pw;
START REPLICA IO_THREAD;
SQL
}
