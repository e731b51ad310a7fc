#!/usr/bin/env bash
# recover-primary.sh: what pod 0 does on an empty volume. A new installation initialises a new
# database; a lost volume (replicas' claims are labelled as holding data, kube-api.sh) never
# does: pod 0 waits for those replicas, brings the lagging ones up to the most advanced one,
# copies that one (flavor_seed_primary), and starts as primary from its GTID state, so every
# replica continues without a re-clone. prepare-data.sh calls prepare_primary. Sourced after
# lib.sh and passwords.sh; it loads kube-api.sh and the flavor's clone.sh itself.

# shellcheck source=kube-api.sh
. "$(dirname "${BASH_SOURCE[0]}")/kube-api.sh"
# shellcheck source=mysql/clone.sh
. "$(dirname "${BASH_SOURCE[0]}")/clone.sh"
# shellcheck source=bootstrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
# shellcheck source=restore.sh
. "$(dirname "${BASH_SOURCE[0]}")/restore.sh"

# member_cnf ORDINAL: a root client option file for that pod's server over the network; prints its path.
member_cnf() {
  local ordinal=${1:?member_cnf needs an ordinal} file="$RUN_DIR/member-${1}.cnf" host
  host=$(peer_host "$ordinal") || return 1
  remote_root_cnf "$file" "$host" || return 1
  echo "$file"
}

# member_answers ORDINAL: 0 when that pod's server answers SQL as root.
member_answers() {
  local cnf
  cnf=$(member_cnf "$1") || return 1
  sql "$cnf" --connect-timeout=3 <<<"SELECT 1" >/dev/null 2>&1
}

# ANSWERING: the ordinals wait_for_members found answering.
ANSWERING=()

# wait_for_members ORDINAL...: set ANSWERING to the ordinals that answer, once all of them do, or
# once at least one has answered for REPLICA_WAIT_SECONDS. With none answering it never gives up: it
# logs, and records an Event every EVENT_EVERY_SECONDS, saying why pod 0 is not starting.
wait_for_members() {
  local members=("$@") o start=$SECONDS first_answer="" last_log=-1000 last_event=-1000 claims=""
  for o in "${members[@]}"; do claims+="${claims:+, }$(claim_name "$o")"; done
  while :; do
    ANSWERING=()
    for o in "${members[@]}"; do
      if member_answers "$o"; then ANSWERING+=("$o"); fi
    done
    if (( ${#ANSWERING[@]} == ${#members[@]} )); then break; fi
    if (( ${#ANSWERING[@]} > 0 )); then
      first_answer=${first_answer:-$SECONDS}
      if (( SECONDS - first_answer >= ${REPLICA_WAIT_SECONDS:-60} )); then
        log "going on with the replicas that answer (${ANSWERING[*]}); the others did not within ${REPLICA_WAIT_SECONDS:-60}s"
        break
      fi
    elif (( SECONDS - last_event >= ${EVENT_EVERY_SECONDS:-300} )); then
      pod_event Warning WaitingForReplicas "The data volume is empty, but the claims $claims hold this release's data: waiting for their pods to answer, never initialising an empty primary. Bring those pods back, or set recovery.allowEmptyPrimary=true to start an empty database (their data is then abandoned)."
      last_event=$SECONDS
    fi
    if (( SECONDS - last_log >= 30 )); then
      log "the volume is empty and $claims hold data; waiting for those replicas (answering: ${ANSWERING[*]:-none}; $((SECONDS - start))s)"
      last_log=$SECONDS
    fi
    sleep "${MEMBER_POLL_SECONDS:-5}"
  done
}

# member_state ORDINAL: that replica's GTID state once it has applied what it received (waits up
# to 120 s for its applier); the state is what flavor_gtid_state reports.
member_state() {
  local ordinal=${1:?member_state needs an ordinal} cnf start=$SECONDS
  cnf=$(member_cnf "$ordinal") || return 1
  until flavor_applier_drained "$cnf"; do
    if (( SECONDS - start >= 120 )); then
      log "$(peer_host "$ordinal") has not applied all it received after 120s; using what it has applied"
      break
    fi
    sleep 2
  done
  flavor_gtid_state "$cnf"
}

# most_advanced STATE_FILE: from lines "ORDINAL<TAB>STATE", the ordinal whose state contains every
# other one's; when none does (diverged histories), the one containing the most others, lowest
# ordinal first, and a warning naming the others.
most_advanced() {
  local file=${1:?most_advanced needs STATE_FILE} o s o2 s2 n best="" best_n=-1 total
  total=$(wc -l <"$file")
  while IFS=$'\t' read -r o s; do
    n=0
    while IFS=$'\t' read -r o2 s2; do
      if [[ "$o2" == "$o" ]] || flavor_gtid_subset "$s2" "$s"; then n=$((n + 1)); fi
    done <"$file"
    if (( n > best_n )); then best=$o; best_n=$n; fi
  done <"$file"
  if (( best_n < total )); then
    log "WARNING: no replica's history contains all the others' (diverged); copying $(peer_host "$best"), which contains $best_n of $total"
    pod_event Warning DivergedReplicas "No replica's GTID history contains all the others'; pod 0 copies $(peer_host "$best"). Replicas holding transactions it lacks must be re-created from the new primary."
  fi
  echo "$best"
}

# catch_up ORDINAL DONOR_ORDINAL TARGET_STATE: let a lagging replica replicate from the most
# advanced one until it holds TARGET_STATE, then point it back at pod 0, so that pod 0 (which
# has no binary logs of that history) never has to send it anything older.
catch_up() {
  local ordinal=${1:?catch_up needs ORDINAL} donor=${2:?catch_up needs DONOR_ORDINAL} target=${3?catch_up needs TARGET_STATE}
  local cnf start=$SECONDS state
  cnf=$(member_cnf "$ordinal") || return 1
  log "$(peer_host "$ordinal") lags behind $(peer_host "$donor"): replicating from it until it holds $target"
  flavor_repoint "$cnf" "$(peer_host "$donor")" || return 1
  while :; do
    state=$(flavor_gtid_state "$cnf") || state=""
    if [[ -n "$state" ]] && flavor_gtid_subset "$target" "$state"; then break; fi
    if (( SECONDS - start >= ${CATCH_UP_SECONDS:-600} )); then
      log "$(peer_host "$ordinal") did not catch up in ${CATCH_UP_SECONDS:-600}s"
      flavor_repoint "$cnf" "$PRIMARY_HOST" || true
      return 1
    fi
    sleep 2
  done
  flavor_repoint "$cnf" "$PRIMARY_HOST" || return 1
  log "$(peer_host "$ordinal") caught up in $((SECONDS - start))s and points at $PRIMARY_HOST again"
}

# seed_from_replicas ORDINAL...: the lost-volume recovery, into STAGING_DIR.
seed_from_replicas() {
  local states="$RUN_DIR/member-states" o state donor donor_state donor_host donor_cnf t0=$SECONDS
  wait_for_members "$@"
  : >"$states"
  for o in "${ANSWERING[@]}"; do
    state=$(member_state "$o") || die "cannot read the GTID state of $(peer_host "$o")"
    log "$(peer_host "$o") holds ${state:-nothing}"
    printf '%s\t%s\n' "$o" "$state" >>"$states"
  done
  donor=$(most_advanced "$states") || die "cannot compare the replicas' GTID states"
  donor_state=$(awk -F'\t' -v o="$donor" '$1 == o { print $2 }' "$states")
  donor_host=$(peer_host "$donor")
  donor_cnf=$(member_cnf "$donor") || die "cannot write the option file for $donor_host"
  while IFS=$'\t' read -r o state; do
    [[ "$o" != "$donor" ]] || continue
    if ! flavor_gtid_subset "$donor_state" "$state" && flavor_gtid_subset "$state" "$donor_state"; then
      catch_up "$o" "$donor" "$donor_state" || log "WARNING: $(peer_host "$o") could not catch up; it may need a re-clone"
    fi
  done <"$states"
  log "copying the most advanced replica, $donor_host (${donor_state:-empty}), into $STAGING_DIR"
  copy_with_retries "$donor_host" flavor_seed_primary "$donor_cnf" \
    || die "could not copy $donor_host after ${CLONE_ATTEMPTS:-5} attempts; the pod restarts and tries again"
  rm -f "$RUN_DIR"/member-*.cnf "$states"
  log "pod 0 seeded from $donor_host in $((SECONDS - t0))s; it serves as primary from ${donor_state:-an empty state}"
  pod_event Normal SeededFromReplica "The data volume was empty: copied $donor_host (GTID ${donor_state:-empty}) in $((SECONDS - t0))s; the replicas continue from it."
}

# prepare_primary: build pod 0's data in STAGING_DIR: a new database on a new installation (the
# backup restore.from names, or a copy of bootstrap.cloneFrom's source when it names one), else a
# copy of the most advanced replica. Not knowing (the API does not answer) means waiting.
prepare_primary() {
  local members
  until members=$(ordinals_holding_data); do
    log "cannot ask the Kubernetes API which claims hold data: not initialising anything; retrying in 10s"
    sleep 10
  done
  if [[ -z "$members" ]] && restore_requested; then
    log "no claim of this release holds data: a new installation, restored from a backup (restore.from)"
    restore_from_backup
    return 0
  fi
  if [[ -z "$members" ]] && bootstrap_requested; then
    log "no claim of this release holds data: a new installation, seeded from $(source_label) (bootstrap.cloneFrom)"
    bootstrap_from_source
    return 0
  fi
  if [[ -z "$members" ]]; then
    log "no claim of this release holds data: a new installation"
    initialize_primary "$STAGING_DIR"
    return 0
  fi
  if [[ "${ALLOW_EMPTY_PRIMARY:-false}" == true ]]; then
    log "WARNING: claims $(tr '\n' ' ' <<<"$members")hold data, but recovery.allowEmptyPrimary=true: initialising an empty primary"
    pod_event Warning EmptyPrimary "recovery.allowEmptyPrimary=true: pod 0 starts an empty database although replicas hold data; re-create those replicas."
    initialize_primary "$STAGING_DIR"
    return 0
  fi
  # shellcheck disable=SC2086 # one ordinal per word
  seed_from_replicas $members
}
