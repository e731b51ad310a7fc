#!/usr/bin/env bash
# backup.sh (the backup Job): one full physical backup of the release into BACKUP_DEST. The copy is
# the one a new replica makes (the flavor's clone.sh: a hot physical copy, prepared here) of a Ready
# replica, never of the primary unless the release
# has only that one pod. It is archived (tar, gzip) straight into BACKUP_DEST/NAME (a directory or
# an S3 location: backup-store.sh), checksummed (sha256) on the way, and described by a manifest
# written last: a listed backup is always complete. Then the backups beyond the retention are removed,
# and the archived binary logs (backup.binlogs) that no kept backup needs.
# Its outcome is also an Event on its pod: BackupComplete, or BackupFailed with the first reason.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=backup
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=kube-api.sh
. "$(dirname "${BASH_SOURCE[0]}")/kube-api.sh"
# shellcheck source=mysql/clone.sh
. "$(dirname "${BASH_SOURCE[0]}")/clone.sh"
# shellcheck source=backup-store.sh
. "$(dirname "${BASH_SOURCE[0]}")/backup-store.sh"

# backup_source REPLICAS: the ordinal to copy: the highest Ready replica, waiting up to
# BACKUP_SOURCE_WAIT_SECONDS for one; the primary only when REPLICAS is 1. Never the primary of a
# release with replicas: a backup must not load it. 1 when no replica became Ready.
backup_source() {
  local replicas=${1:?backup_source needs REPLICAS} o rc start=$SECONDS
  if (( replicas == 1 )); then
    log "a one-pod release: copying the primary (there is no replica to spare it the load)"
    echo 0
    return 0
  fi
  while :; do
    for ((o = replicas - 1; o >= 1; o--)); do
      rc=0
      pod_ready "$o" || rc=$?
      if (( rc == 0 )); then
        echo "$o"
        return 0
      fi
    done
    if (( SECONDS - start >= ${BACKUP_SOURCE_WAIT_SECONDS:-300} )); then
      log "no replica (pods 1 to $((replicas - 1))) was Ready within ${BACKUP_SOURCE_WAIT_SECONDS:-300}s; not loading the primary instead"
      return 1
    fi
    sleep 5
  done
}

# manifest NAME SOURCE_HOST POSITION DATA_BYTES ARCHIVE_NAME SIZE SHA256 STARTED: the backup's
# manifest (MANIFEST_NAME), JSON, one key per line: what a restore checks before it starts anything.
manifest() {
  cat <<JSON
{
  "name": $(json_string "$1"),
  "flavor": $(json_string "$FLAVOR"),
  "serverVersion": $(json_string "$(server_version)"),
  "chartVersion": $(json_string "${CHART_VERSION:-unknown}"),
  "release": $(json_string "$STATEFULSET_NAME"),
  "source": $(json_string "$2"),
  "gtid": $(json_string "$3"),
  "dataBytes": $4,
  "archive": $(json_string "$5"),
  "compression": "gzip",
  "size": $6,
  "sha256": $(json_string "$7"),
  "startedAt": $(json_string "$8"),
  "endedAt": $(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
}
JSON
}

# take_backup DEST: the backup proper; prints its name.
take_backup() {
  local dest=${1:?take_backup needs DEST} name started ordinal host position data_bytes sha size t0=$SECONDS
  require_env STATEFULSET_NAME
  local replicas=${REPLICAS:?REPLICAS: the number of pods}
  name=$(date -u +%Y%m%dT%H%M%SZ)
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ordinal=$(backup_source "$replicas") || die "no Ready replica to copy (see above)"
  host=$(peer_host "$ordinal")
  # The temporary server (MySQL) runs with the source's configuration.
  POD_NAME="$STATEFULSET_NAME-$ordinal" bash "$(dirname "${BASH_SOURCE[0]}")/choose-config.sh" || die "cannot assemble the configuration"
  remove_partial_backups "$dest" || die "cannot remove what an interrupted backup left in $dest"
  log "backup $name: copying $host"
  rm -rf "$STAGING_DIR"
  copy_with_retries "$host" flavor_clone_into || die "could not copy $host after ${CLONE_ATTEMPTS:-5} attempts"
  # One line: MySQL prints a GTID set of several servers on several.
  position=$(flavor_copy_position "$STAGING_DIR" | tr -d '\n') || die "cannot tell the copy's GTID position"
  data_bytes=$(du -sb "$STAGING_DIR" | cut -f1) || die "cannot measure the copy"
  log "copied $data_bytes bytes at GTID ${position:-(empty)} in $((SECONDS - t0))s; archiving into $dest/$name"
  sha=$(tar -C "$STAGING_DIR" -cf - . | gzip -1 | sha256_beside store_write "$dest" "$name/$ARCHIVE_NAME") \
    || die "cannot archive the copy into $dest/$name"
  size=$(store_size "$dest" "$name/$ARCHIVE_NAME")
  [[ -n "$size" ]] || die "the archive $dest/$name/$ARCHIVE_NAME is not there after writing it"
  manifest "$name" "$host" "$position" "$data_bytes" "$ARCHIVE_NAME" "$size" "$sha" "$started" \
    | store_write "$dest" "$name/$MANIFEST_NAME" || die "cannot write the manifest of $dest/$name"
  rm -rf "$STAGING_DIR"
  log "backup $name complete: $size bytes archived from $data_bytes in $((SECONDS - t0))s"
  echo "$name"
}

# The first reason the backup failed (die writes it), for the BackupFailed Event.
FAILURE_FILE=${TMPDIR:-/tmp}/backup-failure
die() {
  log "ERROR: $*"
  [[ -s "$FAILURE_FILE" ]] || printf '%s\n' "$*" >"$FAILURE_FILE" 2>/dev/null || true
  exit 1
}

# report_outcome EXIT_CODE NAME: the backup's outcome as an Event on the Job's pod (kubectl get
# events, kubectl describe job), beside the Job's own status.
report_outcome() {
  local rc=${1:?report_outcome needs EXIT_CODE} name=${2:-} why
  if (( rc == 0 )); then
    pod_event Normal BackupComplete "backup $name of $STATEFULSET_NAME is complete in $BACKUP_DEST"
  else
    why=$(head -n 1 "$FAILURE_FILE" 2>/dev/null) || why=""
    pod_event Warning BackupFailed "backup of $STATEFULSET_NAME into $BACKUP_DEST failed: ${why:-exit code $rc, see the Job log}"
  fi
}

main() {
  require_env BACKUP_DEST STATEFULSET_NAME
  local why listing
  rm -f "$FAILURE_FILE"
  # BACKUP_NAME is global: the trap also runs after main has returned.
  BACKUP_NAME=""
  trap 'report_outcome $? "$BACKUP_NAME"' EXIT
  why=$(store_check "$BACKUP_DEST" 2>&1) || die "cannot reach the backup destination $BACKUP_DEST: $(tail -n 3 <<<"$why" | tr '\n' ' ')"
  BACKUP_NAME=$(take_backup "$BACKUP_DEST") || exit 1
  prune_backups "$BACKUP_DEST" "${BACKUP_KEEP_COUNT:-0}" "${BACKUP_KEEP_DAYS:-0}" || die "cannot apply the retention to $BACKUP_DEST"
  prune_binlogs "$BACKUP_DEST" || die "cannot remove the archived binary logs no kept backup needs from $BACKUP_DEST"
  listing=$(describe_backups "$BACKUP_DEST") || die "cannot list $BACKUP_DEST"
  log "backups in the destination, oldest first (name, size, source, GTID position):"
  printf '%s\n' "$listing" >&2
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
