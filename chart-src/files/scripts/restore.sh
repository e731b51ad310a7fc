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

# newest_backup_before DEST UNTIL: the newest complete backup in DEST that was complete (its
# manifest's endedAt) at or before UNTIL (an ISO UTC time: the strings sort by time); 1 when none was.
newest_backup_before() {
  local dest=${1:?newest_backup_before needs DEST} until=${2:?newest_backup_before needs UNTIL} m n names
  names=$(list_backups "$dest") || return 1
  m=$(mktemp) || return 1
  while read -r n; do
    if [[ -z "$n" ]] || ! fetch_manifest "$dest" "$n" "$m"; then continue; fi
    if [[ ! "$(manifest_field "$m" endedAt)" > "$until" ]]; then
      rm -f "$m"
      echo "$n"
      return 0
    fi
  done < <(sort -r <<<"$names")
  rm -f "$m"
  return 1
}

# fetch_binlogs DEST DIR SINCE: the binary logs archived in DEST (backup.binlogs) since SINCE (the
# backup's start: those uploaded before it hold nothing the backup lacks; BINLOG_CLOCK_SLACK_SECONDS
# earlier, for clocks that disagree, as replaying what the backup holds is skipped anyway) into DIR,
# each checked against its sha256, listed in replay order (archive ID, then name) in DIR/order. The
# newest ones without their .sha256 were still being uploaded and are left out. Prints the newest
# upload's time; 1 (and why, on stderr) when one is unreadable or does not match its checksum, or
# when one without a checksum has archived ones after it (a gap: replaying past it would skip its
# transactions).
fetch_binlogs() {
  local dest=${1:?fetch_binlogs needs DEST} dir=${2:?fetch_binlogs needs DIR} since=${3:?fetch_binlogs needs SINCE}
  local listing since_s epoch path summed file sha want newest="" unsummed=""
  since_s=$(date -u -d "$since" +%s) || return 1
  { rm -rf "$dir" && mkdir -p "$dir" && : >"$dir/order"; } || return 1
  listing=$(list_binlogs "$dest") || return 1
  while IFS='|' read -r epoch path summed; do
    if [[ -z "$path" ]] || (( epoch < since_s - BINLOG_CLOCK_SLACK_SECONDS )); then continue; fi
    if [[ "$summed" != 1 ]]; then
      unsummed=$path
      continue
    fi
    [[ -z "$unsummed" ]] || { echo "the archived binary log $unsummed has no .sha256 (its upload did not finish) but $path after it has: the archive has a gap there" >&2; return 1; }
    file="$dir/${path//\//_}"
    sha=$(store_read "$dest" "binlogs/$path" | sha256_beside dd of="$file" bs=1M status=none) || { echo "cannot read $dest/binlogs/$path" >&2; return 1; }
    want=$(store_read "$dest" "binlogs/$path.sha256" | cut -d' ' -f1) || want=""
    [[ -n "$want" && "$sha" == "$want" ]] || { echo "the archived binary log $path has sha256 $sha, its .sha256 file says ${want:-nothing}" >&2; return 1; }
    basename "$file" >>"$dir/order"
    (( epoch < ${newest:-0} )) || newest=$epoch
  done <<<"$listing"
  if [[ -n "$newest" ]]; then date -u -d "@$newest" '+%Y-%m-%d %H:%M:%S'; else echo none; fi
}

# restore_from_backup: pod 0's data on a new installation with restore.from, in STAGING_DIR; with
# restore.pointInTime (RESTORE_POINT_IN_TIME, UTC), the archived binary logs replayed on it up to then.
restore_from_backup() {
  local dest=$RESTORE_DEST asked=${RESTORE_BACKUP:-latest} until=${RESTORE_POINT_IN_TIME:-} name problems manifest t0=$SECONDS why
  local replay="" archived_until="" ended
  why=$(store_check "$dest" 2>&1) || refuse_restore "cannot read the backup destination $dest: $(tail -n 3 <<<"$why" | tr '\n' ' ')"
  if [[ -n "$until" && "$asked" == latest ]]; then
    name=$(newest_backup_before "$dest" "$until") || refuse_restore "no complete backup in $dest was complete by restore.pointInTime $until"
  else
    name=$(resolve_backup "$dest" "$asked") || refuse_restore "no complete backup in $dest"
  fi
  manifest=$(mktemp) || die "cannot create a temporary file"
  log "restoring backup $name ($asked) from $dest${until:+, then its archived binary logs up to $until}"
  problems=$(backup_problems "$dest" "$name" "$manifest" "$(server_version)") || refuse_restore "cannot check backup $name"
  [[ -z "$problems" ]] || refuse_restore "backup $name is refused: $(tr '\n' ';' <<<"$problems" | sed 's/;$//')"
  if [[ -n "$until" ]]; then
    ended=$(manifest_field "$manifest" endedAt)
    [[ ! "$ended" > "$until" ]] || refuse_restore "restore.pointInTime $until is before backup $name was complete ($ended): choose an earlier backup, or latest"
    replay="$DATA_ROOT/restore-binlogs"
    why=$(mktemp) || die "cannot create a temporary file"
    archived_until=$(fetch_binlogs "$dest" "$replay" "$(manifest_field "$manifest" startedAt)" 2>"$why") \
      || { rm -rf "$replay"; refuse_restore "the binary logs archived after backup $name cannot be replayed: $(tail -n 2 "$why" | tr '\n' ' ')"; }
    rm -f "$why"
    log "fetched $(wc -l <"$replay/order") archived binary log(s), the newest uploaded at $archived_until UTC"
    if [[ "$archived_until" == none || "$(date -u -d "$archived_until" +%Y-%m-%dT%H:%M:%SZ)" < "$until" ]]; then
      pod_event Warning PointInTimeBeyondArchive "restore.pointInTime $until: the newest archived binary log was uploaded at $archived_until UTC; writes after it, if any, are not in the archive and not restored."
    fi
  fi
  { rm -rf "$STAGING_DIR" && mkdir -p "$STAGING_DIR"; } || die "cannot create $STAGING_DIR"
  problems=$(extract_backup "$dest" "$name" "$manifest" "$STAGING_DIR") || problems="it could not be read (see the log above)"
  if [[ -n "$problems" ]]; then
    rm -rf "$STAGING_DIR" "$replay"
    refuse_restore "backup $name is refused: $problems"
  fi
  log "extracted backup $name ($(manifest_field "$manifest" dataBytes) bytes of data, GTID $(manifest_field "$manifest" gtid)) in $((SECONDS - t0))s"
  RESTORE_REPLAY_DIR=$replay flavor_restore_finish "$STAGING_DIR" "$(manifest_field "$manifest" gtid)" || die "the restored copy did not start (see above)"
  [[ -z "$replay" ]] || rm -rf "$replay"
  record_applied_passwords || die "cannot record the applied passwords"
  log "pod 0 restored from backup $name${until:+ and its binary logs up to $until} in $((SECONDS - t0))s"
  pod_event Normal Restored "restore.from: pod 0 restored backup $name (taken from $(manifest_field "$manifest" source) at $(manifest_field "$manifest" endedAt), GTID $(manifest_field "$manifest" gtid))${until:+, then the archived binary logs up to $until,} in $((SECONDS - t0))s."
  rm -f "$manifest"
}
