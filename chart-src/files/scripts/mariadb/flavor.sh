#!/usr/bin/env bash
# flavor.sh (MariaDB 11.8 / 10.11): the MariaDB commands behind lib.sh's generic steps.
# A new replica receives a hot mariadb-backup streamed by its donor's sidecar
# (serve-backup.sh), prepares it, and replicates from the GTID the backup recorded.
# Sourced after lib.sh, never run.
# Variables here are read by the scripts that source this file.
# shellcheck disable=SC2034

SERVER_BIN=mariadbd
CLIENT_BIN=mariadb
ADMIN_BIN=mariadb-admin
FLAVOR_SKIP_REPLICA_START=(--skip-slave-start)
REPLICA_STATUS_SQL="SHOW SLAVE STATUS"
REPLICA_IO_FIELD=Slave_IO_Running
REPLICA_SQL_FIELD=Slave_SQL_Running
REPLICA_LAG_FIELD=Seconds_Behind_Master
REPLICA_SOURCE_FIELD=Master_Host
# The clone account is used only by mariadb-backup on the donor itself.
CLONE_ACCOUNT_HOST=localhost
# Where a clone records its donor and GTID position (read by the sidecar, kept for people).
CLONE_RECORD_NAME=mysql-chart-clone.info

# flavor_initialize_datadir DIR: create the system tables in the new directory DIR.
flavor_initialize_datadir() {
  local dir=${1:?}
  rm -rf "$dir"
  mkdir -p "$dir"
  mariadb-install-db --defaults-file="$MY_CNF" --datadir="$dir" \
    --auth-root-authentication-method=normal --skip-test-db >/dev/null \
    || die "mariadb-install-db failed on $dir"
}

# flavor_pre_account_sql: drop the accounts mariadb-install-db makes without a password
# (anonymous users, and mysql@localhost, which logs in by socket identity alone).
flavor_pre_account_sql() {
  echo "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'mysql' AND Host = 'localhost');"
  echo "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';"
  echo "FLUSH PRIVILEGES;"
}

# flavor_post_account_sql: MariaDB has no super_read_only, and READ ONLY ADMIN (part of ALL
# PRIVILEGES) lets an account write on a read_only replica. Take it from root@'%', so writes
# sent over the network to a replica are refused even as root (a write there would fork the
# replica's GTID history and stop its replication under gtid_strict_mode). root@localhost keeps
# it for deliberate maintenance through kubectl exec.
flavor_post_account_sql() {
  echo "REVOKE READ_ONLY ADMIN ON *.* FROM 'root'@'%';"
}

# flavor_clone_account_sql USER PASSWORD: the local account mariadb-backup runs as on a donor,
# with what a backup with --slave-info needs.
flavor_clone_account_sql() {
  local pw
  pw=$(sql_password "${2-}") || return 1
  echo "CREATE USER $(sql_string "${1:?}")@'localhost' IDENTIFIED BY $pw;"
  echo "GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO $(sql_string "$1")@'localhost';"
}

# backup_meta DIR NAME: print the path of a backup metadata file, which MariaDB 11.x names
# mariadb_backup_NAME and 10.11 names xtrabackup_NAME; nothing when neither exists.
backup_meta() {
  local dir=${1:?} name=${2:?} f
  for f in "$dir/mariadb_backup_$name" "$dir/xtrabackup_$name"; do
    if [[ -f "$f" ]]; then
      echo "$f"
      return 0
    fi
  done
}

# backup_gtid DIR: print the GTID position a prepared backup in DIR carries: the donor's
# replication position when the donor was a replica (slave_info), else the donor's own
# binlog GTID (binlog_info, third column).
backup_gtid() {
  local dir=${1:?} f gtid=""
  f=$(backup_meta "$dir" slave_info)
  if [[ -n "$f" ]]; then
    gtid=$(sed -n "s/.*gtid_slave_pos *= *'\([^']*\)'.*/\1/p" "$f" | head -n 1)
  fi
  if [[ -z "$gtid" ]]; then
    f=$(backup_meta "$dir" binlog_info)
    [[ -n "$f" ]] && gtid=$(awk -F'\t' 'NR == 1 { print $3 }' "$f")
  fi
  echo "$gtid"
}

# stream_answer NONCE SECRET: the answer to the backup server's challenge (sha256 of nonce:secret),
# so the secret itself never crosses the network.
stream_answer() {
  printf '%s:%s' "${1:?}" "${2:?}" | sha256sum | cut -c1-64
}

# receive_backup DIR DONOR PORT SECRET: answer the donor's challenge and extract its backup
# stream into DIR; 1 when the connection, the challenge or the extraction fails.
receive_backup() {
  local dir=${1:?} donor=${2:?} port=${3:?} secret=${4:?} nonce
  exec 3<>"/dev/tcp/$donor/$port" || return 1
  if ! read -r -t 30 nonce <&3 || [[ ! "$nonce" =~ ^[0-9a-f]{32}$ ]]; then
    log "no challenge from $donor:$port"
    exec 3>&-
    return 1
  fi
  if ! { stream_answer "$nonce" "$secret" && echo; } >&3; then
    log "could not answer the challenge of $donor:$port"
    exec 3>&-
    return 1
  fi
  local rc=0
  mbstream -x -C "$dir" <&3 || rc=$?
  exec 3>&-
  return "$rc"
}

# backup_complete DIR: 0 when DIR holds a whole backup: mariadb-backup writes its *_info file
# last, after every data file, and its checkpoints mark a full backup. A stream cut at a
# chunk boundary extracts without error, so this is what tells a finished backup apart.
backup_complete() {
  local dir=${1:?} info checkpoints
  info=$(backup_meta "$dir" info)
  checkpoints=$(backup_meta "$dir" checkpoints)
  [[ -n "$info" && -n "$checkpoints" ]] || return 1
  grep -q '^backup_type *= *full-backuped' "$checkpoints"
}

# flavor_clone_into DIR DONOR_HOST: fill DIR with a prepared copy of the donor's data from the
# donor's backup stream; 1 on any failure, leaving DIR to be discarded.
# Called from `if` (errexit is off inside): every step's failure is checked here.
flavor_clone_into() {
  local dir=${1:?} donor=${2:?} port=${BACKUP_PORT:-3307} secret start copy_start gtid bytes
  secret=$(read_secret mysql-clone-password) || return 1
  { rm -rf "$dir" && mkdir -p "$dir"; } || { log "cannot create $dir"; return 1; }
  log "waiting for donor $donor to serve backups on port $port"
  start=$SECONDS
  until (exec 3<>"/dev/tcp/$donor/$port") 2>/dev/null; do
    if (( SECONDS - start >= ${DONOR_WAIT_SECONDS:-600} )); then
      log "donor $donor:$port did not answer in ${DONOR_WAIT_SECONDS:-600}s"
      return 1
    fi
    sleep 3
  done
  log "receiving a hot backup from $donor:$port"
  copy_start=$SECONDS
  if ! receive_backup "$dir" "$donor" "$port" "$secret"; then
    log "the backup stream from $donor failed"
    return 1
  fi
  if ! backup_complete "$dir"; then
    log "the backup from $donor is incomplete (no final info file or not a full backup): discarding it"
    return 1
  fi
  bytes=$(du -sb "$dir" | cut -f1) || { log "cannot measure $dir"; return 1; }
  log "received $bytes bytes; preparing the backup"
  if ! mariadb-backup --prepare --target-dir="$dir" >/tmp/prepare.log 2>&1; then
    tail -n 20 /tmp/prepare.log >&2
    log "mariadb-backup --prepare failed"
    return 1
  fi
  gtid=$(backup_gtid "$dir")
  [[ -n "$gtid" ]] || { log "the backup carries no GTID position"; return 1; }
  {
    echo "donor=$donor"
    echo "gtid=$gtid"
    echo "bytes=$bytes"
    echo "seconds=$((SECONDS - copy_start))"
    echo "completed=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$dir/$CLONE_RECORD_NAME" || { log "cannot write the clone record"; return 1; }
  log "clone completed from $donor: $bytes bytes in $((SECONDS - copy_start))s, GTID position $gtid"
}

# flavor_configure_replication: point this replica at the primary with the replication account
# from the GTID position its clone recorded, then start it. Does nothing when it already
# replicates from the primary with that account (a restart: the position lives in the server).
flavor_configure_replication() {
  local host user using_gtid gtid repl_pw status
  require_env PRIMARY_HOST REPLICATION_USER
  # A failed status read must stop here: reconfiguring would rewind gtid_slave_pos to the clone's.
  status=$(status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" "$REPLICA_SOURCE_FIELD" Master_User Using_Gtid) \
    || die "cannot read the replication status"
  IFS=$'\t' read -r host user using_gtid <<<"$status"
  if [[ "$host" == "$PRIMARY_HOST" && "$user" == "$REPLICATION_USER" && "$using_gtid" == "Slave_Pos" ]]; then
    log "replication already points at $PRIMARY_HOST as $REPLICATION_USER"
    return 0
  fi
  [[ -f "$DATADIR/$CLONE_RECORD_NAME" ]] || die "no clone record ($DATADIR/$CLONE_RECORD_NAME): cannot tell the GTID position to start from"
  gtid=$(sed -n 's/^gtid=//p' "$DATADIR/$CLONE_RECORD_NAME")
  [[ -n "$gtid" ]] || die "the clone record holds no GTID position"
  repl_pw=$(read_secret mysql-replication-password) || die "cannot read the replication password"
  log "pointing replication at $PRIMARY_HOST:$DB_PORT from GTID $gtid"
  sql "$CLIENT_CNF" <<SQL || die "configuring replication failed"
STOP SLAVE;
SET GLOBAL gtid_slave_pos = $(sql_string "$gtid");
CHANGE MASTER TO
  MASTER_HOST = $(sql_string "$PRIMARY_HOST"),
  MASTER_PORT = $DB_PORT,
  MASTER_USER = $(sql_string "$REPLICATION_USER"),
  MASTER_PASSWORD = $(sql_password "$repl_pw"),
  MASTER_USE_GTID = slave_pos,
  MASTER_CONNECT_RETRY = ${CONNECT_RETRY_SECONDS:-5};
START SLAVE;
SQL
  record_applied mysql-replication-password "$repl_pw" || die "cannot record the applied replication password"
  log "replication started"
}

# flavor_set_replication_password PASSWORD: the replication connection logs in with PASSWORD from
# now on. MariaDB's CHANGE MASTER needs both threads stopped; the position (gtid_slave_pos) is kept.
flavor_set_replication_password() {
  local pw
  pw=$(sql_password "${1-}") || return 1
  sql "$CLIENT_CNF" <<SQL
STOP SLAVE;
CHANGE MASTER TO MASTER_PASSWORD = $pw;
START SLAVE;
SQL
}

# flavor_serve_backups: the backup server, run in the background by the sidecar: socat accepts
# one connection at a time and runs serve-backup.sh on it. socat exits promptly on SIGTERM.
flavor_serve_backups() {
  require_env BACKUP_PORT
  log "serving backups to new replicas on port $BACKUP_PORT"
  exec socat "TCP-LISTEN:$BACKUP_PORT,reuseaddr,fork,max-children=1" "EXEC:$SCRIPTS_DIR/serve-backup.sh"
}
