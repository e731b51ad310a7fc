#!/usr/bin/env bash
# prepare-data.sh (init container 2): make sure this pod has a data directory before the
# server starts. Existing data is always kept (restart, or a volume reused after scale-in).
# Pod 0 on an empty volume initialises a new database on a new installation, or copies the
# most advanced replica when replicas hold data (recover-primary.sh); a new replica copies
# pod N-1 (pod 1 copies the primary) with the flavor's hot physical copy (clone.sh). Both
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

# clone_with_retries ORDINAL: clone the donor of this ordinal into STAGING_DIR, retrying.
clone_with_retries() {
  local donor
  donor=$(peer_host "$(donor_ordinal "${1:?clone_with_retries needs ORDINAL}")")
  copy_with_retries "$donor" flavor_clone_into \
    || die "could not clone from $donor after ${CLONE_ATTEMPTS:-5} attempts; the pod restarts and tries again"
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
  # Every password must be there before anything starts, even on a restart with data: a pod
  # whose Secret lacks a key stops here, naming it, and never becomes Ready.
  keys=$(required_secret_keys)
  # shellcheck disable=SC2086 # one word per key
  check_secrets $keys
  if [[ -d "$DATADIR" ]]; then
    log "data directory $DATADIR exists: keeping it"
    rm -rf "$STAGING_DIR"
    record_holds_data "$ordinal"
    return 0
  fi
  if [[ -e "$STAGING_DIR" ]]; then
    log "discarding a half-finished attempt in $STAGING_DIR"
    rm -rf "$STAGING_DIR"
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
