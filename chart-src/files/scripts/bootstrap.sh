#!/usr/bin/env bash
# bootstrap.sh: bootstrap.cloneFrom, a new release seeded from a server outside it (the database
# it replaces). Pod 0, on the empty volume of a new installation, copies that server with the
# flavor's hot physical copy (flavor_clone_from_source), gives the copy the chart's accounts, and
# replicates from the server, read-only (BOOTSTRAP_MARKER), while the replicas seed from pod 0 as
# usual. bootstrap.cloneFrom.cutOver=true (a file of BOOTSTRAP_DIR, updated in place) ends it: the
# sidecar waits until pod 0 holds every transaction the server has, then stops replicating from it
# for good and takes writes. Sourced after lib.sh and passwords.sh, never run.

# The source's password, its CA (bootstrap.cloneFrom.tls.caSecret) and the cut-over switch.
BOOTSTRAP_DIR=${BOOTSTRAP_DIR:-/etc/mysql-chart/bootstrap}
# Set once the sidecar said that it waits for the cut-over.
CUT_OVER_WAIT_LOGGED=""
# When the sidecar last said what the cut-over waits for.
CUT_OVER_LAST_LOG=-1000

# bootstrap_requested: 0 when bootstrap.cloneFrom names a source.
bootstrap_requested() {
  [[ -n "${BOOTSTRAP_SOURCE_HOST:-}" ]]
}

# cut_over_requested: 0 when bootstrap.cloneFrom.cutOver is true.
cut_over_requested() {
  [[ "$(cat "$BOOTSTRAP_DIR/cut-over" 2>/dev/null)" == true ]]
}

# source_label: host:port of the source, for messages.
source_label() {
  printf '%s:%s\n' "${BOOTSTRAP_SOURCE_HOST:-?}" "${BOOTSTRAP_SOURCE_PORT:-3306}"
}

# source_password: the source account's password (bootstrap.cloneFrom.passwordSecret).
source_password() {
  local pw
  pw=$(<"$BOOTSTRAP_DIR/password") || { log "cannot read the source's password ($BOOTSTRAP_DIR/password: bootstrap.cloneFrom.passwordSecret)"; return 1; }
  [[ -n "$pw" ]] || { log "the source's password is empty (bootstrap.cloneFrom.passwordSecret)"; return 1; }
  printf '%s' "$pw"
}

# source_cnf FILE: an option file logging into the source as bootstrap.cloneFrom.user, with TLS
# as bootstrap.cloneFrom.tls says (MySQL's client options: cloneFrom is the MySQL flavor's).
source_cnf() {
  local file=${1:?source_cnf needs FILE} pw
  require_env BOOTSTRAP_SOURCE_HOST BOOTSTRAP_SOURCE_USER
  pw=$(source_password) || return 1
  write_client_cnf "$file" "$BOOTSTRAP_SOURCE_USER" "$pw" "$BOOTSTRAP_SOURCE_HOST" "${BOOTSTRAP_SOURCE_PORT:-3306}" || return 1
  if [[ "${BOOTSTRAP_SOURCE_TLS:-true}" != true ]]; then
    echo "ssl-mode=DISABLED" >>"$file"
  elif [[ -s "$BOOTSTRAP_DIR/ca.crt" ]]; then
    printf 'ssl-mode=VERIFY_CA\nssl-ca=%s\n' "$BOOTSTRAP_DIR/ca.crt" >>"$file"
  else
    echo "ssl-mode=REQUIRED" >>"$file"
  fi
  # A source that stopped answering must not hold the sidecar's turn for minutes.
  echo "connect-timeout=5" >>"$file"
}

# bootstrap_from_source: pod 0's data on a new installation with bootstrap.cloneFrom: a copy of
# the source, in STAGING_DIR, with the chart's accounts, replicating from the source once it starts.
# Waits for the source without limit (an empty primary is never the answer); refuses, with an
# Event, a source that cannot be cloned or replicated from.
bootstrap_from_source() {
  local cnf="$RUN_DIR/source.cnf" problems finish start=$SECONDS last_event=-1000 why
  declare -F flavor_clone_from_source >/dev/null || die "bootstrap.cloneFrom is not supported by this flavor"
  source_cnf "$cnf" || die "cannot write the source's option file"
  log "a new installation seeded from $(source_label) (bootstrap.cloneFrom): waiting for it to answer as $BOOTSTRAP_SOURCE_USER"
  until wait_for_server "$cnf" 30 "source $(source_label)"; do
    # The client's own words: a refused password or certificate reads differently from a host that is down.
    why=$(sql "$cnf" --connect-timeout=5 <<<"SELECT 1" 2>&1 >/dev/null | tail -n 1) || true
    if (( SECONDS - last_event >= ${EVENT_EVERY_SECONDS:-300} )); then
      pod_event Warning WaitingForSource "bootstrap.cloneFrom: $(source_label) does not answer as $BOOTSTRAP_SOURCE_USER (${why:-no error}); pod 0 copies it before its first start and waits for it."
      last_event=$SECONDS
    fi
    log "the source $(source_label) does not answer as $BOOTSTRAP_SOURCE_USER ($((SECONDS - start))s): ${why:-no error}; still waiting"
  done
  problems=$(flavor_source_problems "$cnf") || die "cannot check the source $(source_label)"
  if [[ -n "$problems" ]]; then
    pod_event Warning SourceRefused "bootstrap.cloneFrom: $(source_label) cannot be cloned: $(tr '\n' ';' <<<"$problems")"
    die "bootstrap.cloneFrom: $(source_label) cannot be cloned: $(tr '\n' ';' <<<"$problems")"
  fi
  rm -f "$cnf"
  # Run by the copy before anyone connects, outside its binary log: the chart's accounts (the
  # copy's are the source's), then replication from the source.
  finish=$(
    echo "SET SESSION sql_log_bin = 0;"
    ACCOUNTS_MAY_EXIST=true account_sql || exit 1
    flavor_replicate_from_source_sql || exit 1
  ) || die "building the copy's first statements failed (see above)"
  # Before the data directory exists: a pod stopped between the two never starts writable.
  touch "$BOOTSTRAP_MARKER" || die "cannot write $BOOTSTRAP_MARKER"
  copy_with_retries "$BOOTSTRAP_SOURCE_HOST" flavor_clone_from_source "$finish" \
    || die "could not clone $(source_label) after ${CLONE_ATTEMPTS:-5} attempts; the pod restarts and tries again"
  record_applied_passwords || die "cannot record the applied passwords"
  log "pod 0 seeded from $(source_label) in $((SECONDS - start))s; it replicates from it, read-only, until bootstrap.cloneFrom.cutOver=true"
  pod_event Normal ClonedFromSource "bootstrap.cloneFrom: copied $(source_label) in $((SECONDS - start))s; pod 0 replicates from it, read-only, until bootstrap.cloneFrom.cutOver=true."
}

# cut_over_log MSG: log MSG at most every 30 s (the sidecar asks every turn).
cut_over_log() {
  (( SECONDS - CUT_OVER_LAST_LOG >= 30 )) || return 0
  log "$*"
  CUT_OVER_LAST_LOG=$SECONDS
}

# caught_up_with_source: 0 when pod 0 has applied all it received and, while the source answers,
# holds every transaction the source has. A source that no longer answers is taken as stopped
# for good (the cut-over was asked for): what pod 0 received is all there is.
caught_up_with_source() {
  local cnf="$RUN_DIR/source.cnf" theirs mine missing
  if ! flavor_applier_drained "$CLIENT_CNF"; then
    cut_over_log "cut-over: waiting until pod 0 has applied what it received from $(source_label)"
    return 1
  fi
  source_cnf "$cnf" || return 1
  if ! theirs=$(flavor_gtid_state "$cnf" 2>/dev/null); then
    log "WARNING: cut-over: $(source_label) does not answer; going on with what pod 0 received from it"
    return 0
  fi
  mine=$(flavor_gtid_state "$CLIENT_CNF") || return 1
  if ! flavor_gtid_subset "$theirs" "$mine"; then
    missing=$(flavor_errant_gtids "$theirs" "$mine") || missing="?"
    cut_over_log "cut-over: waiting for pod 0 to receive ${missing} from $(source_label) (stop the writes there)"
    return 1
  fi
}

# bootstrap_turn: the sidecar's step on pod 0 while it replicates from the source: nothing until
# the cut-over is asked for; then, once caught up, pod 0 forgets the source and takes writes.
bootstrap_turn() {
  [[ -e "$BOOTSTRAP_MARKER" ]] || return 0
  if ! cut_over_requested; then
    [[ -n "$CUT_OVER_WAIT_LOGGED" ]] || log "replicating from $(source_label), read-only, until bootstrap.cloneFrom.cutOver=true"
    CUT_OVER_WAIT_LOGGED=1
    return 0
  fi
  caught_up_with_source || return 0
  flavor_end_source_replication || { log "ending replication from $(source_label) failed; trying again"; return 1; }
  rm -f "$BOOTSTRAP_MARKER" || die "cannot remove $BOOTSTRAP_MARKER"
  log "cut-over done: pod 0 no longer replicates from $(source_label) and takes writes"
  pod_event Normal CutOver "bootstrap.cloneFrom.cutOver: pod 0 holds every transaction of $(source_label), no longer replicates from it, and takes writes."
}
