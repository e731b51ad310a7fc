#!/usr/bin/env bash
# backup-store.sh: the layout of a backup destination, for backup.sh (which writes it) and
# restore.sh (which reads it). Each backup is a directory NAME (its UTC start, 20260102T030405Z,
# so names sort by time) holding ARCHIVE_NAME and MANIFEST_NAME; one being written is named
# .partial-NAME and is never listed. Sourced after lib.sh and kube-api.sh, never run.
# shellcheck disable=SC2034 # read by the scripts that source this file

ARCHIVE_NAME=data.tar.gz
MANIFEST_NAME=manifest.json
BACKUP_NAME_PATTERN='^[0-9]{8}T[0-9]{6}Z$'

# server_version: the version of this image's server (the backup's, the restore's).
server_version() {
  "$SERVER_BIN" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1
}

# list_backups DEST: the complete backups in DEST, oldest first, one name per line.
list_backups() {
  local dest=${1:?list_backups needs DEST} d
  for d in "$dest"/*/; do
    d=$(basename "$d")
    if [[ "$d" =~ $BACKUP_NAME_PATTERN && -f "$dest/$d/$MANIFEST_NAME" ]]; then echo "$d"; fi
  done | sort
}

# describe_backups DEST: one line per complete backup in DEST, oldest first: its name (what
# restore.from.backup takes), archive size, source pod and GTID position. The backup Job logs it last,
# so `kubectl logs` of the newest Job lists what a restore can choose from.
describe_backups() {
  local dest=${1:?describe_backups needs DEST} n m
  while read -r n; do
    [[ -n "$n" ]] || continue
    m="$dest/$n/$MANIFEST_NAME"
    printf '%s  %s bytes  from %s  at %s\n' "$n" "$(manifest_field "$m" size)" "$(manifest_field "$m" source)" "$(manifest_field "$m" gtid)"
  done < <(list_backups "$dest")
}

# manifest_field FILE KEY: one value of a manifest (the one-key-per-line JSON write_manifest writes).
manifest_field() {
  local file=${1:?manifest_field needs FILE} key=${2:?manifest_field needs KEY}
  sed -nE "s/^  \"$key\": \"(.*)\",?\$/\1/p; s/^  \"$key\": ([0-9]+),?\$/\1/p" "$file" | head -n 1
}

# backup_problems DEST NAME [VERSION]: what makes backup NAME of DEST unfit to restore from, one
# reason per line (nothing when it is whole): no manifest, another flavor, another major.minor
# server version than VERSION (a data directory is not moved across versions here: restore into
# the backup's version, then upgrade), a missing or truncated archive, a checksum that does not match.
backup_problems() {
  local dir="${1:?backup_problems needs DEST}/${2:?backup_problems needs NAME}" own=${3:-} manifest archive size want sha flavor version
  manifest="$dir/$MANIFEST_NAME"
  if [[ ! -f "$manifest" ]]; then
    echo "$dir has no $MANIFEST_NAME: not a complete backup"
    return 0
  fi
  flavor=$(manifest_field "$manifest" flavor)
  [[ "$flavor" == "${FLAVOR:?flavor.sh sets FLAVOR}" ]] || echo "it is a backup of a ${flavor:-unknown} server; this release runs $FLAVOR"
  version=$(manifest_field "$manifest" serverVersion)
  if [[ -n "$own" && "${version%.*}" != "${own%.*}" ]]; then
    echo "it is a backup of server version ${version:-unknown}; this release's image runs $own (restore into the backup's major.minor version, then upgrade)"
  fi
  archive="$dir/$(manifest_field "$manifest" archive)"
  if [[ ! -f "$archive" ]]; then
    echo "its archive $archive is missing"
    return 0
  fi
  want=$(manifest_field "$manifest" size)
  size=$(stat -c %s "$archive")
  if [[ "$size" != "$want" ]]; then
    echo "its archive is $size bytes, the manifest says $want: truncated or replaced"
    return 0
  fi
  sha=$(sha256sum "$archive" | cut -d' ' -f1)
  [[ "$sha" == "$(manifest_field "$manifest" sha256)" ]] || echo "its archive's sha256 is $sha, the manifest says $(manifest_field "$manifest" sha256): corrupt"
}

# resolve_backup DEST NAME: NAME itself, or the newest complete backup for "latest"; 1 when there is none.
resolve_backup() {
  local dest=${1:?resolve_backup needs DEST} name=${2:?resolve_backup needs NAME}
  if [[ "$name" == latest ]]; then
    name=$(list_backups "$dest" | tail -n 1)
    [[ -n "$name" ]] || return 1
  fi
  echo "$name"
}

# remove_partial_backups DEST: remove what an interrupted backup left (one backup runs at a time).
remove_partial_backups() {
  local dest=${1:?remove_partial_backups needs DEST} d
  for d in "$dest"/.partial-*; do
    [[ -e "$d" ]] || continue
    log "removing $d, left by an interrupted backup"
    rm -rf "$d"
  done
}

# prune_backups DEST KEEP_COUNT KEEP_DAYS: remove the backups beyond the newest KEEP_COUNT and those
# older than KEEP_DAYS (0: no such limit). The newest backup is never removed.
prune_backups() {
  local dest=${1:?prune_backups needs DEST} count=${2:?prune_backups needs KEEP_COUNT} days=${3:?prune_backups needs KEEP_DAYS}
  local names oldest_kept="" n total i=0
  names=$(list_backups "$dest")
  [[ -n "$names" ]] || return 0
  total=$(wc -l <<<"$names")
  (( days == 0 )) || oldest_kept=$(date -u -d "-$days days" +%Y%m%dT%H%M%SZ)
  while read -r n; do
    i=$((i + 1))
    (( i < total )) || break
    if (( count > 0 && total - i >= count )); then
      log "removing backup $n (retention: the newest $count)"
      rm -rf "${dest:?}/$n"
    elif [[ -n "$oldest_kept" && "$n" < "$oldest_kept" ]]; then
      log "removing backup $n (retention: $days days)"
      rm -rf "${dest:?}/$n"
    fi
  done <<<"$names"
}
