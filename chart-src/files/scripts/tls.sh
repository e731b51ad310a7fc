#!/usr/bin/env bash
# tls.sh: keeps the pod's use of the release's certificate current. Sourced by the sidecar after
# lib.sh and passwords.sh, never run. The sidecar calls reconcile_tls every PASSWORD_CHECK_SECONDS:
# - when the mounted certificate files change (a cert-manager renewal, a replaced Secret: the
#   kubelet updates the mounted files), the server re-reads them without a restart, and
#   TLS_RELOADED tells the sidecar to restart its backup server with them;
# - on the primary, the accounts only members may use require the release's certificate (a
#   release installed by a chart version before 0.3.0 created them without), and root@'%'
#   follows auth.remoteRoot;
# - on a replica whose replication connection does not yet verify the primary or present the
#   release's certificate (the same releases), once the primary accepts such a connection,
#   replication is re-pointed with those TLS options, and at the primary's name the certificate
#   covers (<sts>-0.<headless>.<namespace>; those releases used <sts>-0.<headless>). Until then it keeps its old connection,
#   so rolling the replicas before the primary never stops replication.

TLS_SUM_FILE="$RUN_DIR/tls.sum"
# Set once this pod's accounts (primary) or replication connection (replica) use the certificate.
MEMBER_TLS_DONE=""
# Set by reconcile_tls when it reloaded the certificate files; the sidecar clears it.
# shellcheck disable=SC2034 # read by replication-sidecar.sh
TLS_RELOADED=""
WAITING_FOR_PRIMARY_TLS=""

# reload_tls_if_changed: have the server re-read the certificate files when they changed since the
# last check (the first check only records them: the server has just read them).
reload_tls_if_changed() {
  local sum
  sum=$(tls_files_sum) || { log "cannot read the certificate files in $TLS_DIR"; return 1; }
  if [[ ! -s "$TLS_SUM_FILE" ]]; then
    echo "$sum" >"$TLS_SUM_FILE"
    return
  fi
  [[ "$(cat "$TLS_SUM_FILE")" != "$sum" ]] || return 0
  log "the certificate files in $TLS_DIR changed: the server re-reads them ($TLS_RELOAD_SQL)"
  sql "$CLIENT_CNF" <<<"$TLS_RELOAD_SQL;" || { log "$TLS_RELOAD_SQL failed"; return 1; }
  echo "$sum" >"$TLS_SUM_FILE"
  # shellcheck disable=SC2034 # read by replication-sidecar.sh
  TLS_RELOADED=1
  # A new certificate may carry another subject or issuer.
  MEMBER_TLS_DONE=""
}

# member_accounts: the accounts only members may use, written 'user'@'host': replication, the
# MySQL clone account, and root over the network unless REMOTE_ROOT=true.
member_accounts() {
  echo "$(sql_string "$REPLICATION_USER")@'%'"
  [[ "$CLONE_ACCOUNT_HOST" == localhost ]] || echo "$(sql_string "$CLONE_USER")@$(sql_string "$CLONE_ACCOUNT_HOST")"
  [[ "${REMOTE_ROOT:-false}" == true ]] || echo "'root'@'%'"
}

# ensure_member_accounts: on the primary, ALTER USER each member-only account whose REQUIRE does not
# name the certificate's subject and issuer (replicated to every replica).
ensure_member_accounts() {
  local require subject issuer account shown
  require_env REPLICATION_USER CLONE_USER
  require=$(member_require) || return 1
  subject=$(cert_name subject) || return 1
  issuer=$(cert_name issuer) || return 1
  while read -r account; do
    shown=$(sql_value "$CLIENT_CNF" "SHOW CREATE USER $account") || { log "cannot read the account $account"; return 1; }
    if [[ "$shown" == *"$(sql_string "$subject")"* && "$shown" == *"$(sql_string "$issuer")"* ]]; then
      continue
    fi
    log "the account $account now requires the release's certificate ($require)"
    sql "$CLIENT_CNF" <<<"ALTER USER $account $require;" || { log "ALTER USER $account failed"; return 1; }
  done < <(member_accounts)
  if [[ "${REMOTE_ROOT:-false}" == true ]]; then
    shown=$(sql_value "$CLIENT_CNF" "SHOW CREATE USER 'root'@'%'") || { log "cannot read the account 'root'@'%'"; return 1; }
    if [[ "$shown" == *"$(sql_string "$subject")"* ]]; then
      log "auth.remoteRoot is on: 'root'@'%' no longer requires the release's certificate"
      sql "$CLIENT_CNF" <<<"ALTER USER 'root'@'%' REQUIRE NONE;" || { log "ALTER USER 'root'@'%' failed"; return 1; }
    fi
  fi
  MEMBER_TLS_DONE=1
}

# ensure_replication_tls: on a replica, re-point replication with the TLS options
# (replication_tls_options) once the primary accepts a connection made with them.
ensure_replication_tls() {
  local status ca cert verify host pw cnf="$RUN_DIR/replication-tls-check.cnf"
  require_env PRIMARY_HOST REPLICATION_USER
  status=$(status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" "${REPLICA_FIELD[ssl_ca]}" "${REPLICA_FIELD[ssl_cert]}" "${REPLICA_FIELD[ssl_verify]}" "${REPLICA_FIELD[source]}") \
    || { log "cannot read the replication status"; return 1; }
  # Split on a non-whitespace separator: an unset CA file is an empty field, and runs of tabs
  # would merge.
  IFS=$'\x1f' read -r ca cert verify host <<<"${status//$'\t'/$'\x1f'}"
  # Not replicating yet: configure_replication sets the options.
  [[ -n "$host" ]] || return 0
  if [[ "$ca" == "$TLS_DIR/ca.crt" && "$cert" == "$TLS_DIR/tls.crt" && "$verify" == Yes && "$host" == "$PRIMARY_HOST" ]]; then
    MEMBER_TLS_DONE=1
    return 0
  fi
  pw=$(read_secret mysql-replication-password) || return 1
  if ! primary_accepts_replication "$cnf" "$pw"; then
    if [[ -z "$WAITING_FOR_PRIMARY_TLS" ]]; then
      log "replication does not verify the primary's certificate yet; waiting for the primary to accept a connection with the release's certificate"
      WAITING_FOR_PRIMARY_TLS=1
    fi
    return 0
  fi
  log "the primary accepts the release's certificate: re-pointing replication with TLS verified against the release's CA"
  repoint_replication flavor_repoint "$CLIENT_CNF" "$PRIMARY_HOST" "$(replication_tls_options)" \
    || { log "re-pointing replication with TLS failed"; return 1; }
  WAITING_FOR_PRIMARY_TLS=""
  MEMBER_TLS_DONE=1
}

# reconcile_tls ORDINAL: the step the sidecar repeats.
reconcile_tls() {
  local ordinal=${1:?reconcile_tls needs an ordinal}
  reload_tls_if_changed || return 1
  [[ -z "$MEMBER_TLS_DONE" ]] || return 0
  if (( ordinal == 0 )); then
    ensure_member_accounts
  else
    ensure_replication_tls
  fi
}
