#!/usr/bin/env bash
# flavor.sh (MariaDB 11.8 / 10.11): the MariaDB commands behind lib.sh's generic steps.
# A new replica receives a hot mariadb-backup streamed by its donor's sidecar (clone.sh,
# serve-backup.sh), prepares it, and replicates from the GTID the backup recorded.
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
REPLICA_USER_FIELD=Master_User
# The status column, and its value, that say replication positions itself by GTID.
REPLICA_GTID_FIELD=Using_Gtid
REPLICA_GTID_ON=Slave_Pos
# A new replication password (passwords.sh): CHANGE MASTER needs both threads stopped; the
# position (gtid_slave_pos) is kept.
REPLICATION_PASSWORD_STOP="STOP SLAVE"
REPLICATION_PASSWORD_CHANGE="CHANGE MASTER TO MASTER_PASSWORD"
REPLICATION_PASSWORD_START="START SLAVE"
# The clone account: used only by mariadb-backup on the donor itself, with what a backup with
# --slave-info needs.
CLONE_ACCOUNT_HOST=localhost
CLONE_GRANTS="RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR"
# Where a clone records its donor and GTID position (read by the sidecar, kept for people).
CLONE_RECORD_NAME=mysql-chart-clone.info

# flavor_initialize_datadir DIR: create the system tables in the new directory DIR.
flavor_initialize_datadir() {
  local dir=${1:?flavor_initialize_datadir needs DIR}
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

# flavor_configure_replication PASSWORD: point this replica at the primary with the replication
# account from the GTID position its clone recorded, then start it.
flavor_configure_replication() {
  local repl_pw=${1:?flavor_configure_replication needs PASSWORD} gtid
  [[ -f "$DATADIR/$CLONE_RECORD_NAME" ]] || die "no clone record ($DATADIR/$CLONE_RECORD_NAME): cannot tell the GTID position to start from"
  gtid=$(sed -n 's/^gtid=//p' "$DATADIR/$CLONE_RECORD_NAME")
  [[ -n "$gtid" ]] || die "the clone record holds no GTID position"
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
}

# flavor_serve_backups: the backup server, run in the background by the sidecar: socat accepts
# one connection at a time and runs serve-backup.sh on it. socat exits promptly on SIGTERM.
flavor_serve_backups() {
  require_env BACKUP_PORT
  log "serving backups to new replicas on port $BACKUP_PORT"
  exec socat "TCP-LISTEN:$BACKUP_PORT,reuseaddr,fork,max-children=1" "EXEC:$SCRIPTS_DIR/serve-backup.sh"
}
