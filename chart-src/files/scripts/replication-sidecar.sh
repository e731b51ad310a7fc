#!/usr/bin/env bash
# replication-sidecar.sh (sidecar container): once the local server answers, a replica points
# replication at the primary from the position its clone carried and starts it (once: later
# starts find it configured, and the server resumes replication by itself). Where the flavor
# needs it (MariaDB) it first upgrades the system tables after a server version change, and
# then serves backups to the next new replica, in the background. For the pod's life it
# applies password changes from the Secret (passwords.sh) and keeps the pod's use of the release's
# certificate current (tls.sh), and a replica that can never
# continue (purged binary logs, diverged history) re-clones itself (repair-replica.sh). With
# ROLE_LABEL set it labels its pod primary or replica (label_role). On pod 0 seeded from
# bootstrap.cloneFrom's source it makes the cut-over when asked (bootstrap.sh). With
# backup.binlogs, pod 0 archives its binary logs (binlog-archive.sh).
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=passwords.sh
. "$(dirname "${BASH_SOURCE[0]}")/passwords.sh"
# shellcheck source=tls.sh
. "$(dirname "${BASH_SOURCE[0]}")/tls.sh"
# shellcheck source=repair-replica.sh
. "$(dirname "${BASH_SOURCE[0]}")/repair-replica.sh"
# shellcheck source=bootstrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
# shellcheck source=binlog-archive.sh
. "$(dirname "${BASH_SOURCE[0]}")/binlog-archive.sh"

BACKUP_SERVER_PID=""
# pod 0's binary-log archiver (binlog_archive_loop), with backup.binlogs.
BINLOG_ARCHIVER_PID=""
# Set while the system tables still wait for their upgrade (upgrade_system_tables).
SYSTEM_TABLES_PENDING=""
# Set while this pod still waits for its role label (label_role).
ROLE_LABEL_PENDING=""

# upgrade_system_tables: where the flavor needs it, bring the system tables up to the server's
# version. A failure (a root password in the middle of a rotation, say) is logged and retried on
# the next turn of the loop, which is also what applies that rotation on the primary.
upgrade_system_tables() {
  declare -F flavor_upgrade_system_tables >/dev/null || return 0
  if flavor_upgrade_system_tables; then
    SYSTEM_TABLES_PENDING=""
  else
    SYSTEM_TABLES_PENDING=1
    log "upgrading the system tables failed; trying again in ${PASSWORD_CHECK_SECONDS:-10}s"
  fi
}

# forget_first_start_sql: the server answers, so it ran the data directory's first-start SQL
# (an init file runs before the first connection is accepted); the SQL turns read_only off last,
# so a server still read-only failed it, and stays so. Once it succeeded, later starts are
# ordinary ones.
forget_first_start_sql() {
  local read_only
  [[ -f "$DATADIR/$FIRST_START_SQL_NAME" ]] || return 0
  read_only=$(sql_value "$CLIENT_CNF" "SELECT @@GLOBAL.read_only") || die "cannot read read_only"
  if [[ "$read_only" != 0 ]]; then
    die "the server failed $FIRST_START_SQL_NAME on its first start (its error is in the database container's log): it stays read-only; restart the pod to run it again"
  fi
  rm -f "$DATADIR/$FIRST_START_SQL_NAME" || die "cannot remove $DATADIR/$FIRST_START_SQL_NAME"
  log "the server ran $FIRST_START_SQL_NAME on its first start; removed it"
}

# configure_replication: point this new replica at the primary, once: a replica that already
# replicates from the primary as the replication user, by GTID, is left alone (a restart: the
# position lives in the server). The flavor's flavor_configure_replication holds the SQL.
configure_replication() {
  local status host user mode repl_pw
  require_env PRIMARY_HOST REPLICATION_USER
  # A failed status read must stop here, not look like "not configured yet" (on MariaDB,
  # reconfiguring would rewind gtid_slave_pos to the clone's).
  status=$(status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" "${REPLICA_FIELD[source]}" "${REPLICA_FIELD[user]}" "${REPLICA_FIELD[gtid]}") \
    || die "cannot read the replication status"
  IFS=$'\t' read -r host user mode <<<"$status"
  # Chart versions before 0.3.0 named the primary <sts>-0.<headless>; tls.sh re-points those.
  if [[ ( "$host" == "$PRIMARY_HOST" || "$host" == "$STATEFULSET_NAME-0.$HEADLESS_SERVICE" ) \
        && "$user" == "$REPLICATION_USER" && "$mode" == "$REPLICA_GTID_ON" ]]; then
    log "replication already points at $host as $REPLICATION_USER"
    return 0
  fi
  repl_pw=$(read_secret mysql-replication-password) || die "cannot read the replication password"
  flavor_configure_replication "$repl_pw"
  record_applied mysql-replication-password "$repl_pw" || die "cannot record the applied replication password"
  log "replication started"
}

# label_role ORDINAL: when ROLE_LABEL is set (readService.includePrimary=false), label this pod
# primary (ordinal 0) or replica, so the read Service can select the replicas alone. Pods come from
# one template, so the label cannot be in it. A failure is retried from the main loop.
label_role() {
  [[ -n "${ROLE_LABEL:-}" ]] || return 0
  local role
  role=$(pod_role "${1:?label_role needs an ordinal}")
  if label_own_pod "$ROLE_LABEL" "$role"; then
    ROLE_LABEL_PENDING=""
    log "labelled this pod $ROLE_LABEL=$role"
  else
    ROLE_LABEL_PENDING=1
    log "labelling this pod $ROLE_LABEL=$role failed; trying again in ${PASSWORD_CHECK_SECONDS:-10}s"
  fi
}

# start_backup_server: where the flavor serves backups to new replicas, start that server in the
# background.
start_backup_server() {
  declare -F flavor_serve_backups >/dev/null || return 0
  flavor_serve_backups &
  BACKUP_SERVER_PID=$!
}

# restart_backup_server: start the backup server again, so it presents the certificate files
# it just found changed (it reads them when it starts).
restart_backup_server() {
  [[ -n "$BACKUP_SERVER_PID" ]] || return 0
  log "restarting the backup server with the new certificate"
  kill -TERM "$BACKUP_SERVER_PID" 2>/dev/null || true
  wait "$BACKUP_SERVER_PID" 2>/dev/null || true
  start_backup_server
}

# stop: on pod deletion, stop the backup server and the archiver, and exit at once.
stop() {
  log "stopping"
  [[ -z "$BACKUP_SERVER_PID" ]] || kill -TERM "$BACKUP_SERVER_PID" 2>/dev/null || true
  [[ -z "$BINLOG_ARCHIVER_PID" ]] || kill -TERM "$BINLOG_ARCHIVER_PID" 2>/dev/null || true
  exit 0
}

main() {
  # A shell as PID 1 ignores SIGTERM unless it traps it.
  trap stop TERM INT
  require_env POD_NAME
  local ordinal
  ordinal=$(pod_ordinal "$POD_NAME")
  ensure_root_cnf
  label_role "$ordinal"
  # A re-clone interrupted by a restart of this container is finished first (the server waits for it).
  if (( ordinal > 0 )) && [[ -e "$RECLONE_MARKER" ]]; then
    reclone_self "$(cat "$RECLONE_MARKER")"
  fi
  log "waiting for the local server"
  until wait_for_server "$CLIENT_CNF" 3600 "local server"; do :; done
  forget_first_start_sql
  # A replica replicates first: its readiness waits on that, and a new MariaDB replica's copy lacks
  # the upgrade record, so its (idempotent) upgrade takes seconds; it never writes the binary log.
  if (( ordinal > 0 )); then
    configure_replication
  fi
  upgrade_system_tables
  start_backup_server
  if (( ordinal == 0 )) && binlog_archiving; then
    binlog_archive_loop "$CLIENT_CNF" &
    BINLOG_ARCHIVER_PID=$!
  fi
  log "applying password and certificate changes every ${PASSWORD_CHECK_SECONDS:-10}s"
  while :; do
    if (( ordinal == 0 )) && [[ -e "$BOOTSTRAP_MARKER" ]]; then
      # Read-only while it replicates from bootstrap.cloneFrom's source: the accounts have the
      # Secret's passwords since the copy; changes wait for the cut-over.
      bootstrap_turn || true
      ensure_root_cnf || log "cannot read root's password"
      reload_tls_if_changed || log "reloading the certificate failed; trying again"
    else
      reconcile_passwords "$ordinal" || log "applying a password change failed; trying again"
      reconcile_tls "$ordinal" || log "applying the certificate failed; trying again"
    fi
    if [[ -n "$TLS_RELOADED" ]]; then
      TLS_RELOADED=""
      restart_backup_server
    fi
    [[ -z "$SYSTEM_TABLES_PENDING" ]] || upgrade_system_tables
    [[ -z "$ROLE_LABEL_PENDING" ]] || label_role "$ordinal"
    if (( ordinal > 0 )); then check_replica_health; fi
    if [[ -n "$BINLOG_ARCHIVER_PID" ]] && ! kill -0 "$BINLOG_ARCHIVER_PID" 2>/dev/null; then
      die "the binary-log archiver exited; restarting the container"
    fi
    if [[ -n "$BACKUP_SERVER_PID" ]] && ! kill -0 "$BACKUP_SERVER_PID" 2>/dev/null; then
      die "the backup server exited; restarting the container"
    fi
    sleep "${PASSWORD_CHECK_SECONDS:-10}" &
    wait $! || true
  done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
