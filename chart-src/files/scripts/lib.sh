#!/usr/bin/env bash
# lib.sh: functions shared by the chart's in-pod scripts. Sourced, never run.
# Every input comes from the environment (set by the StatefulSet); nothing here
# is templated by Helm. It loads flavor.sh last: the flavor's commands.

DATA_ROOT=${DATA_ROOT:-/var/lib/mysql}
DATADIR=${DATADIR:-$DATA_ROOT/data}
# A data directory is built here and renamed to DATADIR only when complete, so a
# half-finished initialisation or clone is never started from.
STAGING_DIR=${STAGING_DIR:-$DATA_ROOT/data.staging}
# MySQL's clone lands in STAGING_DIR from a temporary server on an empty instance here (the clone
# plugin copies only into a running server). Never data: removed after every clone, and with any
# half-finished attempt.
CLONE_RECIPIENT_DIR=${CLONE_RECIPIENT_DIR:-$DATA_ROOT/clone-recipient}
# Where a clone records, in the data directory it made, its donor, GTID position, bytes and
# duration (read by the sidecar and the tests, kept for people). Used by the flavors' clone.sh.
# shellcheck disable=SC2034
CLONE_RECORD_NAME=mysql-chart-clone.info
RUN_DIR=${RUN_DIR:-/run/mysqld}
CONF_DIR=${CONF_DIR:-/etc/mysql-chart/active}
CONF_SRC=${CONF_SRC:-/etc/mysql-chart/conf}
SECRETS_DIR=${SECRETS_DIR:-/etc/mysql-chart/secrets}
# initSqlSecret's SQL, mounted into prepare-data only (initSql itself is in CONF_SRC).
INIT_SQL_SECRET_FILE=${INIT_SQL_SECRET_FILE:-/etc/mysql-chart/init-sql/init.sql}
# The release's CA, and the certificate and key every member presents, as a server and to its
# peers (values: tls.certificates).
TLS_DIR=${TLS_DIR:-/etc/mysql-chart/tls}
SCRIPTS_DIR=${SCRIPTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
DB_PORT=${DB_PORT:-3306}
# The helm test pod's account: it owns the mysql_chart_test database and nothing else.
TEST_USER=mysql_chart_test
# The probes' account: local socket only, allowed to read the replication status and nothing else.
MONITOR_USER=mysql_chart_monitor
# The metrics exporter's account (metrics.enabled): local socket only, what its default collectors
# read (the status, InnoDB's compression tables, the replication status) and nothing else.
METRICS_USER=mysql_chart_metrics
MY_CNF="$CONF_DIR/my.cnf"
# Present while the sidecar deliberately reconnects replication (a password change).
# shellcheck disable=SC2034 # used by passwords.sh and probe.sh
REPOINTING_MARKER="$RUN_DIR/replication-repointing"
CLIENT_CNF="$RUN_DIR/client-root.cnf"
# Present on the data volume while the sidecar re-clones this replica (repair-replica.sh): the
# server waits for it to go (run-server.sh), the probes keep the container alive meanwhile.
# shellcheck disable=SC2034 # used by repair-replica.sh, run-server.sh and probe.sh
RECLONE_MARKER="$DATA_ROOT/reclone.requested"
# Present on pod 0's data volume while it replicates from the server named by bootstrap.cloneFrom,
# read-only, until the cut-over (bootstrap.sh): run-server.sh starts the server read-only, the
# readiness probe treats pod 0 as a replica of that server, the sidecar makes the cut-over.
# shellcheck disable=SC2034 # used by bootstrap.sh, run-server.sh and probe.sh
BOOTSTRAP_MARKER="$DATA_ROOT/bootstrap.replicating"
# SQL a new data directory asks its first server start to run before that server accepts any
# connection (run-server.sh passes it as --init-file, with the server read-only; the sidecar
# removes it once the server answers). Pod 0 seeded from a MariaDB replica continues the
# replicas' GTID history this way, without a temporary server of its own. The SQL must be
# harmless when run twice, and must end by turning read_only off: a server keeps running after
# an init file's error, and then stays read-only (the sidecar says so) rather than take writes.
# shellcheck disable=SC2034 # used by run-server.sh, replication-sidecar.sh and flavor.sh
FIRST_START_SQL_NAME=mysql-chart-first-start.sql

# log MSG...: one line on stderr with a UTC timestamp and the script's name.
log() {
  printf '%s [%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${LOG_TAG:-$(basename "$0" .sh)}" "$*" >&2
}

# die MSG...: log an error and exit 1.
die() {
  log "ERROR: $*"
  exit 1
}

# require_env NAME...: fail, naming every missing variable at once, when any is unset or empty.
require_env() {
  local missing=() name
  for name in "$@"; do
    [[ -n "${!name:-}" ]] || missing+=("$name")
  done
  (( ${#missing[@]} == 0 )) || die "missing environment variable(s): ${missing[*]}"
}

# pod_ordinal POD_NAME: print the StatefulSet ordinal (the number after the last dash).
pod_ordinal() {
  local name=${1:?pod_ordinal needs a pod name}
  local ordinal=${name##*-}
  [[ "$ordinal" =~ ^[0-9]+$ ]] || die "pod name '$name' does not end in -<ordinal>"
  printf '%d\n' "$((10#$ordinal))"
}

# pod_role ORDINAL: print "primary" for ordinal 0, "replica" otherwise.
pod_role() {
  if (( ${1:?pod_role needs an ordinal} == 0 )); then echo primary; else echo replica; fi
}

# peer_host ORDINAL: stable DNS name of the pod with that ordinal (<sts>-N.<headless>.<namespace>,
# which the release's certificate names; PRIMARY_HOST is ordinal 0's).
peer_host() {
  require_env STATEFULSET_NAME HEADLESS_SERVICE POD_NAMESPACE
  printf '%s-%d.%s.%s\n' "$STATEFULSET_NAME" "${1:?peer_host needs an ordinal}" "$HEADLESS_SERVICE" "$POD_NAMESPACE"
}

# donor_ordinal ORDINAL: the pod a new replica copies by preference: the previous one (pod 1
# copies the primary).
donor_ordinal() {
  local ordinal=${1:?donor_ordinal needs an ordinal}
  (( ordinal > 0 )) || die "the primary (ordinal 0) has no donor"
  echo $((ordinal - 1))
}

# donor_candidates ORDINAL: the pods a new replica may copy, in order of preference, one per line:
# the previous one; then the replicas below the one before it, which is the donor the previous
# pod takes when the two start side by side (a scale-out by several), so the copies run in parallel
# instead of queueing at one donor; then that one; the primary last (a copy loads its donor).
donor_candidates() {
  local ordinal=${1:?donor_candidates needs an ordinal} o
  (( ordinal > 0 )) || die "the primary (ordinal 0) has no donor"
  (( ordinal == 1 )) || echo $((ordinal - 1))
  for ((o = ordinal - 3; o >= 1; o--)); do echo "$o"; done
  (( ordinal - 2 < 1 )) || echo $((ordinal - 2))
  echo 0
}

# read_secret KEY: print the password KEY from the release's Secret (SECRETS_DIR) or, for a key
# that Secret does not hold at all, from the chart's internal Secret (INTERNAL_SECRETS_DIR: the
# clone password the chart generates beside a user's auth.existingSecret). A missing or empty
# key fails, naming it. Callers check the status (`pw=$(read_secret K) || return 1`): inside
# $(...) die only ends the subshell.
read_secret() {
  local key=${1:?read_secret needs a key} file value
  file="$SECRETS_DIR/$key"
  if [[ ! -e "$file" && -n "${INTERNAL_SECRETS_DIR:-}" && -e "$INTERNAL_SECRETS_DIR/$key" ]]; then
    file="$INTERNAL_SECRETS_DIR/$key"
  fi
  [[ -e "$file" ]] || die "secret key '$key' is missing (looked in $SECRETS_DIR${INTERNAL_SECRETS_DIR:+ and $INTERNAL_SECRETS_DIR}): no account gets an empty password"
  value=$(<"$file") || die "cannot read secret key '$key' ($file)"
  [[ -n "$value" ]] || die "secret key '$key' is empty ($file): no account gets an empty password"
  printf '%s' "$value"
}

# check_secrets KEY...: fail, naming every missing or empty key at once, before anything starts.
check_secrets() {
  local bad=() key
  for key in "$@"; do
    (read_secret "$key" >/dev/null 2>&1) || bad+=("$key")
  done
  (( ${#bad[@]} == 0 )) || die "the Secret lacks a non-empty value for: ${bad[*]} (no account gets an empty password; set them and the pod starts)"
}

# required_secret_keys: the Secret keys this release needs (the application user's only when set).
required_secret_keys() {
  echo mysql-root-password mysql-replication-password mysql-clone-password mysql-test-password mysql-monitor-password mysql-metrics-password
  [[ -z "${APP_USER:-}" ]] || echo mysql-password
}

# sql_password VALUE: VALUE as a SQL string literal for IDENTIFIED BY; fails on an empty one, the
# last guard against a passwordless account.
sql_password() {
  [[ -n "${1-}" ]] || die "refusing to set an empty password"
  sql_string "$1"
}

# sql_string VALUE: print VALUE as a single-quoted SQL string literal.
sql_string() {
  local v=${1-}
  v=${v//\\/\\\\}
  v=${v//\'/\'\'}
  printf "'%s'" "$v"
}

# sql_ident NAME: print NAME as a backquoted SQL identifier.
sql_ident() {
  local v=${1:?sql_ident needs a name}
  # shellcheck disable=SC2016 # backquotes are literal here
  printf '`%s`' "${v//\`/\`\`}"
}

# cnf_string VALUE: print VALUE as a double-quoted option-file value.
cnf_string() {
  local v=${1-}
  v=${v//\\/\\\\}
  v=${v//\"/\\\"}
  printf '"%s"' "$v"
}

# write_client_cnf FILE USER PASSWORD [HOST PORT]: an option file (mode 0600) for the
# client, so passwords never appear on a command line. Without HOST it uses the socket.
# The temporary server of a fresh data directory is the one place an empty PASSWORD is used.
write_client_cnf() {
  local file=${1:?write_client_cnf needs a file} user=${2:?write_client_cnf needs a user} password=${3-} host=${4-} port=${5:-$DB_PORT}
  local tmp="$file.tmp.$$"
  (
    umask 077
    {
      echo "[client]"
      echo "user=$(cnf_string "$user")"
      [[ -z "$password" ]] || echo "password=$(cnf_string "$password")"
      if [[ -n "$host" ]]; then
        echo "host=$host"
        echo "port=$port"
        echo "protocol=TCP"
      else
        echo "socket=${CLIENT_SOCKET:-$RUN_DIR/mysqld.sock}"
      fi
    } >"$tmp"
  ) || { rm -f "$tmp"; log "cannot write the option file $file"; return 1; }
  mv -f "$tmp" "$file"
}

# write_tls_client_cnf FILE USER PASSWORD HOST: write_client_cnf for a TLS connection to HOST
# that verifies the server against the release's CA, hostname included.
write_tls_client_cnf() {
  local file=${1:?write_tls_client_cnf needs a file}
  write_client_cnf "$file" "${2:?write_tls_client_cnf needs a user}" "${3-}" "${4:?write_tls_client_cnf needs a host}" "$DB_PORT" || return 1
  {
    echo "ssl-ca=$TLS_DIR/ca.crt"
    echo "$CLIENT_VERIFY_SERVER_OPTION"
  } >>"$file" || { log "cannot write the option file $file"; return 1; }
}

# write_member_cnf FILE USER PASSWORD HOST: write_tls_client_cnf for a connection to another
# member of the release, also presenting the release's certificate, as the members-only accounts
# require.
write_member_cnf() {
  local file=${1:?write_member_cnf needs a file}
  write_tls_client_cnf "$@" || return 1
  {
    echo "ssl-cert=$TLS_DIR/tls.crt"
    echo "ssl-key=$TLS_DIR/tls.key"
  } >>"$file" || { log "cannot write the option file $file"; return 1; }
}

# replication_tls_options: the replication connection's TLS options, every one explicit (the
# flavors' defaults differ, MariaDB 11.8's from 10.11's too): the primary verified against the
# release's CA with its hostname (PRIMARY_HOST, <sts>-0.<headless>.<namespace>, which the
# certificate names), and the release's certificate presented, as the account requires.
replication_tls_options() {
  local p=$REPLICATION_OPTION_PREFIX
  cat <<SQL
  ${p}_SSL = 1,
  ${p}_SSL_CA = $(sql_string "$TLS_DIR/ca.crt"),
  ${p}_SSL_CERT = $(sql_string "$TLS_DIR/tls.crt"),
  ${p}_SSL_KEY = $(sql_string "$TLS_DIR/tls.key"),
  ${p}_SSL_VERIFY_SERVER_CERT = 1
SQL
}

# cert_name FIELD: the subject or issuer (FIELD) of the release's certificate, in the one-line
# form the servers compare in REQUIRE SUBJECT / ISSUER (/CN=...).
cert_name() {
  local field=${1:?cert_name needs subject or issuer} out
  out=$(openssl x509 -in "$TLS_DIR/tls.crt" -noout "-$field" -nameopt compat) || { log "cannot read the $field of $TLS_DIR/tls.crt"; return 1; }
  printf '%s\n' "${out#*=}"
}

# member_require: the REQUIRE clause of the accounts only members may use (replication, and the
# MySQL clone): a client must present a certificate with the release certificate's subject,
# issued by the release's CA. The password alone is not enough.
member_require() {
  local subject issuer
  subject=$(cert_name subject) || return 1
  issuer=$(cert_name issuer) || return 1
  printf 'REQUIRE SUBJECT %s AND ISSUER %s\n' "$(sql_string "$subject")" "$(sql_string "$issuer")"
}

# tls_files_sum: one SHA-256 over the mounted CA, certificate and key (a renewed or replaced
# certificate changes it).
tls_files_sum() {
  cat "$TLS_DIR/ca.crt" "$TLS_DIR/tls.crt" "$TLS_DIR/tls.key" | sha256sum | cut -c1-64
  return "${PIPESTATUS[0]}"
}

# password_sum PASSWORD: its SHA-256, to tell a changed Secret without keeping passwords around.
password_sum() {
  printf '%s' "${1:?password_sum needs a password}" | sha256sum | cut -c1-64
}

# ensure_root_cnf: CLIENT_CNF logs in as root over the local socket with the Secret's password.
# When the Secret's root password changes, the new one is used as soon as the server takes it
# (the primary's sidecar applies it; replicas get it by replication); until then the file keeps
# the password that works, so probes and the sidecar are never locked out by a rotation.
ensure_root_cnf() {
  local pw sum candidate
  pw=$(read_secret mysql-root-password) || return 1
  sum=$(password_sum "$pw") || return 1
  if [[ -s "$CLIENT_CNF" && "$(cat "$CLIENT_CNF.sum" 2>/dev/null)" == "$sum" ]]; then
    return 0
  fi
  if [[ ! -s "$CLIENT_CNF" ]]; then
    write_client_cnf "$CLIENT_CNF" root "$pw" || return 1
    echo "$sum" >"$CLIENT_CNF.sum" || return 1
    return 0
  fi
  candidate="$CLIENT_CNF.new.$$"
  write_client_cnf "$candidate" root "$pw" || return 1
  if sql "$candidate" --connect-timeout=4 <<<"SELECT 1" >/dev/null 2>&1; then
    mv -f "$candidate" "$CLIENT_CNF" || return 1
    echo "$sum" >"$CLIENT_CNF.sum" || return 1
    log "using root's new password from the Secret"
  else
    rm -f "$candidate"
  fi
}

# sql CNF [CLIENT_ARGS...] < SQL: run SQL from stdin with the option file CNF; batch output, no headers.
sql() {
  local cnf=${1:?sql needs an option file}; shift
  "$CLIENT_BIN" --defaults-extra-file="$cnf" --batch --skip-column-names "$@"
}

# sql_value CNF QUERY: print the single value a query returns.
sql_value() {
  local cnf=${1:?sql_value needs CNF} query=${2:?sql_value needs QUERY}
  sql "$cnf" <<<"$query"
}

# status_fields CNF STATEMENT FIELD...: print the named columns, tab-separated, of the first
# row of a statement such as SHOW REPLICA STATUS; an empty line when it returns no row.
status_fields() {
  local cnf=${1:?status_fields needs CNF} stmt=${2:?status_fields needs STATEMENT}; shift 2
  "$CLIENT_BIN" --defaults-extra-file="$cnf" --batch <<<"$stmt" | awk -F'\t' -v want="$*" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; n = split(want, w, " "); next }
    NR == 2 { for (j = 1; j <= n; j++) printf "%s%s", (j > 1 ? "\t" : ""), ((w[j] in col) ? $(col[w[j]]) : ""); printf "\n"; done = 1; exit }
    END { if (!done) print "" }'
  return "${PIPESTATUS[0]}"
}

# wait_for_server CNF TIMEOUT_SECONDS [WHAT]: poll until SELECT 1 succeeds; fail after the timeout.
wait_for_server() {
  local cnf=${1:?wait_for_server needs CNF} timeout=${2:?wait_for_server needs TIMEOUT_SECONDS} what=${3:-server} start=$SECONDS last_log=$SECONDS
  until sql "$cnf" --connect-timeout=5 <<<"SELECT 1" >/dev/null 2>&1; do
    if (( SECONDS - start >= timeout )); then
      return 1
    fi
    if (( SECONDS - last_log >= 30 )); then
      log "still waiting for the $what ($((SECONDS - start))s)"
      last_log=$SECONDS
    fi
    # Short: a pod's start waits on this (temporary servers, the sidecar's first turn).
    sleep 0.5
  done
}

# TEMP_SERVER_PID: pid of the server started by start_temp_server.
TEMP_SERVER_PID=""

# start_temp_server DIR SOCKET [SERVER_ARGS...]: start a private server on DIR, reachable only
# through SOCKET (no network), for initialisation and clone steps; wait until it answers as root
# with no password (fresh data) or with the root password (cloned data), per CLIENT_CNF_FOR_TEMP.
start_temp_server() {
  local dir=${1:?start_temp_server needs DIR} sock=${2:?start_temp_server needs SOCKET}; shift 2
  rm -f "$sock"
  # Its output goes to stderr (the log), never to a caller's $(...), which would wait for it.
  "$SERVER_BIN" --defaults-file="$MY_CNF" --datadir="$dir" --skip-networking \
    --socket="$sock" --pid-file="$sock.pid" "$@" >&2 &
  TEMP_SERVER_PID=$!
  local start=$SECONDS
  until [[ -S "$sock" ]]; do
    kill -0 "$TEMP_SERVER_PID" 2>/dev/null || { wait "$TEMP_SERVER_PID" || true; TEMP_SERVER_PID=""; return 1; }
    (( SECONDS - start < 600 )) || die "temporary server on $dir did not open its socket in 600s"
    sleep 0.2
  done
}

# stop_temp_server CNF: shut the temporary server down cleanly and wait for it to exit.
stop_temp_server() {
  local cnf=${1:?stop_temp_server needs CNF}
  [[ -n "$TEMP_SERVER_PID" ]] || return 0
  if kill -0 "$TEMP_SERVER_PID" 2>/dev/null; then
    "$ADMIN_BIN" --defaults-extra-file="$cnf" shutdown >/dev/null 2>&1 || kill -TERM "$TEMP_SERVER_PID" 2>/dev/null || true
  fi
  wait "$TEMP_SERVER_PID" 2>/dev/null || true
  TEMP_SERVER_PID=""
}

# start_copy DIR SOCK CNF INIT_SQL WHAT: start a temporary server on the copied data in DIR (a
# clone, a restored backup) and wait until it answers as root with the Secret's password through
# CNF (written here). INIT_SQL, when given, runs as its init file: before anyone connects, the only
# way in while its accounts are another server's. On failure the server is stopped; 1.
start_copy() {
  local dir=${1:?start_copy needs DIR} sock=${2:?start_copy needs SOCK} cnf=${3:?start_copy needs CNF} init_sql=${4-} what=${5:?start_copy needs WHAT}
  local init_file="$RUN_DIR/copy-init.sql" root_pw args=()
  root_pw=$(read_secret mysql-root-password) || return 1
  CLIENT_SOCKET=$sock write_client_cnf "$cnf" root "$root_pw" || return 1
  if [[ -n "$init_sql" ]]; then
    # It holds passwords: the pod's own run directory, readable by this user only, removed below.
    ( umask 077 && printf '%s\n' "$init_sql" >"$init_file" ) || { log "cannot write $init_file"; return 1; }
    args=(--init-file="$init_file")
  fi
  start_temp_server "$dir" "$sock" "${FLAVOR_SKIP_REPLICA_START[@]}" "${args[@]}" || { log "the server did not start on $what"; rm -f "$init_file"; return 1; }
  if ! wait_for_server "$cnf" 900 "server on $what"; then
    log "the server on $what does not answer as root (with an init file, its error is in the log above)"
    stop_temp_server "$cnf"
    rm -f "$init_file"
    return 1
  fi
  rm -f "$init_file"
}

# replay_binlogs CNF GTID DIR UNTIL FINISH_SQL: restore.pointInTime on the running restored copy
# (CNF reaches it as root): the archived binary logs in DIR (in DIR/order's order) applied after
# GTID (the backup's position: what it holds is skipped) up to the first event at or after UNTIL
# (UTC), keeping their GTIDs (the flavor's flavor_decode_binlogs), then FINISH_SQL once more in the
# same session, so that an account change the backed-up release made after the backup does not
# replace this release's accounts.
replay_binlogs() {
  local cnf=${1:?replay_binlogs needs CNF} gtid=${2?replay_binlogs needs GTID} dir=${3:?replay_binlogs needs DIR}
  local until=${4:?replay_binlogs needs UNTIL} finish=${5:?replay_binlogs needs FINISH_SQL} stop files=()
  mapfile -t files <"$dir/order" || return 1
  if (( ${#files[@]} == 0 )); then
    log "no binary log was archived after the backup: nothing to replay"
    return 0
  fi
  stop=$(date -u -d "$until" '+%Y-%m-%d %H:%M:%S') || return 1
  log "replaying ${#files[@]} archived binary log(s) after GTID ${gtid:-empty}, up to $until"
  { (cd "$dir" && flavor_decode_binlogs "$gtid" "$stop" "${files[@]}") && printf '%s\n' "$finish"; } | sql "$cnf"
}

# copy_with_retries DONOR STEP [ARGS...]: run "STEP STAGING_DIR DONOR ARGS..." (a flavor's copy of
# DONOR) up to CLONE_ATTEMPTS times, discarding each failed attempt's STAGING_DIR and waiting
# CLONE_RETRY_DELAY_SECONDS in between; 1 when every attempt failed. STEP runs under `||`, so it
# checks each of its own steps (errexit is off there). STEP returning 2 means the donor is busy
# with another copy and nothing was copied (MySQL's donor serves one clone at a time, and
# replicas started side by side ask at once): tried again every second, for up to
# DONOR_BUSY_SECONDS, without counting as an attempt or discarding STAGING_DIR.
copy_with_retries() {
  local donor=${1:?copy_with_retries needs DONOR} step=${2:?copy_with_retries needs STEP} attempt attempts=${CLONE_ATTEMPTS:-5} rc busy=0
  shift 2
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    (( busy > 0 )) || log "clone attempt $attempt/$attempts from $donor"
    rc=0
    "$step" "$STAGING_DIR" "$donor" "$@" || rc=$?
    (( rc != 0 )) || return 0
    if (( rc == 2 && busy < ${DONOR_BUSY_SECONDS:-600} )); then
      (( busy % 30 )) || log "donor $donor is busy with another copy; asking again every second"
      busy=$((busy + 1))
      attempt=$((attempt - 1))
      sleep 1
      continue
    fi
    busy=0
    rm -rf "$STAGING_DIR"
    (( attempt == attempts )) || sleep "${CLONE_RETRY_DELAY_SECONDS:-10}"
  done
  return 1
}

# remote_root_cnf FILE HOST: an option file logging in as root to HOST over the network, as a
# member of the release (root@'%' requires the release's certificate unless REMOTE_ROOT=true).
remote_root_cnf() {
  local pw
  pw=$(read_secret mysql-root-password) || return 1
  write_member_cnf "${1:?remote_root_cnf needs FILE}" root "$pw" "${2:?remote_root_cnf needs HOST}"
}

# root_require: the REQUIRE clause of root@'%': the release's certificate, or none when REMOTE_ROOT=true.
root_require() {
  if [[ "${REMOTE_ROOT:-false}" == true ]]; then
    echo "REQUIRE NONE"
  else
    member_require
  fi
}

# run_on_datadir DIR < SQL: run SQL as root on a private temporary server over DIR (no network,
# replication not started), then shut it down. 1 on any failure.
run_on_datadir() {
  local dir=${1:?run_on_datadir needs DIR} sock="$RUN_DIR/offline.sock" cnf="$RUN_DIR/offline-client.cnf" root rc=0
  root=$(read_secret mysql-root-password) || return 1
  CLIENT_SOCKET=$sock write_client_cnf "$cnf" root "$root" || return 1
  start_temp_server "$dir" "$sock" "${FLAVOR_SKIP_REPLICA_START[@]}" || { log "the temporary server did not start on $dir"; return 1; }
  wait_for_server "$cnf" 900 "temporary server on $dir" || { stop_temp_server "$cnf"; return 1; }
  sql "$cnf" || rc=$?
  stop_temp_server "$cnf"
  rm -f "$cnf"
  return "$rc"
}

# create_user ACCOUNT QUOTED_PASSWORD [OPTIONS]: the statement creating one of the chart's
# accounts. With ACCOUNTS_MAY_EXIST=true (data copied from a server outside the release,
# bootstrap.sh) an account of that name may be there already: it is created if missing, then
# given the chart's password, authentication plugin and OPTIONS.
create_user() {
  local account=${1:?create_user needs ACCOUNT} pw=${2:?create_user needs a password} options=${3-}
  if [[ "${ACCOUNTS_MAY_EXIST:-false}" == true ]]; then
    ensure_user "$@"
  else
    echo "CREATE USER $account IDENTIFIED BY $pw${options:+ $options};"
  fi
}

# ensure_user ACCOUNT QUOTED_PASSWORD [OPTIONS]: create_user for an account that may exist (the
# chart's internal ones, also created on upgrades): CREATE USER IF NOT EXISTS, and with
# ACCOUNTS_MAY_EXIST=true an ALTER USER that makes the password the chart's.
ensure_user() {
  local account=${1:?ensure_user needs ACCOUNT} pw=${2:?ensure_user needs a password} options=${3-}
  echo "CREATE USER IF NOT EXISTS $account IDENTIFIED BY $pw${options:+ $options};"
  if [[ "${ACCOUNTS_MAY_EXIST:-false}" == true ]]; then
    # MariaDB's IDENTIFIED BY sets its password plugin; MySQL names it (PASSWORD_PLUGIN).
    echo "ALTER USER $account IDENTIFIED${PASSWORD_PLUGIN:+ WITH $PASSWORD_PLUGIN} BY $pw${options:+ $options};"
  fi
}

# account_sql: the SQL that gives a fresh primary its accounts (root@%, replication, clone, the
# helm test's, the probes', the exporter's, the optional application user and database); the clone account's
# host and grants are the flavor's.
# Accounts reached over the network by members only require the release's certificate (a
# localhost-only clone account, MariaDB's, needs no certificate: only the pod itself reaches it),
# and so does root@'%' unless REMOTE_ROOT=true.
# Runs in $(...), so every step's failure is returned explicitly.
account_sql() {
  local root repl clone app="" test monitor metrics root_pw repl_pw clone_pw app_pw test_pw monitor_pw metrics_pw clone_account members clone_require="" root_requires
  root=$(read_secret mysql-root-password) || return 1
  test=$(read_secret mysql-test-password) || return 1
  monitor=$(read_secret mysql-monitor-password) || return 1
  metrics=$(read_secret mysql-metrics-password) || return 1
  members=$(member_require) || return 1
  root_requires=$(root_require) || return 1
  [[ "$CLONE_ACCOUNT_HOST" == localhost ]] || clone_require=$members
  repl=$(read_secret mysql-replication-password) || return 1
  clone=$(read_secret mysql-clone-password) || return 1
  if [[ -n "${APP_USER:-}" ]]; then
    app=$(read_secret mysql-password) || return 1
  fi
  require_env REPLICATION_USER CLONE_USER
  root_pw=$(sql_password "$root") || return 1
  repl_pw=$(sql_password "$repl") || return 1
  clone_pw=$(sql_password "$clone") || return 1
  clone_account="$(sql_string "$CLONE_USER")@$(sql_string "$CLONE_ACCOUNT_HOST")"
  if [[ "${ACCOUNTS_MAY_EXIST:-false}" == true ]]; then
    ensure_user "'root'@'localhost'" "$root_pw"
    echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT OPTION;"
  else
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $root_pw;"
  fi
  create_user "'root'@'%'" "$root_pw" "$root_requires"
  echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;"
  create_user "$(sql_string "$REPLICATION_USER")@'%'" "$repl_pw" "$members"
  echo "GRANT REPLICATION SLAVE ON *.* TO $(sql_string "$REPLICATION_USER")@'%';"
  create_user "$clone_account" "$clone_pw" "$clone_require"
  echo "GRANT $CLONE_GRANTS ON *.* TO $clone_account;"
  test_pw=$(sql_password "$test") || return 1
  test_account_sql "$test_pw"
  monitor_pw=$(sql_password "$monitor") || return 1
  monitor_account_sql "$monitor_pw"
  metrics_pw=$(sql_password "$metrics") || return 1
  metrics_account_sql "$metrics_pw"
  if [[ -n "${APP_DATABASE:-}" ]]; then
    echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$APP_DATABASE");"
  fi
  if [[ -n "${APP_USER:-}" ]]; then
    app_pw=$(sql_password "$app") || return 1
    create_user "$(sql_string "$APP_USER")@'%'" "$app_pw"
    if [[ -n "${APP_DATABASE:-}" ]]; then
      echo "GRANT ALL PRIVILEGES ON $(sql_ident "$APP_DATABASE").* TO $(sql_string "$APP_USER")@'%';"
    fi
  fi
}

# test_account_sql QUOTED_PASSWORD: the helm test pod's account (idempotent: also run on the
# primaries of releases from before 0.3.0): it owns the mysql_chart_test database and nothing else.
test_account_sql() {
  ensure_user "$(sql_string "$TEST_USER")@'%'" "${1:?test_account_sql needs a password}"
  echo "GRANT ALL PRIVILEGES ON \`mysql_chart_test\`.* TO $(sql_string "$TEST_USER")@'%';"
}

# monitor_account_sql QUOTED_PASSWORD: the probes' account (idempotent, like test_account_sql):
# local socket only, with the one privilege the replication status needs (the flavor's).
monitor_account_sql() {
  ensure_user "$(sql_string "$MONITOR_USER")@'localhost'" "${1:?monitor_account_sql needs a password}"
  echo "GRANT $MONITOR_GRANTS ON *.* TO $(sql_string "$MONITOR_USER")@'localhost';"
}

# metrics_account_sql QUOTED_PASSWORD: the metrics exporter's account (idempotent, like
# test_account_sql): local socket only, PROCESS (InnoDB's compression tables) and the flavor's
# replication status privilege, at most 3 connections.
metrics_account_sql() {
  ensure_user "$(sql_string "$METRICS_USER")@'localhost'" "${1:?metrics_account_sql needs a password}" "WITH MAX_USER_CONNECTIONS 3"
  echo "GRANT PROCESS, $MONITOR_GRANTS ON *.* TO $(sql_string "$METRICS_USER")@'localhost';"
}

# initialize_primary DIR: build a fresh primary's data directory in DIR: system tables,
# accounts, the application database and user, then the user's init SQL, all exactly once.
initialize_primary() {
  local dir=${1:?initialize_primary needs DIR} accounts pre post root
  log "initialising a new data directory in $dir"
  # Built before the server starts: a missing password stops here, never halfway through.
  pre=$(flavor_pre_account_sql) || die "building the account SQL failed"
  accounts=$(account_sql) || die "building the account SQL failed (see above)"
  post=$(flavor_post_account_sql) || die "building the account SQL failed"
  root=$(read_secret mysql-root-password) || die "cannot read the root password"
  if [[ "${FLAVOR_INITIALIZE_RUNS_SQL:-false}" == true && ! -s "$CONF_SRC/init.sql" && ! -s "$INIT_SQL_SECRET_FILE" ]]; then
    # No user SQL to run (its errors are reported by a running server): the accounts are created
    # by the initialisation itself. The file holds passwords: the pod's own run directory, removed after.
    local sql_file="$RUN_DIR/init-accounts.sql"
    ( umask 077 && printf '%s\n%s\n%s\n' "$pre" "$accounts" "$post" >"$sql_file" ) || die "cannot write $sql_file"
    log "creating accounts during the initialisation"
    flavor_initialize_datadir "$dir" "$sql_file"
    rm -f "$sql_file"
  else
    initialize_with_temp_server "$dir" "$pre" "$accounts" "$post" "$root"
  fi
  record_applied_passwords || die "cannot record the applied passwords"
  log "data directory initialised"
}

# initialize_with_temp_server DIR PRE ACCOUNTS POST ROOT_PASSWORD: initialise DIR, then run the
# account SQL and the user's init SQL on a temporary server over it (initialize_primary).
initialize_with_temp_server() {
  local dir=$1 pre=$2 accounts=$3 post=$4 root=$5 sock="$RUN_DIR/init.sock" cnf="$RUN_DIR/init-client.cnf"
  flavor_initialize_datadir "$dir"
  CLIENT_SOCKET=$sock write_client_cnf "$cnf" root "" || die "cannot write $cnf"
  start_temp_server "$dir" "$sock" "${FLAVOR_SKIP_REPLICA_START[@]}" || die "the temporary server did not start on $dir"
  wait_for_server "$cnf" 300 "temporary server" || die "the temporary server on $dir did not answer"
  log "creating accounts"
  printf '%s\n%s\n%s\n' "$pre" "$accounts" "$post" | sql "$cnf" || die "creating accounts failed"
  CLIENT_SOCKET=$sock write_client_cnf "$cnf" root "$root" || die "cannot write $cnf"
  if [[ -s "$CONF_SRC/init.sql" ]]; then
    log "running the init SQL (once, on the primary)"
    sql "$cnf" <"$CONF_SRC/init.sql" || die "the init SQL failed (values: initSql)"
  fi
  if [[ -s "$INIT_SQL_SECRET_FILE" ]]; then
    log "running the init SQL from the Secret (once, on the primary)"
    sql "$cnf" <"$INIT_SQL_SECRET_FILE" || die "the init SQL from the Secret failed (values: initSqlSecret)"
  fi
  stop_temp_server "$cnf"
  rm -f "$cnf"
}

# promote_staging: atomically make the finished STAGING_DIR the data directory.
promote_staging() {
  [[ -d "$STAGING_DIR" ]] || die "no staging directory to promote"
  sync
  mv "$STAGING_DIR" "$DATADIR"
  sync
  log "data directory ready at $DATADIR"
}

# shellcheck source=mysql/flavor.sh
. "$(dirname "${BASH_SOURCE[0]}")/flavor.sh"
