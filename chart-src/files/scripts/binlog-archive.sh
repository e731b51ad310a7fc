#!/usr/bin/env bash
# binlog-archive.sh: backup.binlogs, the primary's binary logs copied into the backup destination
# (BINLOG_ARCHIVE_DEST, an S3 location), so that the history between two full backups is kept
# off the pod. Pod 0's sidecar runs it as a loop of its own in the background (a slow or hung object
# store never holds up the sidecar's password, certificate and role work), a turn every
# BINLOG_ARCHIVE_SECONDS after the last one ended: it closes the current
# binary log when it holds anything new (FLUSH LOCAL BINARY LOGS: not replicated), then uploads
# every closed one not yet archived, with its sha256 beside it, as
# BINLOG_ARCHIVE_DEST/binlogs/ID/NAME and NAME.sha256. ID names this data directory's history
# (its UTC creation, then random hex): a primary rebuilt on a new volume starts binary logs at
# 000001 again, under a new ID, never over the old ones. What is archived is recorded on the
# volume, so a restart uploads nothing twice. Sourced by replication-sidecar.sh after lib.sh.

# shellcheck source=backup-store.sh
. "$(dirname "${BASH_SOURCE[0]}")/backup-store.sh"

BINLOG_ARCHIVE_DIR="$DATA_ROOT/binlog-archive"
# The binary log the last turn opened and its size then: "NAME SIZE" (a turn closes it once it grows).
BINLOG_OPEN_SEEN=""
# Set while turns fail, so that a failure streak makes one Event, not one a minute.
BINLOG_ARCHIVE_FAILING=""

# binlog_archiving: 0 when backup.binlogs is on.
binlog_archiving() {
  [[ -n "${BINLOG_ARCHIVE_DEST:-}" ]]
}

# binlog_archive_id: this data directory's archive ID, made once.
binlog_archive_id() {
  local f="$BINLOG_ARCHIVE_DIR/id" id
  if [[ ! -s "$f" ]]; then
    id="$(date -u +%Y%m%dT%H%M%SZ)-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')" || return 1
    mkdir -p "$BINLOG_ARCHIVE_DIR" && printf '%s\n' "$id" >"$f.new" && mv "$f.new" "$f" || return 1
  fi
  cat "$f"
}

# archive_sql CNF STATEMENT: STATEMENT's rows; one that has not answered within
# BINLOG_ARCHIVE_SQL_SECONDS fails the turn, saying so, rather than stopping the archive silently.
archive_sql() {
  local cnf=${1:?archive_sql needs CNF} stmt=${2:?archive_sql needs STATEMENT} rc=0
  timeout --kill-after=5 "${BINLOG_ARCHIVE_SQL_SECONDS:-30}" "$CLIENT_BIN" --defaults-extra-file="$cnf" --batch --skip-column-names <<<"$stmt" || rc=$?
  if (( rc == 124 || rc == 137 )); then log "$stmt did not answer within ${BINLOG_ARCHIVE_SQL_SECONDS:-30}s"; fi
  return "$rc"
}

# binary_logs CNF: the server's binary logs, oldest first, "NAME SIZE" per line; the last is open.
binary_logs() {
  local out
  out=$(archive_sql "${1:?binary_logs needs CNF}" "SHOW BINARY LOGS") || return 1
  awk '{print $1, $2}' <<<"$out"
}

# close_binlog_if_grown CNF: rotate the open binary log unless it is the one the last turn opened
# and has not grown since, so that what was written reaches the archive by the next turn. A binary
# log this sidecar did not open (its first turn, or one the server rotated to) is closed at once:
# what it holds is unknown.
close_binlog_if_grown() {
  local cnf=${1:?close_binlog_if_grown needs CNF} open name size
  open=$(binary_logs "$cnf" | tail -n 1) || return 1
  read -r name size <<<"$open"
  if [[ "${BINLOG_OPEN_SEEN% *}" != "$name" ]] || (( size > ${BINLOG_OPEN_SEEN#* } )); then
    log "closing the open binary log $name ($size bytes) for the archive"
    archive_sql "$cnf" "FLUSH LOCAL BINARY LOGS" || return 1
    open=$(binary_logs "$cnf" | tail -n 1) || return 1
  fi
  BINLOG_OPEN_SEEN=$open
}

# archive_binlog CNF DEST ID NAME: upload one closed binary log and its sha256, then record it.
archive_binlog() {
  local cnf=${1:?archive_binlog needs CNF} dest=${2:?archive_binlog needs DEST} id=${3:?archive_binlog needs ID} name=${4:?archive_binlog needs NAME}
  local base dir sha t0=$SECONDS
  base=$(archive_sql "$cnf" "SELECT @@GLOBAL.log_bin_basename") && [[ -n "$base" ]] || return 1
  dir=$(dirname "$base")
  sha=$(sha256_beside store_write "$dest" "binlogs/$id/$name" <"$dir/$name") || return 1
  printf '%s  %s\n' "$sha" "$name" | store_write "$dest" "binlogs/$id/$name.sha256" || return 1
  printf '%s %s\n' "$name" "$sha" >>"$BINLOG_ARCHIVE_DIR/archived"
  log "archived binary log $name ($(stat -c %s "$dir/$name") bytes, sha256 $sha) into $dest/binlogs/$id in $((SECONDS - t0))s"
}

# archive_binlogs_turn CNF: one turn: close the open binary log if it grew, upload what is closed
# and not yet archived.
archive_binlogs_turn() {
  local cnf=${1:?archive_binlogs_turn needs CNF} id logs name
  id=$(binlog_archive_id) || return 1
  close_binlog_if_grown "$cnf" || return 1
  logs=$(binary_logs "$cnf") || return 1
  touch "$BINLOG_ARCHIVE_DIR/archived" || return 1
  # The closed ones (all but the last) not yet archived, in one pass: a busy primary keeps
  # thousands of binary logs (one per turn with writes, for binlogExpireSeconds).
  while read -r name; do
    [[ -n "$name" ]] || continue
    archive_binlog "$cnf" "$BINLOG_ARCHIVE_DEST" "$id" "$name" || return 1
  done < <(comm -23 <(sed '$d' <<<"$logs" | cut -d' ' -f1 | sort) <(cut -d' ' -f1 "$BINLOG_ARCHIVE_DIR/archived" | sort))
}

# archive_binlogs CNF: a turn whose failure is logged, and made an Event (BinlogArchiveFailed)
# once per streak of failures; the next success says so too (BinlogArchiveResumed).
archive_binlogs() {
  local cnf=${1:?archive_binlogs needs CNF} out="${TMPDIR:-/tmp}/binlog-archive.log" rc=0
  # In this shell (a turn keeps state between turns); its log kept for the Event as well.
  : >"$out"
  archive_binlogs_turn "$cnf" 2> >(tee -a "$out" >&2) || rc=$?
  if (( rc == 0 )); then
    if [[ -n "$BINLOG_ARCHIVE_FAILING" ]]; then
      BINLOG_ARCHIVE_FAILING=""
      pod_event Normal BinlogArchiveResumed "backup.binlogs: the binary logs reach $BINLOG_ARCHIVE_DEST again."
    fi
    return 0
  fi
  log "archiving the binary logs into $BINLOG_ARCHIVE_DEST failed; trying again in ${BINLOG_ARCHIVE_SECONDS:-60}s"
  if [[ -z "$BINLOG_ARCHIVE_FAILING" ]]; then
    BINLOG_ARCHIVE_FAILING=1
    pod_event Warning BinlogArchiveFailed "backup.binlogs: the binary logs do not reach $BINLOG_ARCHIVE_DEST: $(tail -n 3 "$out" | tr '\n' ' ')"
  fi
}

# binlog_archive_loop CNF: the archiver, started in the background by pod 0's sidecar: a turn, then
# BINLOG_ARCHIVE_SECONDS of sleep, for ever; no turn while pod 0 replicates from
# bootstrap.cloneFrom's source (its binary logs are that source's history until the cut-over).
binlog_archive_loop() {
  local cnf=${1:?binlog_archive_loop needs CNF}
  log "archiving the binary logs into $BINLOG_ARCHIVE_DEST every ${BINLOG_ARCHIVE_SECONDS:-60}s"
  while :; do
    [[ -e "$BOOTSTRAP_MARKER" ]] || archive_binlogs "$cnf"
    sleep "${BINLOG_ARCHIVE_SECONDS:-60}" &
    wait $! || true
  done
}
