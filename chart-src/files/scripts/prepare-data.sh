#!/usr/bin/env bash
# prepare-data.sh (init container 2): make sure this pod has a data directory before the
# server starts. Existing data is always kept (restart, or a volume reused after scale-in).
# Pod 0 on an empty volume initialises a new database on a new installation, or copies the
# most advanced replica when replicas hold data (recover-primary.sh); a new replica copies a
# Ready member, pod N-1 when it is Ready (choose_donor), with the flavor's hot physical copy (clone.sh). Both
# are built in a staging directory and renamed into place only when complete, so a
# half-finished attempt is discarded and redone. A replica with data labels its claim as
# holding data (kube-api.sh), which is how pod 0 tells a lost volume from a new installation.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=passwords.sh
. "$(dirname "${BASH_SOURCE[0]}")/passwords.sh"
# shellcheck source=recover-primary.sh
. "$(dirname "${BASH_SOURCE[0]}")/recover-primary.sh"

# ready_donor ORDINAL: the first Ready pod among this ordinal's candidates (donor_candidates:
# the previous pod, then the lower replicas, then the primary); 1 when none is Ready yet, 2 when
# the API cannot be asked.
ready_donor() {
  local candidate rc
  for candidate in $(donor_candidates "${1:?ready_donor needs ORDINAL}"); do
    rc=0
    pod_ready "$candidate" || rc=$?
    (( rc != 2 )) || return 2
    if (( rc == 0 )); then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# choose_donor ORDINAL: print the ordinal to clone from, waiting until one of the candidates is
# Ready (pods start side by side under podManagementPolicy Parallel: on a new installation every
# replica copies the primary at once instead of forming a chain). Without the API's answer
# (rbac.create=false without the pods permission) it is the previous pod, as under OrderedReady.
choose_donor() {
  local ordinal=${1:?choose_donor needs ORDINAL} donor rc start=$SECONDS last_log=$SECONDS last_event=-1000 candidates
  candidates=$(donor_candidates "$ordinal" | tr '\n' ' ')
  while :; do
    rc=0
    donor=$(ready_donor "$ordinal") || rc=$?
    if (( rc == 0 )); then
      log "donor: $(peer_host "$donor") (Ready; chosen among ${candidates}after $((SECONDS - start))s)"
      echo "$donor"
      return 0
    fi
    if (( rc == 2 )); then
      log "cannot ask the Kubernetes API which pods are Ready: cloning the previous pod"
      donor_ordinal "$ordinal"
      return 0
    fi
    if (( SECONDS - last_log >= 30 )); then
      log "waiting for a Ready donor among pods ${candidates}($((SECONDS - start))s)"
      last_log=$SECONDS
    fi
    if (( SECONDS - start >= 60 && SECONDS - last_event >= ${EVENT_EVERY_SECONDS:-300} )); then
      pod_event Normal WaitingForDonor "This new replica copies a Ready member before its first start; none of pods ${candidates}is Ready yet."
      last_event=$SECONDS
    fi
    sleep "${DONOR_POLL_SECONDS:-0.5}"
  done
}

# clone_with_retries ORDINAL: clone a Ready donor (choose_donor) into STAGING_DIR, retrying (a pod
# whose attempts all failed restarts, and chooses again).
clone_with_retries() {
  local ordinal=${1:?clone_with_retries needs ORDINAL} donor
  # What the flavor can ready before a donor is chosen is readied meanwhile (MySQL: the empty
  # instance the clone lands in); a failure here is retried by the clone itself.
  if declare -F flavor_prepare_clone_target >/dev/null; then
    flavor_prepare_clone_target || log "could not ready the clone's target yet; the clone tries again"
  fi
  donor=$(choose_donor "$ordinal") || die "no donor for $POD_NAME"
  copy_with_retries "$(peer_host "$donor")" flavor_clone_into \
    || die "could not clone from $(peer_host "$donor") after ${CLONE_ATTEMPTS:-5} attempts; the pod restarts and tries again"
}

# record_holds_data ORDINAL: label a replica's claim as holding data, retrying; a replica whose
# claim cannot say so would leave pod 0 unable to tell a lost volume from a new installation.
record_holds_data() {
  local ordinal=${1:?record_holds_data needs ORDINAL} attempt
  (( ordinal > 0 )) || return 0
  for attempt in 1 2 3 4 5 6; do
    if mark_claim_holds_data "$ordinal"; then
      log "claim $(claim_name "$ordinal") is labelled $HOLDS_DATA_LABEL=true"
      return 0
    fi
    sleep $((attempt * 2))
  done
  die "cannot label claim $(claim_name "$ordinal") through the Kubernetes API (ServiceAccount, rbac.create)"
}

main() {
  require_env POD_NAME
  local ordinal keys
  ordinal=$(pod_ordinal "$POD_NAME")
  # persistence.existingClaim is pod 0's volume; every pod mounts it (one template): a second pod
  # must never start a server on the first one's data (kubectl scale goes around the chart's check).
  if [[ -n "${EXISTING_CLAIM:-}" ]] && (( ordinal > 0 )); then
    pod_event Warning SharedClaim "persistence.existingClaim ($EXISTING_CLAIM) is pod 0's volume: this release runs one pod; scale it back to 1 (to replicate, install a new release from it with bootstrap.cloneFrom)."
    die "persistence.existingClaim ($EXISTING_CLAIM) is pod 0's volume, mounted here too: not starting a second server on it; scale back to 1 pod (to replicate, install a new release from this one with bootstrap.cloneFrom)"
  fi
  # Every password must be there before anything starts, even on a restart with data: a pod
  # whose Secret lacks a key stops here, naming it, and never becomes Ready.
  keys=$(required_secret_keys)
  # shellcheck disable=SC2086 # one word per key
  check_secrets $keys
  if [[ -d "$DATADIR" ]]; then
    log "data directory $DATADIR exists: keeping it"
    rm -rf "$STAGING_DIR" "$CLONE_RECIPIENT_DIR"
    record_holds_data "$ordinal"
    return 0
  fi
  if [[ -e "$STAGING_DIR" || -e "$CLONE_RECIPIENT_DIR" ]]; then
    log "discarding a half-finished attempt in $STAGING_DIR"
    rm -rf "$STAGING_DIR" "$CLONE_RECIPIENT_DIR"
  fi
  if (( ordinal == 0 )); then
    prepare_primary
  else
    clone_with_retries "$ordinal"
  fi
  promote_staging
  record_holds_data "$ordinal"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
