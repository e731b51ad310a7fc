#!/usr/bin/env bash
# flavor.sh (MySQL 9.7 / 8.4): the MySQL commands behind lib.sh's generic steps.
# A new replica copies its donor with the clone plugin (clone.sh) and replicates with GTID
# auto-positioning. Sourced after lib.sh, never run.
# Variables here are read by the scripts that source this file.
# shellcheck disable=SC2034

FLAVOR=mysql
SERVER_BIN=mysqld
CLIENT_BIN=mysql
ADMIN_BIN=mysqladmin
FLAVOR_SKIP_REPLICA_START=(--skip-replica-start)
REPLICA_STATUS_SQL="SHOW REPLICA STATUS"
# The replication status columns the scripts read: threads, lag, source, account, and the
# column that says replication positions itself by GTID (when it equals REPLICA_GTID_ON).
declare -gA REPLICA_FIELD=([io]=Replica_IO_Running [sql]=Replica_SQL_Running [lag]=Seconds_Behind_Source
  [source]=Source_Host [user]=Source_User [gtid]=Auto_Position
  [ssl_ca]=Source_SSL_CA_File [ssl_cert]=Source_SSL_Cert [ssl_verify]=Source_SSL_Verify_Server_Cert)
REPLICA_GTID_ON=1
# A new replication password (passwords.sh): only the receiver thread stops, for a moment.
REPLICATION_PASSWORD_STOP="STOP REPLICA IO_THREAD"
REPLICATION_PASSWORD_CHANGE="CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD"
REPLICATION_PASSWORD_START="START REPLICA IO_THREAD"
# The prefix of CHANGE REPLICATION SOURCE's options (SOURCE_HOST, SOURCE_SSL_CA...).
REPLICATION_OPTION_PREFIX=SOURCE
# How the client verifies a member server: CA and hostname.
CLIENT_VERIFY_SERVER_OPTION="ssl-mode=VERIFY_IDENTITY"
# Re-read the certificate files without a restart.
TLS_RELOAD_SQL="ALTER INSTANCE RELOAD TLS"
# The clone account: used over the network by the new replica; BACKUP_ADMIN is all the clone
# plugin needs on a donor.
CLONE_ACCOUNT_HOST=%
CLONE_GRANTS="BACKUP_ADMIN"
# The authentication plugin an account given a password by ALTER USER gets (lib.sh's ensure_user:
# an account copied from another server keeps its own plugin otherwise, auth_socket say).
PASSWORD_PLUGIN=caching_sha2_password
# The probes' account reads SHOW REPLICA STATUS.
MONITOR_GRANTS="REPLICATION CLIENT"

# flavor_initialize_datadir DIR [SQL_FILE]: create the system tables in the new directory DIR;
# SQL_FILE's statements run at the end of the initialisation itself (--init-file), so a new
# primary gets its accounts without a temporary server to start and stop.
flavor_initialize_datadir() {
  local dir=${1:?flavor_initialize_datadir needs DIR} init=()
  [[ -z "${2-}" ]] || init=(--init-file="$2")
  rm -rf "$dir"
  "$SERVER_BIN" --defaults-file="$MY_CNF" --initialize-insecure --datadir="$dir" "${init[@]}" \
    || die "mysqld --initialize-insecure failed on $dir"
}
# flavor_initialize_datadir takes SQL_FILE (lib.sh's initialize_primary).
# shellcheck disable=SC2034 # used by lib.sh
FLAVOR_INITIALIZE_RUNS_SQL=true

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
# account, GTID auto-positioning and verified TLS (replication_tls_options), then start it.
flavor_configure_replication() {
  local repl_pw=${1:?flavor_configure_replication needs PASSWORD}
  log "pointing replication at $PRIMARY_HOST:$DB_PORT (GTID auto-position, TLS verified against the release's CA)"
  sql "$CLIENT_CNF" <<SQL || die "configuring replication failed"
STOP REPLICA;
CHANGE REPLICATION SOURCE TO
  SOURCE_HOST = $(sql_string "$PRIMARY_HOST"),
  SOURCE_PORT = $DB_PORT,
  SOURCE_USER = $(sql_string "$REPLICATION_USER"),
  SOURCE_PASSWORD = $(sql_password "$repl_pw"),
  SOURCE_AUTO_POSITION = 1,
$(replication_tls_options),
  SOURCE_CONNECT_RETRY = ${CONNECT_RETRY_SECONDS:-5},
  SOURCE_RETRY_COUNT = 31536000;
START REPLICA;
SQL
}

# flavor_gtid_state CNF: the server's executed GTID set, on one line.
flavor_gtid_state() {
  sql_value "${1:?flavor_gtid_state needs CNF}" "SELECT REPLACE(@@GLOBAL.gtid_executed, '\n', '')"
}

# flavor_applier_drained CNF: 0 when the replica has applied every transaction it received.
flavor_applier_drained() {
  local v
  v=$(sql_value "${1:?flavor_applier_drained needs CNF}" "SELECT GTID_SUBSET(RECEIVED_TRANSACTION_SET, @@GLOBAL.gtid_executed) FROM performance_schema.replication_connection_status WHERE CHANNEL_NAME = ''") || return 1
  [[ -z "$v" || "$v" == 1 ]]
}

# flavor_gtid_subset A B: 0 when the GTID set A is contained in the GTID set B
# (uuid[:tag]:interval[:interval...] items, comma-separated; B's intervals are MySQL's, merged).
flavor_gtid_subset() {
  awk -v a="${1-}" -v b="${2-}" '
    function load(set, lo, hi, n,    items, i, parts, j, key, k, r) {
      gsub(/[ \n]/, "", set)
      n = split(set, items, ",")
      for (i = 1; i <= n; i++) {
        if (items[i] == "") continue
        k = split(items[i], parts, ":"); key = parts[1]
        for (j = 2; j <= k; j++) {
          if (parts[j] ~ /^[0-9]+(-[0-9]+)?$/) {
            split(parts[j], r, "-"); cnt[key]++
            lo[key, cnt[key]] = r[1] + 0; hi[key, cnt[key]] = ((2 in r) ? r[2] : r[1]) + 0
            delete r
          } else key = parts[1] ":" parts[j]
        }
      }
    }
    BEGIN {
      load(b, blo, bhi); for (k in cnt) bcnt[k] = cnt[k]; delete cnt
      load(a, alo, ahi)
      for (k in cnt) for (i = 1; i <= cnt[k]; i++) {
        ok = 0
        for (j = 1; j <= bcnt[k]; j++) if (blo[k, j] <= alo[k, i] && ahi[k, i] <= bhi[k, j]) { ok = 1; break }
        if (!ok) exit 1
      }
    }'
}

# flavor_repoint CNF HOST [OPTIONS]: make that replica replicate from HOST, keeping its account and
# its position (auto-positioning sends the source what it already has), with more connection
# OPTIONS if given (tls.sh adds the TLS options).
flavor_repoint() {
  local cnf=${1:?flavor_repoint needs CNF} host=${2:?flavor_repoint needs HOST} options=${3-}
  sql "$cnf" <<SQL
STOP REPLICA;
CHANGE REPLICATION SOURCE TO SOURCE_HOST = $(sql_string "$host")${options:+,
$options};
START REPLICA;
SQL
}

# flavor_seed_primary DIR DONOR_HOST DONOR_CNF: copy the replica DONOR_HOST into DIR as the new
# primary's data: a clone that then forgets where the donor replicated from. Its GTID set
# (carried by the clone) is where the new primary's history continues.
flavor_seed_primary() {
  flavor_clone_into "${1:?flavor_seed_primary needs DIR}" "${2:?flavor_seed_primary needs DONOR_HOST}" "RESET REPLICA ALL;"
}

# flavor_source_gave_up ERRNO: 0 when the replication receiver's error ERRNO means the primary
# will never send what this replica needs (purged binary logs, a replica with more GTIDs than
# its source): ER_SERVER_SOURCE_FATAL_ERROR_READING_BINLOG, formerly 1236.
flavor_source_gave_up() {
  [[ "${1:?flavor_source_gave_up needs ERRNO}" == 13114 || "$1" == 1236 ]]
}

# flavor_errant_gtids MINE THEIRS: the transactions of GTID set MINE that THEIRS lacks (empty
# when none), computed by the local server.
flavor_errant_gtids() {
  sql_value "$CLIENT_CNF" "SELECT GTID_SUBTRACT($(sql_string "${1-}"), $(sql_string "${2-}"))"
}
