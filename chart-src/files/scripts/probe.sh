#!/usr/bin/env bash
# probe.sh startup|liveness|readiness: the database container's probes. Each logs in through the
# local socket as the monitor account (MONITOR_USER: it may read the replication status and
# nothing else), or as root while that account does not exist yet (a release from before 0.3.0,
# until its primary's sidecar has created it). Liveness never looks at replication (a broken replica must
# not be restarted in a loop); readiness on a replica also requires its data to be at most
# MAX_LAG_SECONDS old: both replication threads running within that lag, or, while its source
# cannot be reached (the primary restarting or recovering), last in contact recently enough.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=probe
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# repointing_recently: true while the sidecar's re-pointing marker is under 60 s old (a marker
# left by a killed sidecar stops counting then).
repointing_recently() {
  local changed
  changed=$(stat -c %Y "$REPOINTING_MARKER" 2>/dev/null) || return 1
  (( $(date +%s) - changed < 60 ))
}

# Written at each check that finds replication healthy: "<epoch seconds> <lag seconds>". It lives
# in the pod's run directory, so a new pod starts without one.
IN_CONTACT_RECORD="$RUN_DIR/replication-in-contact"

# record_contact LAG: note that the source was reached now, with this replica LAG seconds behind.
record_contact() {
  printf '%s %s\n' "$(date +%s)" "$1" >"$IN_CONTACT_RECORD.tmp" && mv -f "$IN_CONTACT_RECORD.tmp" "$IN_CONTACT_RECORD"
}

# source_away_within_bound: 0 while the data is still at most MAX_LAG_SECONDS old although the
# source cannot be reached: the lag at the last contact plus the time since. Reads then keep
# working while the primary restarts or recovers, with the same staleness bound as a lagging
# replica; past it the replica leaves the read Service.
source_away_within_bound() {
  local at lag_then age
  read -r at lag_then <"$IN_CONTACT_RECORD" 2>/dev/null || { echo "source unreachable and never reached from this pod"; return 1; }
  [[ "$at" =~ ^[0-9]+$ && "$lag_then" =~ ^[0-9]+$ ]] || { echo "source unreachable; unreadable contact record"; return 1; }
  age=$(( lag_then + $(date +%s) - at ))
  if (( age > ${MAX_LAG_SECONDS:-60} )); then
    echo "source unreachable: data up to ${age}s old, over ${MAX_LAG_SECONDS:-60}s"
    return 1
  fi
  echo "source unreachable: data at most ${age}s old, within ${MAX_LAG_SECONDS:-60}s: still Ready"
}

MONITOR_CNF="$RUN_DIR/client-monitor.cnf"
# The option file the checks log in with (choose_login).
PROBE_CNF=""
# Set when choose_login's own login has just shown the server answering: server_answers then asks
# no second time (every probe is paid for by the node: one client run fewer per check).
SERVER_ANSWERED=""

# choose_login: PROBE_CNF is the monitor account's option file when that account logs in, else
# root's (refreshed by ensure_root_cnf).
choose_login() {
  local pw
  if pw=$(read_secret mysql-monitor-password 2>/dev/null) && write_client_cnf "$MONITOR_CNF" "$MONITOR_USER" "$pw" \
      && sql "$MONITOR_CNF" --connect-timeout=4 <<<"SELECT 1" >/dev/null 2>&1; then
    PROBE_CNF=$MONITOR_CNF
    SERVER_ANSWERED=1
    return 0
  fi
  ensure_root_cnf || return 1
  PROBE_CNF=$CLIENT_CNF
  SERVER_ANSWERED=""
}

# replication_status: "IO<TAB>SQL<TAB>LAG" of this replica.
replication_status() {
  status_fields "$PROBE_CNF" "$REPLICA_STATUS_SQL" "${REPLICA_FIELD[io]}" "${REPLICA_FIELD[sql]}" "${REPLICA_FIELD[lag]}"
}

# replica_ready: 0 when the data is at most MAX_LAG_SECONDS behind the primary (see above).
replica_ready() {
  local io sqlt lag status
  if ! status=$(with_fresh_login replication_status); then
    echo "cannot read the replication status"
    return 1
  fi
  IFS=$'\t' read -r io sqlt lag <<<"$status"
  # "Connecting": the receiver runs but cannot reach its source (not stopped, not failed).
  if [[ "$io" == "Connecting" && "$sqlt" == "Yes" ]] && source_away_within_bound; then
    return 0
  fi
  if [[ "$io" != "Yes" || "$sqlt" != "Yes" ]]; then
    if repointing_recently; then
      echo "replication is being re-pointed by the sidecar (io=${io:-none} sql=${sqlt:-none}): still Ready"
      return 0
    fi
    echo "replication not running (io=${io:-none} sql=${sqlt:-none})"
    return 1
  fi
  if [[ ! "$lag" =~ ^[0-9]+$ ]] || (( lag > ${MAX_LAG_SECONDS:-60} )); then
    echo "replica lag ${lag:-unknown}s is over ${MAX_LAG_SECONDS:-60}s"
    return 1
  fi
  record_contact "$lag" || echo "cannot write $IN_CONTACT_RECORD (Ready anyway)"
}

# replica_ready_soon: replica_ready, checked again every quarter second for up to
# FIRST_READY_WAIT_SECONDS (default 0) while this pod has never been Ready (no contact record in
# its run directory). A new replica's first check comes the moment its server answers, usually
# just before the sidecar starts replication, and the next one a whole period later; once the
# pod has been Ready, every check answers at once, so nothing waits at rest.
replica_ready_soon() {
  local deadline=$((SECONDS + ${FIRST_READY_WAIT_SECONDS:-0})) out
  until out=$(replica_ready); do
    if [[ -e "$IN_CONTACT_RECORD" ]] || (( SECONDS >= deadline )); then
      [[ -z "$out" ]] || printf '%s\n' "$out"
      return 1
    fi
    sleep 0.25
  done
  [[ -z "$out" ]] || printf '%s\n' "$out"
}

# with_fresh_login CMD...: run CMD; when it fails, choose the login again and run it once more.
# During a password rotation the replicated ALTER USER can land between the login's check and a
# query, or between two queries of one probe. Only the answering run's output is printed (a
# failed status read prints an empty row, which would be read as "not running").
with_fresh_login() {
  local out
  if out=$("$@" 2>/dev/null); then
    [[ -z "$out" ]] || printf '%s\n' "$out"
    return 0
  fi
  choose_login || return 1
  "$@"
}

# server_answers: 0 when the server answers over the socket (at once when choose_login's login
# just showed it).
server_answers() {
  [[ -z "$SERVER_ANSWERED" ]] || return 0
  sql "$PROBE_CNF" --connect-timeout=4 <<<"SELECT 1" >/dev/null
}

main() {
  local mode=${1:-} ordinal
  # While the sidecar re-clones this replica the server is stopped on purpose: alive, not Ready.
  if [[ -e "$RECLONE_MARKER" ]]; then
    echo "re-cloning this replica: $(cat "$RECLONE_MARKER" 2>/dev/null || true)"
    [[ "$mode" != readiness ]]
    return
  fi
  choose_login
  case "$mode" in
    startup|liveness)
      with_fresh_login server_answers
      ;;
    readiness)
      with_fresh_login server_answers
      ordinal=$(pod_ordinal "$POD_NAME")
      # Pod 0 replicating from bootstrap.cloneFrom's source is held to the same bound.
      if (( ordinal > 0 )) || [[ -e "$BOOTSTRAP_MARKER" ]]; then
        replica_ready_soon
      fi
      ;;
    *)
      die "usage: probe.sh startup|liveness|readiness"
      ;;
  esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
