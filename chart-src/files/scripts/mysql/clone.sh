#!/usr/bin/env bash
# clone.sh (MySQL 9.7 / 8.4): how a new replica copies its donor before its first start: the
# clone plugin's CLONE INSTANCE ... DATA DIRECTORY, run from a temporary server on an empty
# instance (CLONE_RECIPIENT_DIR) into the staging directory. The copy is not started here: the
# server's own first start finishes its recovery (a start saved per new replica).
# prepare-data.sh calls flavor_clone_into (and retries it). Sourced after lib.sh and flavor.sh.

# flavor_prepare_clone_target: create the empty instance in CLONE_RECIPIENT_DIR and start its
# temporary server, so that the clone starts the moment a donor is Ready: prepare-data.sh calls it
# before waiting for one (on a new installation, while the primary initialises). Kept while it
# runs; 1 on failure.
flavor_prepare_clone_target() {
  local dir=$CLONE_RECIPIENT_DIR sock="$RUN_DIR/clone.sock" cnf="$RUN_DIR/clone-client.cnf"
  if [[ -d "$dir/mysql" && -n "$TEMP_SERVER_PID" ]] && kill -0 "$TEMP_SERVER_PID" 2>/dev/null \
      && sql "$cnf" <<<"SELECT 1" >/dev/null 2>&1; then
    return 0
  fi
  discard_clone_target
  log "creating an empty instance in $dir to clone from"
  flavor_initialize_datadir "$dir"
  CLIENT_SOCKET=$sock write_client_cnf "$cnf" root "" || return 1
  start_temp_server "$dir" "$sock" "${FLAVOR_SKIP_REPLICA_START[@]}" || { log "temporary server did not start"; return 1; }
  wait_for_server "$cnf" 300 "temporary server" || { discard_clone_target; return 1; }
}

# discard_clone_target: end the empty instance's server and remove its directory. It holds
# nothing (the clone went elsewhere), so it is killed rather than shut down.
discard_clone_target() {
  if [[ -n "$TEMP_SERVER_PID" ]]; then
    kill -KILL "$TEMP_SERVER_PID" 2>/dev/null || true
    wait "$TEMP_SERVER_PID" 2>/dev/null || true
    TEMP_SERVER_PID=""
  fi
  rm -rf "$CLONE_RECIPIENT_DIR" "$RUN_DIR/clone-client.cnf"
}

# flavor_clone_into DIR DONOR_HOST [FINISH_SQL]: fill DIR with a copy of the donor's data with
# the clone plugin; 1 on any failure. The clone also carries the donor's GTID set, so the replica
# later auto-positions. FINISH_SQL, when given (recover-primary.sh's last step), runs on the copy,
# started once for it. 2 when the donor is busy with another clone (copy_with_retries asks again).
# Called under `||` (errexit is off inside): every step's failure is checked here.
flavor_clone_into() {
  local dir=${1:?flavor_clone_into needs DIR} donor=${2:?flavor_clone_into needs DONOR_HOST} finish_sql=${3-}
  local donor_cnf="$RUN_DIR/clone-donor.cnf" clone_pw
  clone_pw=$(read_secret mysql-clone-password) || { discard_clone_target; return 1; }
  require_env CLONE_USER

  write_member_cnf "$donor_cnf" "$CLONE_USER" "$clone_pw" "$donor" || { discard_clone_target; return 1; }
  log "waiting for donor $donor to answer as $CLONE_USER"
  wait_for_server "$donor_cnf" "${DONOR_WAIT_SECONDS:-600}" "donor $donor" || { log "donor $donor did not answer"; discard_clone_target; return 1; }
  rm -f "$donor_cnf"

  # TLS: the donor verified against the release's CA (the clone plugin checks no hostname), the
  # release's certificate presented, as the clone account requires.
  clone_instance "$dir" "$donor" "$DB_PORT" "$FINISH_SQL_RUNS_AFTER" "$finish_sql" <<SQL
SET GLOBAL clone_ssl_ca = $(sql_string "$TLS_DIR/ca.crt");
SET GLOBAL clone_ssl_cert = $(sql_string "$TLS_DIR/tls.crt");
SET GLOBAL clone_ssl_key = $(sql_string "$TLS_DIR/tls.key");
CLONE INSTANCE FROM $(sql_string "$CLONE_USER")@$(sql_string "$donor"):$DB_PORT IDENTIFIED BY $(sql_string "$clone_pw")
  DATA DIRECTORY = $(sql_string "$dir") REQUIRE SSL;
SQL
}

# How clone_instance's FINISH argument runs: as SQL once the copy answers as root, or as the
# copy's init file (before anyone connects: the only way in when its accounts are another server's).
FINISH_SQL_RUNS_AFTER=after
FINISH_SQL_INIT_FILE="init-file"

# clone_instance DIR DONOR PORT HOW FINISH < CLONE_SQL: the clone proper, from the empty instance's
# server (flavor_prepare_clone_target) with CLONE_SQL (the TLS settings and CLONE INSTANCE ...
# DATA DIRECTORY = DIR), then the clone record written into DIR (CLONE_RECORD_NAME). With FINISH,
# the copy is started once, FINISH run as HOW says (FINISH_SQL_RUNS_AFTER or
# FINISH_SQL_INIT_FILE), logged into as root with the Secret's password, and shut down.
# 1 on any failure, 2 when the donor is busy with another clone.
clone_instance() {
  local dir=${1:?clone_instance needs DIR} donor=${2:?clone_instance needs DONOR} port=${3:?clone_instance needs PORT}
  local how=${4:?clone_instance needs HOW} finish=${5-} clone_sql
  local cnf="$RUN_DIR/clone-client.cnf" copy_cnf="$RUN_DIR/copy-client.cnf"
  local out status state error source micros bytes
  clone_sql=$(cat) || { discard_clone_target; return 1; }

  flavor_prepare_clone_target || { discard_clone_target; return 1; }
  # CLONE ... DATA DIRECTORY creates DIR itself and refuses one that exists.
  rm -rf "$dir" || { discard_clone_target; return 1; }

  log "cloning from $donor:$port into $dir"
  out=$(sql "$cnf" 2>&1 <<SQL
SET GLOBAL clone_valid_donor_list = $(sql_string "$donor:$port");
$clone_sql
SQL
  ) || true
  log "clone statement answered: ${out:-OK}"
  # 3634: the donor serves one clone at a time and serves another (replicas started side by side
  # ask at once); it refused before anything was copied, so the empty instance stays for the next try.
  if [[ "$out" == *"ERROR 3862"*"3634"* ]]; then
    rm -rf "$dir"
    return 2
  fi
  if [[ -n "$out" ]]; then
    log "the clone from $donor failed"
    discard_clone_target
    return 1
  fi
  # '|' between the fields: a tab is whitespace to read, which would merge an empty field away.
  status=$(sql "$cnf" <<<"SELECT CONCAT_WS('|', STATE, ERROR_NO, SOURCE, TIMESTAMPDIFF(MICROSECOND, BEGIN_TIME, END_TIME)) FROM performance_schema.clone_status") || status=""
  bytes=$(sql "$cnf" <<<"SELECT COALESCE(SUM(DATA), 0) FROM performance_schema.clone_progress") || bytes="?"
  discard_clone_target
  IFS='|' read -r state error source micros <<<"$status"
  if [[ "$state" != "Completed" || "$error" != "0" || ! -d "$dir/mysql" ]]; then
    log "clone did not complete: state=${state:-none} error=${error:-none}"
    return 1
  fi
  # No GTID set here: the recipient learns it only when a server starts on the copy
  # (flavor_copy_position does that when it is asked); a replica auto-positions without it.
  {
    echo "donor=${source%:*}"
    echo "bytes=$bytes"
    echo "seconds=$(awk -v us="${micros:-0}" 'BEGIN { printf "%.3f", us / 1e6 }')"
    echo "completed=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$dir/$CLONE_RECORD_NAME" || { log "cannot write the clone record"; return 1; }

  if [[ -n "$finish" ]]; then
    local init_sql=""
    if [[ "$how" == "$FINISH_SQL_INIT_FILE" ]]; then
      init_sql=$finish
      finish=""
    fi
    log "starting the copy once to finish it"
    start_copy "$dir" "$RUN_DIR/copy.sock" "$copy_cnf" "$init_sql" "the cloned data" || return 1
    if [[ -n "$finish" ]] && ! sql "$copy_cnf" <<<"$finish"; then
      log "the statements finishing the copy failed"
      stop_temp_server "$copy_cnf"
      return 1
    fi
    stop_temp_server "$copy_cnf"
    rm -f "$copy_cnf"
  fi
  log "clone completed from $source: $bytes bytes copied"
}

# flavor_source_problems CNF: what keeps the server of CNF (bootstrap.cloneFrom, outside the
# release) from being cloned and replicated from, one reason per line; nothing when it is fit.
# 1 when it cannot be asked.
flavor_source_problems() {
  local cnf=${1:?flavor_source_problems needs CNF} row version server_id gtid_mode clone log_bin mine offset
  row=$(sql "$cnf" --connect-timeout=5 <<<"SELECT @@GLOBAL.version, @@GLOBAL.server_id, @@GLOBAL.gtid_mode, COALESCE((SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone'), 'not installed'), @@GLOBAL.log_bin") \
    || { log "cannot read the source's settings"; return 1; }
  IFS=$'\t' read -r version server_id gtid_mode clone log_bin <<<"$row"
  mine=$("$SERVER_BIN" --version) || { log "cannot read this image's server version"; return 1; }
  mine=$(sed -nE 's/.*Ver ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' <<<"$mine")
  # The clone plugin copies between servers of one release series only (it checks the rest itself).
  [[ "${version%.*}" == "${mine%.*}" ]] \
    || echo "the source runs MySQL ${version}, this release's image ${mine}: the clone plugin copies only between servers of the same version (images.mysql)"
  [[ "$clone" == ACTIVE ]] \
    || echo "the clone plugin is ${clone,,} on the source (INSTALL PLUGIN clone SONAME 'mysql_clone.so' there, or plugin-load-add=mysql_clone.so in its my.cnf)"
  [[ "$gtid_mode" == ON ]] \
    || echo "the source's gtid_mode is $gtid_mode: replicating from it needs gtid_mode=ON and enforce_gtid_consistency=ON there"
  [[ "$log_bin" == 1 ]] \
    || echo "the source does not write a binary log (log_bin): nothing to replicate from it"
  offset=$(sed -nE 's/^server_id=([0-9]+)$/\1/p' "$MY_CNF") || offset=""
  if [[ "$offset" =~ ^[0-9]+$ && "$server_id" =~ ^[0-9]+$ ]] && (( server_id >= offset )); then
    echo "the source's server_id ($server_id) is at or above serverIdOffset ($offset): a pod of this release could get the same id and would then skip the source's transactions; set serverIdOffset above $server_id"
  fi
}

# flavor_source_clone_tls: the REQUIRE clause of CLONE INSTANCE for bootstrap.cloneFrom's source
flavor_source_clone_tls() {
  if [[ "${BOOTSTRAP_SOURCE_TLS:-true}" != true ]]; then
    echo "REQUIRE NO SSL"
    return 0
  fi
  echo "REQUIRE SSL"
}

# flavor_clone_from_source DIR SOURCE_HOST FINISH_SQL: bootstrap.cloneFrom's copy of the source
# into DIR with the clone plugin, FINISH_SQL run as the copy's init file (the copy's accounts are
# the source's until it ran). Like flavor_clone_into, called under `||` by copy_with_retries.
flavor_clone_from_source() {
  local dir=${1:?flavor_clone_from_source needs DIR} host=${2:?flavor_clone_from_source needs SOURCE_HOST} finish=${3:?flavor_clone_from_source needs FINISH_SQL}
  local port=${BOOTSTRAP_SOURCE_PORT:-3306} pw ca=""
  pw=$(source_password) || { discard_clone_target; return 1; }
  [[ "${BOOTSTRAP_SOURCE_TLS:-true}" != true || ! -s "$BOOTSTRAP_DIR/ca.crt" ]] || ca="$BOOTSTRAP_DIR/ca.crt"
  clone_instance "$dir" "$host" "$port" "$FINISH_SQL_INIT_FILE" "$finish" <<SQL
SET GLOBAL clone_ssl_ca = $(sql_string "$ca");
SET GLOBAL clone_ssl_cert = '';
SET GLOBAL clone_ssl_key = '';
CLONE INSTANCE FROM $(sql_string "$BOOTSTRAP_SOURCE_USER")@$(sql_string "$host"):$port IDENTIFIED BY $(sql_string "$pw")
  DATA DIRECTORY = $(sql_string "$dir") $(flavor_source_clone_tls);
SQL
}

# flavor_replicate_from_source_sql: the statements that make the copy replicate from
# bootstrap.cloneFrom's source (GTID auto-positioning; TLS as bootstrap.cloneFrom.tls says: a CA
# given means the source's certificate is verified against it, its hostname not).
flavor_replicate_from_source_sql() {
  local pw tls
  pw=$(source_password) || return 1
  if [[ "${BOOTSTRAP_SOURCE_TLS:-true}" != true ]]; then
    tls="SOURCE_SSL = 0"
  elif [[ -s "$BOOTSTRAP_DIR/ca.crt" ]]; then
    tls="SOURCE_SSL = 1, SOURCE_SSL_CA = $(sql_string "$BOOTSTRAP_DIR/ca.crt"), SOURCE_SSL_VERIFY_SERVER_CERT = 0"
  else
    tls="SOURCE_SSL = 1"
  fi
  cat <<SQL
STOP REPLICA;
RESET REPLICA ALL;
CHANGE REPLICATION SOURCE TO
  SOURCE_HOST = $(sql_string "$BOOTSTRAP_SOURCE_HOST"),
  SOURCE_PORT = ${BOOTSTRAP_SOURCE_PORT:-3306},
  SOURCE_USER = $(sql_string "$BOOTSTRAP_SOURCE_USER"),
  SOURCE_PASSWORD = $(sql_password "$pw"),
  SOURCE_AUTO_POSITION = 1,
  $tls,
  SOURCE_CONNECT_RETRY = ${CONNECT_RETRY_SECONDS:-5},
  SOURCE_RETRY_COUNT = 31536000;
SQL
}

# flavor_end_source_replication: the cut-over's statements: forget the source, take writes.
flavor_end_source_replication() {
  sql "$CLIENT_CNF" <<SQL
STOP REPLICA;
RESET REPLICA ALL;
SET GLOBAL super_read_only = OFF;
SET GLOBAL read_only = OFF;
SQL
}

# flavor_copy_position DIR: the GTID set of the copy flavor_clone_into made in DIR (backup.sh's
# manifest), read from a server started once on it (which also finishes the copy's recovery, so
# the archive holds a recovered copy); 1 when it cannot be read.
flavor_copy_position() {
  local dir=${1:?flavor_copy_position needs DIR} cnf="$RUN_DIR/copy-client.cnf" gtid
  [[ -f "$dir/$CLONE_RECORD_NAME" ]] || { log "$dir holds no clone record"; return 1; }
  log "starting the copy once to read its GTID set"
  start_copy "$dir" "$RUN_DIR/copy.sock" "$cnf" "" "the copy" || return 1
  gtid=$(sql_value "$cnf" "SELECT @@GLOBAL.gtid_executed") || { stop_temp_server "$cnf"; return 1; }
  stop_temp_server "$cnf"
  rm -f "$cnf"
  echo "$gtid"
}

# flavor_restore_finish DIR GTID: make the restored copy in DIR this release's primary: started
# once with an init file (outside the binary log, before anyone connects: its accounts are the
# backed-up release's until then) that gives it this release's accounts and forgets where its
# source replicated from; its GTID set (GTID) is where the new history continues.
flavor_restore_finish() {
  local dir=${1:?flavor_restore_finish needs DIR} cnf="$RUN_DIR/restore-client.cnf" init_sql
  init_sql=$(echo "SET SESSION sql_log_bin = 0;" && ACCOUNTS_MAY_EXIST=true account_sql && echo "RESET REPLICA ALL;") \
    || { log "cannot build the restored copy's first statements"; return 1; }
  # A server identity of its own (a new one is made at the start), not the backed-up server's;
  # the backup's clone record describes the backed-up release's copy, not this one.
  rm -f "$dir/auto.cnf" "$dir/$CLONE_RECORD_NAME"
  log "starting the restored copy once (GTID ${2:-empty}) to give it this release's accounts"
  start_copy "$dir" "$RUN_DIR/restore.sock" "$cnf" "$init_sql" "the restored copy" || return 1
  if [[ -n "${RESTORE_REPLAY_DIR:-}" ]] && ! replay_binlogs "$cnf" "${2:-}" "$RESTORE_REPLAY_DIR" "${RESTORE_POINT_IN_TIME:?}" "$init_sql"; then
    log "replaying the archived binary logs on the restored copy failed (see above)"
    stop_temp_server "$cnf"
    rm -f "$cnf"
    return 1
  fi
  stop_temp_server "$cnf"
  rm -f "$cnf"
}

# flavor_decode_binlogs GTID STOP FILE...: the SQL of the binary logs FILE... (replay_binlogs)
# without the transactions of the GTID set GTID (the backup holds them), up to the first event at or
# after STOP (UTC, 'YYYY-MM-DD hh:mm:ss'), keeping their GTIDs.
flavor_decode_binlogs() {
  local gtid=${1?flavor_decode_binlogs needs GTID} stop=${2:?flavor_decode_binlogs needs STOP}; shift 2
  TZ=UTC mysqlbinlog --exclude-gtids="$gtid" --stop-datetime="$stop" "$@"
}

