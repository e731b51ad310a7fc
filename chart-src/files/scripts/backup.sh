#!/usr/bin/env bash
# backup.sh (the backup Job): one full physical backup of the release into BACKUP_DEST. The copy is
# the one a new replica makes (the flavor's clone.sh: a hot physical copy, prepared here) of a Ready
# replica, never of the primary unless the release
# has only that one pod. It is archived (tar, gzip), checksummed (sha256) and described by a
# manifest, all under BACKUP_DEST/.partial-NAME, renamed to BACKUP_DEST/NAME only when whole: a
# listed backup is always complete. Then the backups beyond the retention are removed.
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

# write_manifest FILE NAME SOURCE_HOST POSITION DATA_BYTES ARCHIVE STARTED: the backup's manifest
# (MANIFEST_NAME), JSON, written last: what a restore checks before it starts anything.
write_manifest() {
  local file=${1:?write_manifest needs FILE} name=$2 source=$3 position=$4 data_bytes=$5 archive=$6 started=$7 sha size
  sha=$(sha256sum "$archive" | cut -d' ' -f1) || return 1
  size=$(stat -c %s "$archive") || return 1
  cat >"$file.new" <<JSON || return 1
{
  "name": $(json_string "$name"),
  "flavor": $(json_string "$FLAVOR"),
  "serverVersion": $(json_string "$(server_version)"),
  "chartVersion": $(json_string "${CHART_VERSION:-unknown}"),
  "release": $(json_string "$STATEFULSET_NAME"),
  "source": $(json_string "$source"),
  "gtid": $(json_string "$position"),
  "dataBytes": $data_bytes,
  "archive": $(json_string "$(basename "$archive")"),
  "compression": "gzip",
  "size": $size,
  "sha256": $(json_string "$sha"),
  "startedAt": $(json_string "$started"),
  "endedAt": $(json_string "$(date -u +%Y-%m-%dT%H:%M:%SZ)")
}
JSON
  mv "$file.new" "$file"
}

# take_backup DEST: the backup proper; prints its name.
take_backup() {
  local dest=${1:?take_backup needs DEST} name started ordinal host partial position data_bytes t0=$SECONDS
  require_env STATEFULSET_NAME
  local replicas=${REPLICAS:?REPLICAS: the number of pods}
  name=$(date -u +%Y%m%dT%H%M%SZ)
  started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ordinal=$(backup_source "$replicas") || die "no Ready replica to copy (see above)"
  host=$(peer_host "$ordinal")
  # The temporary server (MySQL) runs with the source's configuration.
  POD_NAME="$STATEFULSET_NAME-$ordinal" bash "$(dirname "${BASH_SOURCE[0]}")/choose-config.sh" || die "cannot assemble the configuration"
  remove_partial_backups "$dest"
  log "backup $name: copying $host"
  rm -rf "$STAGING_DIR"
  copy_with_retries "$host" flavor_clone_into || die "could not copy $host after ${CLONE_ATTEMPTS:-5} attempts"
  # One line: MySQL prints a GTID set of several servers on several.
  position=$(flavor_copy_position "$STAGING_DIR" | tr -d '\n') || die "cannot tell the copy's GTID position"
  data_bytes=$(du -sb "$STAGING_DIR" | cut -f1) || die "cannot measure the copy"
  partial="$dest/.partial-$name"
  mkdir -p "$partial" || die "cannot create $partial"
  log "copied $data_bytes bytes at GTID ${position:-(empty)} in $((SECONDS - t0))s; archiving"
  tar -C "$STAGING_DIR" -cf - . | gzip -1 >"$partial/$ARCHIVE_NAME" || die "cannot archive the copy into $partial"
  write_manifest "$partial/$MANIFEST_NAME" "$name" "$host" "$position" "$data_bytes" "$partial/$ARCHIVE_NAME" "$started" \
    || die "cannot write the manifest"
  sync
  mv "$partial" "$dest/$name" || die "cannot complete $dest/$name"
  sync
  rm -rf "$STAGING_DIR"
  log "backup $name complete: $(manifest_field "$dest/$name/$MANIFEST_NAME" size) bytes archived from $data_bytes in $((SECONDS - t0))s"
  echo "$name"
}

main() {
  require_env BACKUP_DEST
  take_backup "$BACKUP_DEST" >/dev/null
  prune_backups "$BACKUP_DEST" "${BACKUP_KEEP_COUNT:-0}" "${BACKUP_KEEP_DAYS:-0}"
  local listing
  listing=$(describe_backups "$BACKUP_DEST") || die "cannot list $BACKUP_DEST"
  log "backups in the destination, oldest first (name, size, source, GTID position):"
  printf '%s\n' "$listing" >&2
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
