#!/usr/bin/env bash
# passwords.sh: applies a password changed in the Secret to the servers, without locking out the
# probes or replication. Sourced after lib.sh and flavor.sh, never run. The sidecar calls
# reconcile_passwords every PASSWORD_CHECK_SECONDS:
# - on the primary, ALTER USER for each account whose password changed; the statement is
#   replicated, so every replica's copy of the account follows;
# - on a replica, once the primary accepts the new replication password, the replication
#   connection is re-pointed with it (a replica never switches before the primary has it).
# Root's own login in the pods follows by itself (lib.sh ensure_root_cnf). What was applied is
# kept as one SHA-256 per Secret key in APPLIED_FILE on the data volume, never the passwords.

APPLIED_FILE=${APPLIED_FILE:-$DATA_ROOT/passwords.applied}

# applied_sum KEY: the recorded SHA-256 of KEY's applied password; empty when none is recorded.
applied_sum() {
  [[ -f "$APPLIED_FILE" ]] || return 0
  sed -n "s/^${1:?applied_sum needs a key}=//p" "$APPLIED_FILE" | tail -n 1
}

# record_applied KEY PASSWORD: remember that KEY's password PASSWORD is what the server has.
record_applied() {
  local key=${1:?record_applied needs a key} sum tmp="$APPLIED_FILE.tmp.$$"
  sum=$(password_sum "${2:?record_applied needs a password}") || return 1
  {
    if [[ -f "$APPLIED_FILE" ]]; then grep -v "^$key=" "$APPLIED_FILE" || true; fi
    echo "$key=$sum"
  } >"$tmp" || return 1
  mv -f "$tmp" "$APPLIED_FILE"
}

# record_applied_passwords: after initialisation every account has the Secret's password.
record_applied_passwords() {
  local key pw
  for key in $(required_secret_keys); do
    pw=$(read_secret "$key") || return 1
    record_applied "$key" "$pw" || return 1
  done
}

# primary_accounts: one line "SECRET_KEY ACCOUNT..." per account the chart manages, accounts
# written 'user'@'host' ready for ALTER USER.
primary_accounts() {
  echo "mysql-root-password 'root'@'localhost' 'root'@'%'"
  echo "mysql-replication-password $(sql_string "$REPLICATION_USER")@'%'"
  echo "mysql-clone-password $(sql_string "$CLONE_USER")@$(sql_string "$CLONE_ACCOUNT_HOST")"
  echo "mysql-test-password $(sql_string "$TEST_USER")@'%'"
  echo "mysql-monitor-password $(sql_string "$MONITOR_USER")@'localhost'"
  echo "mysql-metrics-password $(sql_string "$METRICS_USER")@'localhost'"
  [[ -z "${APP_USER:-}" ]] || echo "mysql-password $(sql_string "$APP_USER")@'%'"
}

CHART_ACCOUNTS_ENSURED=""

# ensure_chart_accounts: on the primary, once per sidecar start, create the helm test's, the
# probes' and the exporter's accounts if they are missing (releases from before 0.3.0 have none,
# from before 0.5.0 no exporter's) with the Secret's passwords; replicas receive them by replication.
ensure_chart_accounts() {
  local test monitor metrics
  [[ -z "$CHART_ACCOUNTS_ENSURED" ]] || return 0
  test=$(read_secret mysql-test-password) || return 1
  monitor=$(read_secret mysql-monitor-password) || return 1
  metrics=$(read_secret mysql-metrics-password) || return 1
  test=$(sql_password "$test") || return 1
  monitor=$(sql_password "$monitor") || return 1
  metrics=$(sql_password "$metrics") || return 1
  { test_account_sql "$test"; monitor_account_sql "$monitor"; metrics_account_sql "$metrics"; } | sql "$CLIENT_CNF" \
    || { log "creating the accounts $TEST_USER, $MONITOR_USER and $METRICS_USER failed"; return 1; }
  log "the accounts $TEST_USER, $MONITOR_USER and $METRICS_USER exist"
  CHART_ACCOUNTS_ENSURED=1
}

# reconcile_primary: ALTER USER every account whose Secret password differs from the applied one.
# A key seen for the first time (a release from before this was recorded) is taken as applied.
reconcile_primary() {
  local key accounts pw sum have stmt account quoted
  require_env REPLICATION_USER CLONE_USER
  while read -r key accounts; do
    pw=$(read_secret "$key") || return 1
    sum=$(password_sum "$pw") || return 1
    have=$(applied_sum "$key") || return 1
    if [[ -z "$have" ]]; then
      record_applied "$key" "$pw" || return 1
      continue
    fi
    [[ "$have" != "$sum" ]] || continue
    quoted=$(sql_password "$pw") || return 1
    stmt="ALTER USER"
    for account in $accounts; do
      stmt+=" $account IDENTIFIED BY $quoted,"
    done
    log "the Secret's $key changed: setting the new password of $accounts"
    sql "$CLIENT_CNF" <<<"${stmt%,};" || { log "ALTER USER for $key failed"; return 1; }
    record_applied "$key" "$pw" || return 1
  done < <(primary_accounts)
  ensure_root_cnf
}

WAITING_FOR_PRIMARY=""

# reconcile_replica: when the Secret's replication password changed and the primary already
# accepts it, re-point replication with it.
reconcile_replica() {
  local pw sum have cnf="$RUN_DIR/replication-check.cnf"
  require_env PRIMARY_HOST REPLICATION_USER
  pw=$(read_secret mysql-replication-password) || return 1
  sum=$(password_sum "$pw") || return 1
  have=$(applied_sum mysql-replication-password) || return 1
  if [[ -z "$have" ]]; then
    record_applied mysql-replication-password "$pw"
    return
  fi
  [[ "$have" != "$sum" ]] || return 0
  if ! primary_accepts_replication "$cnf" "$pw"; then
    if [[ -z "$WAITING_FOR_PRIMARY" ]]; then
      log "the Secret's replication password changed; waiting for the primary to accept it"
      WAITING_FOR_PRIMARY=1
    fi
    return 0
  fi
  WAITING_FOR_PRIMARY=""
  log "the primary accepts the new replication password: re-pointing replication with it"
  repoint_replication set_replication_password "$pw" || return 1
  record_applied mysql-replication-password "$pw"
}

# primary_accepts_replication CNF PASSWORD: 0 when the primary accepts the replication account
# with PASSWORD, logging in as replication does (a member: verified TLS, the release's
# certificate). CNF is the option file used for the check, removed afterwards.
primary_accepts_replication() {
  local cnf=${1:?primary_accepts_replication needs CNF} rc=0
  write_member_cnf "$cnf" "$REPLICATION_USER" "${2:?primary_accepts_replication needs PASSWORD}" "$PRIMARY_HOST" || return 1
  sql "$cnf" --connect-timeout=5 <<<"SELECT 1" >/dev/null 2>&1 || rc=1
  rm -f "$cnf"
  return "$rc"
}

# repoint_replication CMD...: run CMD, which changes the replication connection, under the
# re-pointing marker (the probe reads it: threads stopped by this deliberate reconnection are not
# a failure), then give replication 30 s to run again; 1 when CMD fails.
repoint_replication() {
  touch "$REPOINTING_MARKER" || return 1
  if ! "$@"; then
    rm -f "$REPOINTING_MARKER"
    return 1
  fi
  wait_replication_running 30 || log "replication is not running 30s after re-pointing; the probe will say why"
  rm -f "$REPOINTING_MARKER"
}

# set_replication_password PASSWORD: the replication connection logs in with PASSWORD from now on
# (the flavor says which threads must stop for the change).
set_replication_password() {
  local pw
  pw=$(sql_password "${1-}") || return 1
  sql "$CLIENT_CNF" <<SQL
$REPLICATION_PASSWORD_STOP;
$REPLICATION_PASSWORD_CHANGE = $pw;
$REPLICATION_PASSWORD_START;
SQL
}

# wait_replication_running SECONDS: 0 once both replication threads run; 1 after SECONDS.
wait_replication_running() {
  local timeout=${1:?wait_replication_running needs SECONDS} start=$SECONDS status io sqlt
  while (( SECONDS - start < timeout )); do
    if status=$(status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" "${REPLICA_FIELD[io]}" "${REPLICA_FIELD[sql]}"); then
      IFS=$'\t' read -r io sqlt <<<"$status"
      [[ "$io" == "Yes" && "$sqlt" == "Yes" ]] && return 0
    fi
    sleep 1
  done
  return 1
}

# reconcile_passwords ORDINAL: the step the sidecar repeats; also refreshes root's login.
reconcile_passwords() {
  local ordinal=${1:?reconcile_passwords needs an ordinal}
  ensure_root_cnf || return 1
  if (( ordinal == 0 )); then
    ensure_chart_accounts || return 1
    reconcile_primary
  else
    reconcile_replica
  fi
}
