#!/usr/bin/env bash
# restore.sh: restore.from, a new release started from a backup (backup.sh). Pod 0, on the empty
# volume of a new installation, checks the backup against its manifest (flavor, server version,
# size), extracts it into STAGING_DIR checking its sha256 on the way (a mismatch discards the
# copy: nothing has started from it), and gives the copy this release's accounts and a primary's state (flavor_restore_finish); the replicas then seed from pod 0 as usual.
# Sourced by recover-primary.sh after lib.sh, kube-api.sh and the flavor's clone.sh, never run.

# shellcheck source=backup-store.sh
. "$(dirname "${BASH_SOURCE[0]}")/backup-store.sh"

# restore_requested: 0 when restore.from names a destination to restore from.
restore_requested() {
  [[ -n "${RESTORE_DEST:-}" ]]
}

# refuse_restore MSG: an Event and the log say why pod 0 does not start; it never starts empty.
refuse_restore() {
  pod_event Warning RestoreRefused "restore.from: $1; pod 0 starts nothing until the backup is fit (fix restore.from, or the backup, and delete the pod)."
  die "restore.from: $1"
}

# restore_from_backup: pod 0's data on a new installation with restore.from, in STAGING_DIR.
restore_from_backup() {
  local dest=$RESTORE_DEST asked=${RESTORE_BACKUP:-latest} name problems manifest t0=$SECONDS why
  why=$(store_check "$dest" 2>&1) || refuse_restore "cannot read the backup destination $dest: $(tail -n 3 <<<"$why" | tr '\n' ' ')"
  name=$(resolve_backup "$dest" "$asked") || refuse_restore "no complete backup in $dest"
  manifest=$(mktemp) || die "cannot create a temporary file"
  log "restoring backup $name ($asked) from $dest"
  problems=$(backup_problems "$dest" "$name" "$manifest" "$(server_version)") || refuse_restore "cannot check backup $name"
  [[ -z "$problems" ]] || refuse_restore "backup $name is refused: $(tr '\n' ';' <<<"$problems" | sed 's/;$//')"
  { rm -rf "$STAGING_DIR" && mkdir -p "$STAGING_DIR"; } || die "cannot create $STAGING_DIR"
  problems=$(extract_backup "$dest" "$name" "$manifest" "$STAGING_DIR") || problems="it could not be read (see the log above)"
  if [[ -n "$problems" ]]; then
    rm -rf "$STAGING_DIR"
    refuse_restore "backup $name is refused: $problems"
  fi
  log "extracted backup $name ($(manifest_field "$manifest" dataBytes) bytes of data, GTID $(manifest_field "$manifest" gtid)) in $((SECONDS - t0))s"
  flavor_restore_finish "$STAGING_DIR" "$(manifest_field "$manifest" gtid)" || die "the restored copy did not start (see above)"
  record_applied_passwords || die "cannot record the applied passwords"
  log "pod 0 restored from backup $name in $((SECONDS - t0))s"
  pod_event Normal Restored "restore.from: pod 0 restored backup $name (taken from $(manifest_field "$manifest" source) at $(manifest_field "$manifest" endedAt), GTID $(manifest_field "$manifest" gtid)) in $((SECONDS - t0))s."
  rm -f "$manifest"
}
