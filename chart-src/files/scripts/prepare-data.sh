#!/usr/bin/env bash
# prepare-data.sh (init container 2): make sure this pod has a data directory before the
# server starts. Existing data is always kept (restart, or a volume reused after scale-in).
# A new primary initialises one; a new replica copies pod N-1 (pod 1 copies the primary)
# with the flavor's hot physical copy. Both are built in a staging directory and renamed
# into place only when complete, so a half-finished attempt is discarded and redone.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql/flavor.sh
. "$(dirname "${BASH_SOURCE[0]}")/flavor.sh"
# shellcheck source=passwords.sh
. "$(dirname "${BASH_SOURCE[0]}")/passwords.sh"
# shellcheck source=mysql/clone.sh
. "$(dirname "${BASH_SOURCE[0]}")/clone.sh"

# clone_with_retries ORDINAL: clone the donor of this ordinal into STAGING_DIR, retrying.
clone_with_retries() {
  local ordinal=${1:?clone_with_retries needs ORDINAL} donor donor_ord attempt attempts=${CLONE_ATTEMPTS:-5}
  donor_ord=$(donor_ordinal "$ordinal")
  donor=$(peer_host "$donor_ord")
  for ((attempt = 1; attempt <= attempts; attempt++)); do
    log "clone attempt $attempt/$attempts from $donor"
    # errexit is off inside a function called from `if`: flavor_clone_into checks each step itself.
    if flavor_clone_into "$STAGING_DIR" "$donor"; then
      return 0
    fi
    rm -rf "$STAGING_DIR"
    (( attempt == attempts )) || sleep "${CLONE_RETRY_DELAY_SECONDS:-10}"
  done
  die "could not clone from $donor after $attempts attempts; the pod restarts and tries again"
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
    return 0
  fi
  if [[ -e "$STAGING_DIR" ]]; then
    log "discarding a half-finished attempt in $STAGING_DIR"
    rm -rf "$STAGING_DIR"
  fi
  if (( ordinal == 0 )); then
    initialize_primary "$STAGING_DIR"
  else
    clone_with_retries "$ordinal"
  fi
  promote_staging
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
