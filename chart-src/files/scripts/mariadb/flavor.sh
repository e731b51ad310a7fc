#!/usr/bin/env bash
# flavor.sh (MariaDB 11.8 / 10.11): the MariaDB commands behind lib.sh's generic steps.
# A new replica receives a hot mariadb-backup streamed by its donor's sidecar (clone.sh,
# serve-backup.sh), prepares it, and replicates from the GTID the backup recorded.
# Sourced after lib.sh, never run.
# Variables here are read by the scripts that source this file.
# shellcheck disable=SC2034

FLAVOR=mariadb
SERVER_BIN=mariadbd
CLIENT_BIN=mariadb
ADMIN_BIN=mariadb-admin
FLAVOR_SKIP_REPLICA_START=(--skip-slave-start)
REPLICA_STATUS_SQL="SHOW SLAVE STATUS"
# The replication status columns the scripts read: threads, lag, source, account, and the
# column that says replication positions itself by GTID (when it equals REPLICA_GTID_ON).
declare -gA REPLICA_FIELD=([io]=Slave_IO_Running [sql]=Slave_SQL_Running [lag]=Seconds_Behind_Master
  [source]=Master_Host [user]=Master_User [gtid]=Using_Gtid
  [ssl_ca]=Master_SSL_CA_File [ssl_cert]=Master_SSL_Cert [ssl_verify]=Master_SSL_Verify_Server_Cert)
REPLICA_GTID_ON=Slave_Pos
# A new replication password (passwords.sh): CHANGE MASTER needs both threads stopped; the
# position (gtid_slave_pos) is kept.
REPLICATION_PASSWORD_STOP="STOP SLAVE"
REPLICATION_PASSWORD_CHANGE="CHANGE MASTER TO MASTER_PASSWORD"
REPLICATION_PASSWORD_START="START SLAVE"
# The prefix of CHANGE MASTER's options (MASTER_HOST, MASTER_SSL_CA...).
REPLICATION_OPTION_PREFIX=MASTER
# How the client verifies a member server: CA and hostname.
CLIENT_VERIFY_SERVER_OPTION="ssl-verify-server-cert"
# Re-read the certificate files without a restart. NO_WRITE_TO_BINLOG: a FLUSH is binary-logged
# by default, and on a replica that would be a transaction of its own, which gtid_strict_mode
# then refuses to follow with the primary's next one (seen in the e2e certificate rotation).
TLS_RELOAD_SQL="FLUSH NO_WRITE_TO_BINLOG SSL"
# The clone account: used only by mariadb-backup on the donor itself, with what a backup with
# --slave-info needs.
CLONE_ACCOUNT_HOST=localhost
CLONE_GRANTS="RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR"
# The probes' account reads SHOW SLAVE STATUS.
MONITOR_GRANTS="SLAVE MONITOR"

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
# account from the GTID position its clone recorded, over verified TLS, then start it.
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
$(replication_tls_options),
  MASTER_CONNECT_RETRY = ${CONNECT_RETRY_SECONDS:-5};
START SLAVE;
SQL
}

# flavor_serve_backups: the backup server, run in the background by the sidecar: socat accepts
# one TLS connection at a time, from a client presenting a certificate of the release's CA, and
# runs serve-backup.sh on it. It reads the certificate files when it starts (the sidecar restarts
# it when they change). socat exits promptly on SIGTERM.
flavor_serve_backups() {
  require_env BACKUP_PORT
  log "serving backups to new replicas on port $BACKUP_PORT (TLS, client certificate of the release's CA required)"
  # One backup at a time is serve-backup.sh's lock, not socat's max-children: socat (1.7.4 at
  # least) checks its child count and then sleeps until a signal, so a child exiting in between
  # (a peer that only opens and closes the port) leaves it asleep, accepting nothing, for good.
  # -b: 256 KiB per read and TLS write instead of socat's 8 KiB. -t: once the backup ended, close
  # after 50 ms instead of socat's half second (the peer sends nothing after its answer).
  exec socat -b 262144 -t 0.05 "OPENSSL-LISTEN:$BACKUP_PORT,reuseaddr,fork,cert=$TLS_DIR/tls.crt,key=$TLS_DIR/tls.key,cafile=$TLS_DIR/ca.crt,verify=1" \
    "EXEC:$SCRIPTS_DIR/serve-backup.sh"
}

# flavor_gtid_state CNF: the replica's replication position (gtid_slave_pos).
flavor_gtid_state() {
  sql_value "${1:?flavor_gtid_state needs CNF}" "SELECT @@GLOBAL.gtid_slave_pos"
}

# flavor_applier_drained CNF: 0 when the replica has applied every transaction it received
# (Gtid_IO_Pos within gtid_slave_pos), or does not replicate.
flavor_applier_drained() {
  local cnf=${1:?flavor_applier_drained needs CNF} received applied
  received=$(status_fields "$cnf" "SHOW SLAVE STATUS" Gtid_IO_Pos) || return 1
  applied=$(flavor_gtid_state "$cnf") || return 1
  flavor_gtid_subset "$received" "$applied"
}

# flavor_gtid_subset A B: 0 when the GTID position A is within B: for each replication domain of
# A, B has that domain at an equal or higher sequence number (gtid_strict_mode keeps sequence
# numbers increasing within a domain, whichever server wrote them).
flavor_gtid_subset() {
  awk -v a="${1-}" -v b="${2-}" '
    function load(pos, seq,    items, n, i, p) {
      gsub(/[ \n]/, "", pos)
      n = split(pos, items, ",")
      for (i = 1; i <= n; i++) if (split(items[i], p, "-") == 3 && (!(p[1] in seq) || p[3] + 0 > seq[p[1]])) seq[p[1]] = p[3] + 0
    }
    BEGIN {
      load(a, as); load(b, bs)
      for (d in as) if (!(d in bs) || bs[d] < as[d]) exit 1
    }'
}

# flavor_repoint CNF HOST [OPTIONS]: make that replica replicate from HOST from its own GTID
# position, keeping its account, with more connection OPTIONS if given (tls.sh adds the TLS
# options).
flavor_repoint() {
  local cnf=${1:?flavor_repoint needs CNF} host=${2:?flavor_repoint needs HOST} options=${3-}
  sql "$cnf" <<SQL
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST = $(sql_string "$host"), MASTER_USE_GTID = slave_pos${options:+,
$options};
START SLAVE;
SQL
}

# continue_history_sql STATE: the first-start SQL that makes a copied replica's data a primary
# continuing the binary log GTID STATE: it forgets where the copy replicated from, starts its
# binary log at STATE, and then allows writes (a compound statement stops at its first error, so
# a failure leaves the server read-only). It resets only while the binary log holds no GTID yet,
# so running it again (a restart before the sidecar removed it) changes nothing. One line: the
# server reads an init file a line at a time and ends a statement at a line's final ';'.
continue_history_sql() {
  printf '%s\n' "BEGIN NOT ATOMIC IF @@GLOBAL.gtid_binlog_state = '' THEN RESET SLAVE ALL; RESET MASTER; SET GLOBAL gtid_binlog_state = $(sql_string "${1?continue_history_sql needs STATE}"); END IF; SET GLOBAL read_only = OFF; END;"
}

# flavor_seed_primary DIR DONOR_HOST DONOR_CNF: copy the replica DONOR_HOST into DIR as the new
# primary's data: its backup, whose first start continues the donor's binary log GTID state, so
# the new primary's next transaction follows the history the replicas hold instead of restarting
# at sequence 1. That is first-start SQL (FIRST_START_SQL_NAME), which runs before any client
# connects, rather than a temporary server here: it saves a server start and stop (about 1.5 s
# of pod 0's recovery).
flavor_seed_primary() {
  local dir=${1:?flavor_seed_primary needs DIR} donor=${2:?flavor_seed_primary needs DONOR_HOST} donor_cnf=${3:?flavor_seed_primary needs DONOR_CNF} state
  state=$(sql_value "$donor_cnf" "SELECT @@GLOBAL.gtid_binlog_state") || { log "cannot read the binary log GTID state of $donor"; return 1; }
  flavor_clone_into "$dir" "$donor" || return 1
  log "the first start continues the binary log GTID state ${state:-empty} ($FIRST_START_SQL_NAME)"
  continue_history_sql "$state" >"$dir/$FIRST_START_SQL_NAME" || { log "cannot write $dir/$FIRST_START_SQL_NAME"; return 1; }
}

# flavor_upgrade_system_tables: after the server's version changed (an image upgrade such as
# 10.11 to 11.8), upgrade this server's system tables, once: mariadb-upgrade compares the version
# recorded in the data directory (mariadb_upgrade_info) with the server's and does nothing when
# they match. Every pod upgrades its own tables, so nothing goes to the binary log (a replica
# would otherwise apply the primary's upgrade on top of its own). 1 on failure.
flavor_upgrade_system_tables() {
  local out pw
  pw=$(read_secret mysql-root-password) || return 1
  # The password goes by MYSQL_PWD (environment, never a command line): mariadb-upgrade copies an
  # option file's password into its own for its child clients unescaped, so a password holding a
  # quote or a backslash fails from there. Not --silent: that also hides the "already upgraded"
  # answer this tells the two cases by.
  if ! out=$(MYSQL_PWD=$pw mariadb-upgrade --user=root --socket="$RUN_DIR/mysqld.sock" --skip-write-binlog 2>&1); then
    printf '%s\n' "$out" | tail -n 20 >&2
    return 1
  fi
  if grep -q "already upgraded" <<<"$out"; then
    log "system tables already match server version $(sql_value "$CLIENT_CNF" "SELECT VERSION()")"
  else
    log "system tables upgraded to server version $(sql_value "$CLIENT_CNF" "SELECT VERSION()")"
  fi
}

# flavor_source_gave_up ERRNO: 0 when the replication receiver's error ERRNO means the primary
# will never send what this replica needs: 1236, for a GTID position no longer (or never) in the
# primary's binary logs; with gtid_strict_mode this is also how a diverged history shows.
flavor_source_gave_up() {
  [[ "${1:?flavor_source_gave_up needs ERRNO}" == 1236 ]]
}
