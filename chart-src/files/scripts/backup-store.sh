#!/usr/bin/env bash
# backup-store.sh: the layout of a backup destination, for backup.sh (which writes it) and
# restore.sh (which reads it). Each backup is a directory NAME (its UTC start, 20260102T030405Z,
# so names sort by time) holding ARCHIVE_NAME, then MANIFEST_NAME, written last: a backup is
# complete, and listed, only once its manifest is there. A destination is either a directory (a
# mounted PersistentVolumeClaim) or an S3 location written :s3:BUCKET/PREFIX, reached with rclone
# (RCLONE: the binary the chart's s3-client init container copies in; its settings come from the
# RCLONE_S3_* variables the chart sets). Sourced after lib.sh and kube-api.sh, never run.
# shellcheck disable=SC2034 # read by the scripts that source this file

ARCHIVE_NAME=data.tar.gz
MANIFEST_NAME=manifest.json
BACKUP_NAME_PATTERN='^[0-9]{8}T[0-9]{6}Z$'

# server_version: the version of this image's server (the backup's, the restore's).
server_version() {
  "$SERVER_BIN" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1
}

# The destination's primitives. DEST is a directory or :s3:BUCKET/PREFIX; PATH is NAME/FILE.

# is_s3 DEST: 0 when DEST is an S3 location.
is_s3() {
  [[ "${1:?is_s3 needs DEST}" == :s3:* ]]
}

# s3 ARG...: rclone on the S3 destination, without a configuration file (the RCLONE_S3_* variables
# configure it), retrying what a network hiccup fails; a connection that stays silent for 60 s is
# dropped and retried rather than waited on for rclone's default 5 minutes.
s3() {
  "${RCLONE:-/opt/mysql-chart/tools/rclone}" --config /dev/null --retries 3 --low-level-retries 10 --contimeout 15s --timeout 60s -q "$@"
}

# store_entries DEST: the names at the top of DEST (backups, complete or not), one per line.
store_entries() {
  local dest=${1:?store_entries needs DEST} d
  if is_s3 "$dest"; then
    s3 lsf --dirs-only "$dest/" | sed 's:/$::'
    return
  fi
  for d in "$dest"/* "$dest"/.partial-*; do
    if [[ -d "$d" ]]; then basename "$d"; fi
  done
}

# store_size DEST PATH: the size in bytes of PATH, nothing when it does not exist.
store_size() {
  local dest=${1:?store_size needs DEST} path=${2:?store_size needs PATH}
  if is_s3 "$dest"; then
    # A missing object lists nothing (and a missing prefix fails): both are "not there".
    s3 lsf --format s "$dest/$path" 2>/dev/null || true
    return 0
  fi
  if [[ -f "$dest/$path" ]]; then stat -c %s "$dest/$path"; fi
}

# store_read DEST PATH: PATH's content on stdout.
store_read() {
  local dest=${1:?store_read needs DEST} path=${2:?store_read needs PATH}
  if is_s3 "$dest"; then
    s3 cat "$dest/$path"
  else
    cat "$dest/$path"
  fi
}

# store_write DEST PATH: stdin into PATH, whole or not at all (a file is renamed into place; an
# S3 object exists only once its upload completed).
store_write() {
  local dest=${1:?store_write needs DEST} path=${2:?store_write needs PATH}
  if is_s3 "$dest"; then
    s3 rcat "$dest/$path"
    return
  fi
  mkdir -p "$(dirname "$dest/$path")" && cat >"$dest/$path.new" && sync "$dest/$path.new" && mv "$dest/$path.new" "$dest/$path"
}

# store_remove DEST NAME: remove backup NAME, whatever it holds.
store_remove() {
  local dest=${1:?store_remove needs DEST} name=${2:?store_remove needs NAME}
  if is_s3 "$dest"; then
    s3 purge "$dest/$name"
  else
    rm -rf "${dest:?}/$name"
  fi
}

# store_check DEST: 0 when DEST can be listed; otherwise says why on stderr (a missing bucket or
# claim, refused credentials, an unreachable endpoint).
store_check() {
  local dest=${1:?store_check needs DEST}
  if is_s3 "$dest"; then
    s3 lsf --max-depth 1 "$dest/" >/dev/null && return 0
    echo "(the bucket must exist, the endpoint answer with a certificate the CA vouches for, and the keys be allowed to list the bucket)" >&2
    return 1
  else
    [[ -d "$dest" ]] || { echo "$dest is not a mounted directory" >&2; return 1; }
  fi
}

# list_backups DEST: the complete backups in DEST (a manifest written), oldest first, one name per line.
list_backups() {
  local dest=${1:?list_backups needs DEST} d manifests
  if is_s3 "$dest"; then
    # A listing that fails fails the caller: an unreachable bucket is not an empty one.
    manifests=$(s3 lsf -R --files-only --include "/*/$MANIFEST_NAME" "$dest/") || return 1
    sed -n "s:/$MANIFEST_NAME\$::p" <<<"$manifests" | grep -E "$BACKUP_NAME_PATTERN" | sort || true
    return 0
  fi
  for d in "$dest"/*/; do
    d=$(basename "$d")
    if [[ "$d" =~ $BACKUP_NAME_PATTERN && -f "$dest/$d/$MANIFEST_NAME" ]]; then echo "$d"; fi
  done | sort
}

# fetch_manifest DEST NAME FILE: backup NAME's manifest into FILE (for manifest_field); 1 when it has none.
fetch_manifest() {
  local dest=${1:?fetch_manifest needs DEST} name=${2:?fetch_manifest needs NAME} file=${3:?fetch_manifest needs FILE}
  [[ -n "$(store_size "$dest" "$name/$MANIFEST_NAME")" ]] || return 1
  store_read "$dest" "$name/$MANIFEST_NAME" >"$file"
}

# describe_backups DEST: one line per complete backup in DEST, oldest first: its name (what
# restore.from.backup takes), archive size, source pod and GTID position. The backup Job logs it last,
# so `kubectl logs` of the newest Job lists what a restore can choose from.
describe_backups() {
  local dest=${1:?describe_backups needs DEST} n m names
  m=$(mktemp) || return 1
  names=$(list_backups "$dest") || { rm -f "$m"; return 1; }
  while read -r n; do
    [[ -n "$n" ]] || continue
    fetch_manifest "$dest" "$n" "$m" || { rm -f "$m"; return 1; }
    printf '%s  %s bytes  from %s  at %s\n' "$n" "$(manifest_field "$m" size)" "$(manifest_field "$m" source)" "$(manifest_field "$m" gtid)"
  done <<<"$names"
  rm -f "$m"
}

# manifest_field FILE KEY: one value of a manifest (the one-key-per-line JSON backup.sh's manifest writes).
manifest_field() {
  local file=${1:?manifest_field needs FILE} key=${2:?manifest_field needs KEY}
  sed -nE "s/^  \"$key\": \"(.*)\",?\$/\1/p; s/^  \"$key\": ([0-9]+),?\$/\1/p" "$file" | head -n 1
}

# backup_problems DEST NAME MANIFEST [VERSION]: what makes backup NAME of DEST unfit to restore from,
# one reason per line (nothing when it looks whole), its manifest fetched into the file MANIFEST: no
# manifest, another flavor, another major.minor server version than VERSION (a data directory is
# not moved across versions here: restore into the backup's version, then upgrade), a missing or
# truncated archive. The archive's checksum is checked while it is extracted (extract_backup), so
# an S3 backup is read once.
backup_problems() {
  local dest=${1:?backup_problems needs DEST} name=${2:?backup_problems needs NAME} manifest=${3:?backup_problems needs MANIFEST} own=${4:-}
  local archive size want flavor version
  if ! fetch_manifest "$dest" "$name" "$manifest"; then
    echo "$dest/$name has no $MANIFEST_NAME: not a complete backup"
    return 0
  fi
  flavor=$(manifest_field "$manifest" flavor)
  [[ "$flavor" == "${FLAVOR:?flavor.sh sets FLAVOR}" ]] || echo "it is a backup of a ${flavor:-unknown} server; this release runs $FLAVOR"
  version=$(manifest_field "$manifest" serverVersion)
  if [[ -n "$own" && "${version%.*}" != "${own%.*}" ]]; then
    echo "it is a backup of server version ${version:-unknown}; this release's image runs $own (restore into the backup's major.minor version, then upgrade)"
  fi
  archive=$(manifest_field "$manifest" archive)
  size=$(store_size "$dest" "$name/$archive")
  if [[ -z "$size" ]]; then
    echo "its archive $dest/$name/$archive is missing"
    return 0
  fi
  want=$(manifest_field "$manifest" size)
  [[ "$size" == "$want" ]] || echo "its archive is $size bytes, the manifest says $want: truncated or replaced"
}

# extract_backup DEST NAME MANIFEST DIR: backup NAME's archive unpacked into DIR (which must
# exist), its sha256 computed on the way; prints why it is unfit (nothing when whole). The caller
# discards DIR on any output or failure: nothing has started from it yet.
extract_backup() {
  local dest=${1:?extract_backup needs DEST} name=${2:?extract_backup needs NAME} manifest=${3:?extract_backup needs MANIFEST} dir=${4:?extract_backup needs DIR}
  local sha want rc=0
  sha=$(store_read "$dest" "$name/$(manifest_field "$manifest" archive)" | sha256_beside tar -xzf - -C "$dir") || rc=$?
  want=$(manifest_field "$manifest" sha256)
  # The checksum first: a damaged archive usually fails to extract too, and its checksum says why.
  if [[ -n "$sha" && "$sha" != "$want" ]]; then
    echo "its archive's sha256 is $sha, the manifest says $want: corrupt"
  elif (( rc != 0 )); then
    echo "it does not extract (see the log above)"
  fi
}

# sha256_beside COMMAND...: stdin into COMMAND, and the sha256 (hex) of all of stdin on stdout, in
# one read (what COMMAND leaves unread is still read and summed); the exit status is COMMAND's, or
# the read's. COMMAND's own stdout goes to stderr.
sha256_beside() {
  local fifo sum_pid rc=0
  fifo=$(mktemp -u) && mkfifo "$fifo" || return 1
  sha256sum <"$fifo" | cut -d' ' -f1 &
  sum_pid=$!
  tee "$fifo" | { "$@" >&2; local cmd_rc=$?; cat >/dev/null; exit "$cmd_rc"; } || rc=$?
  wait "$sum_pid" || (( rc != 0 )) || rc=1
  rm -f "$fifo"
  return "$rc"
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

# remove_partial_backups DEST: remove what interrupted backups left: backups named like one but
# without a manifest (one backup runs at a time: the CronJob forbids two), and .partial-NAME
# directories of earlier charts. Anything else in DEST (lost+found, a user's files) is left alone.
remove_partial_backups() {
  local dest=${1:?remove_partial_backups needs DEST} entries complete d
  entries=$(store_entries "$dest") || return 1
  complete=$(list_backups "$dest") || return 1
  while read -r d; do
    [[ "$d" =~ $BACKUP_NAME_PATTERN || "$d" == .partial-* ]] || continue
    if ! grep -qxF -- "$d" <<<"$complete"; then
      log "removing $d, left by an interrupted backup"
      store_remove "$dest" "$d" || return 1
    fi
  done <<<"$entries"
}

# Archived binary logs (backup.binlogs, binlog-archive.sh) are binlogs/ID/NAME in an S3 destination,
# each with NAME.sha256 uploaded after it. Their upload times are the archiving pod's clock, a
# backup's times the Job's: a binary log counts as uploaded before a backup began only when it was
# BINLOG_CLOCK_SLACK_SECONDS earlier still.
BINLOG_CLOCK_SLACK_SECONDS=${BINLOG_CLOCK_SLACK_SECONDS:-60}

# list_binlogs DEST: the archived binary logs in DEST, "EPOCH|ID/NAME|SUMMED" per line in archive
# order (ID, then NAME): its upload time in seconds, and 1 when its .sha256 is there.
list_binlogs() {
  local dest=${1:?list_binlogs needs DEST} listing err t path epoch
  local -A summed=()
  err=$(mktemp) || return 1
  # rclone prints the times in the local zone: UTC here.
  listing=$(TZ=UTC s3 lsf -R --files-only --format tp --separator '|' "$dest/binlogs/" 2>"$err") \
    || { echo "cannot list $dest/binlogs: $(tail -n 3 "$err")" >&2; rm -f "$err"; return 1; }
  rm -f "$err"
  while IFS='|' read -r t path; do
    if [[ "$path" == *.sha256 ]]; then summed[${path%.sha256}]=1; fi
  done <<<"$listing"
  while IFS='|' read -r t path; do
    [[ -n "$path" && "$path" != *.sha256 ]] || continue
    epoch=$(date -u -d "$t" +%s) || { echo "cannot read the upload time '$t' of $dest/binlogs/$path" >&2; return 1; }
    printf '%s|%s|%s\n' "$epoch" "$path" "${summed[$path]:-0}"
  done < <(sort -t'|' -k2,2 <<<"$listing")
}

# prune_binlogs DEST: with archived binary logs in DEST, remove those no kept backup needs: uploaded
# before the oldest kept backup began (a point-in-time restore replays only what came after its
# backup began), each with its .sha256.
prune_binlogs() {
  local dest=${1:?prune_binlogs needs DEST} entries names oldest m started before listing epoch path summed old=()
  is_s3 "$dest" || return 0
  entries=$(store_entries "$dest") || return 1
  grep -qx binlogs <<<"$entries" || return 0
  names=$(list_backups "$dest") || return 1
  oldest=${names%%$'\n'*}
  [[ -n "$oldest" ]] || return 0
  m=$(mktemp) || return 1
  fetch_manifest "$dest" "$oldest" "$m" || { rm -f "$m"; return 1; }
  started=$(manifest_field "$m" startedAt)
  rm -f "$m"
  before=$(( $(date -u -d "$started" +%s) - BINLOG_CLOCK_SLACK_SECONDS ))
  listing=$(list_binlogs "$dest") || return 1
  while IFS='|' read -r epoch path summed; do
    if [[ -n "$path" ]] && (( epoch < before )); then old+=("$path" "$path.sha256"); fi
  done <<<"$listing"
  (( ${#old[@]} > 0 )) || return 0
  log "removing $(( ${#old[@]} / 2 )) archived binary log(s) uploaded before the oldest kept backup $oldest began ($started)"
  s3 delete --files-from-raw <(printf '%s\n' "${old[@]}") "$dest/binlogs/"
}

# prune_backups DEST KEEP_COUNT KEEP_DAYS: remove the backups beyond the newest KEEP_COUNT and those
# older than KEEP_DAYS (0: no such limit). The newest backup is never removed.
prune_backups() {
  local dest=${1:?prune_backups needs DEST} count=${2:?prune_backups needs KEEP_COUNT} days=${3:?prune_backups needs KEEP_DAYS}
  local names oldest_kept="" n total i=0
  names=$(list_backups "$dest") || return 1
  [[ -n "$names" ]] || return 0
  total=$(wc -l <<<"$names")
  (( days == 0 )) || oldest_kept=$(date -u -d "-$days days" +%Y%m%dT%H%M%SZ)
  while read -r n; do
    i=$((i + 1))
    (( i < total )) || break
    if (( count > 0 && total - i >= count )); then
      log "removing backup $n (retention: the newest $count)"
      store_remove "$dest" "$n" || return 1
    elif [[ -n "$oldest_kept" && "$n" < "$oldest_kept" ]]; then
      log "removing backup $n (retention: $days days)"
      store_remove "$dest" "$n" || return 1
    fi
  done <<<"$names"
}
