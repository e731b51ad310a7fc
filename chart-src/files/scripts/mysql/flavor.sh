#!/usr/bin/env bash
# flavor.sh (MySQL 9.7 / 8.4): the MySQL commands behind lib.sh's generic steps.
# A new replica copies its donor with the clone plugin (clone.sh) and replicates with GTID
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
REPLICA_USER_FIELD=Source_User
# The status column, and its value, that say replication positions itself by GTID.
REPLICA_GTID_FIELD=Auto_Position
REPLICA_GTID_ON=1
# A new replication password (passwords.sh): only the receiver thread stops, for a moment.
REPLICATION_PASSWORD_STOP="STOP REPLICA IO_THREAD"
REPLICATION_PASSWORD_CHANGE="CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD"
REPLICATION_PASSWORD_START="START REPLICA IO_THREAD"
# The clone account: used over the network by the new replica; BACKUP_ADMIN is all the clone
# plugin needs on a donor.
CLONE_ACCOUNT_HOST=%
CLONE_GRANTS="BACKUP_ADMIN"

# flavor_initialize_datadir DIR: create the system tables in the new directory DIR.
flavor_initialize_datadir() {
  local dir=${1:?flavor_initialize_datadir needs DIR}
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

# flavor_configure_replication PASSWORD: point this replica at the primary with the replication
# account, GTID auto-positioning and TLS (the caching_sha2_password account needs a secure
# connection; the server's auto-generated certificate is used without CA verification), then
# start it.
flavor_configure_replication() {
  local repl_pw=${1:?flavor_configure_replication needs PASSWORD}
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
}
