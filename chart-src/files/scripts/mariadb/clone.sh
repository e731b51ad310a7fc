#!/usr/bin/env bash
# clone.sh (MariaDB 11.8 / 10.11): how a new replica copies its donor before its first start:
# the donor's sidecar streams a hot mariadb-backup over TLS (serve-backup.sh, after a challenge
# answered with the clone password); the receiver checks it is whole, prepares it and records its GTID
# position. prepare-data.sh calls flavor_clone_into (and retries it); serve-backup.sh uses
# stream_answer. Sourced after lib.sh and flavor.sh.

# backup_meta DIR NAME: print the path of a backup metadata file, which MariaDB 11.x names
# mariadb_backup_NAME and 10.11 names xtrabackup_NAME; nothing when neither exists.
backup_meta() {
  local dir=${1:?backup_meta needs DIR} name=${2:?backup_meta needs NAME} f
  for f in "$dir/mariadb_backup_$name" "$dir/xtrabackup_$name"; do
    if [[ -f "$f" ]]; then
      echo "$f"
      return 0
    fi
  done
}

# backup_gtid DIR: print the GTID position a prepared backup in DIR carries: the donor's
# replication position when the donor was a replica (slave_info), else the donor's own
# binlog GTID (binlog_info, third column).
backup_gtid() {
  local dir=${1:?backup_gtid needs DIR} f gtid=""
  f=$(backup_meta "$dir" slave_info)
  if [[ -n "$f" ]]; then
    gtid=$(sed -n "s/.*gtid_slave_pos *= *'\([^']*\)'.*/\1/p" "$f" | head -n 1)
  fi
  if [[ -z "$gtid" ]]; then
    f=$(backup_meta "$dir" binlog_info)
    [[ -n "$f" ]] && gtid=$(awk -F'\t' 'NR == 1 { print $3 }' "$f")
  fi
  echo "$gtid"
}

# stream_answer NONCE SECRET: the answer to the backup server's challenge (sha256 of nonce:secret),
# so the secret itself never crosses the network.
stream_answer() {
  printf '%s:%s' "${1:?stream_answer needs NONCE}" "${2:?stream_answer needs SECRET}" | sha256sum | cut -c1-64
}

# receive_backup DIR DONOR PORT SECRET: connect to the donor's backup server over TLS (the donor
# verified against the release's CA, hostname included; the release's certificate presented),
# answer its challenge and extract its backup stream into DIR; 1 when the connection, the
# challenge or the extraction fails. socat carries the TLS between two named pipes.
receive_backup() {
  local dir=${1:?receive_backup needs DIR} donor=${2:?receive_backup needs DONOR} port=${3:?receive_backup needs PORT} secret=${4:?receive_backup needs SECRET}
  local nonce rc=0 pipes="$RUN_DIR/backup-peer.$$" tls_pid
  if ! { rm -rf "$pipes" && mkdir -m 700 "$pipes" && mkfifo "$pipes/to-donor" "$pipes/from-donor"; }; then
    log "cannot create the pipes in $pipes"
    return 1
  fi
  # 256 KiB reads and writes; at the donor's end of stream, EOF is passed on after 50 ms instead
  # of half a second (this end's input stays open until the extraction is done).
  socat -b 262144 -t 0.05 - "OPENSSL:$donor:$port,cert=$TLS_DIR/tls.crt,key=$TLS_DIR/tls.key,cafile=$TLS_DIR/ca.crt,verify=1" \
    <"$pipes/to-donor" >"$pipes/from-donor" 2>"$pipes/socat.log" &
  tls_pid=$!
  exec 4>"$pipes/to-donor" 3<"$pipes/from-donor"
  if ! read -r -t 30 nonce <&3 || [[ ! "$nonce" =~ ^[0-9a-f]{32}$ ]]; then
    log "no challenge from $donor:$port (TLS: $(tail -n 2 "$pipes/socat.log" | tr '\n' ' '))"
    rc=1
  elif ! { stream_answer "$nonce" "$secret" && echo; } >&4; then
    log "could not answer the challenge of $donor:$port"
    rc=1
  else
    mbstream -x -C "$dir" <&3 || rc=$?
  fi
  exec 3<&- 4>&-
  kill "$tls_pid" 2>/dev/null || true
  wait "$tls_pid" 2>/dev/null || true
  rm -rf "$pipes"
  return "$rc"
}

# backup_complete DIR: 0 when DIR holds a whole backup: mariadb-backup writes its *_info file
# last, after every data file, and its checkpoints mark a full backup. A stream cut at a
# chunk boundary extracts without error, so this is what tells a finished backup apart.
backup_complete() {
  local dir=${1:?backup_complete needs DIR} info checkpoints
  info=$(backup_meta "$dir" info)
  checkpoints=$(backup_meta "$dir" checkpoints)
  [[ -n "$info" && -n "$checkpoints" ]] || return 1
  grep -q '^backup_type *= *full-backuped' "$checkpoints"
}

# flavor_clone_into DIR DONOR_HOST: fill DIR with a prepared copy of the donor's data from the
# donor's backup stream; 1 on any failure, leaving DIR to be discarded.
# Called from `if` (errexit is off inside): every step's failure is checked here.
flavor_clone_into() {
  local dir=${1:?flavor_clone_into needs DIR} donor=${2:?flavor_clone_into needs DONOR_HOST} port=${BACKUP_PORT:-3307} secret start copy_start gtid bytes
  secret=$(read_secret mysql-clone-password) || return 1
  { rm -rf "$dir" && mkdir -p "$dir"; } || { log "cannot create $dir"; return 1; }
  log "waiting for donor $donor to serve backups on port $port"
  start=$SECONDS
  until (exec 3<>"/dev/tcp/$donor/$port") 2>/dev/null; do
    if (( SECONDS - start >= ${DONOR_WAIT_SECONDS:-600} )); then
      log "donor $donor:$port did not answer in ${DONOR_WAIT_SECONDS:-600}s"
      return 1
    fi
    sleep 1
  done
  log "receiving a hot backup from $donor:$port"
  copy_start=$SECONDS
  if ! receive_backup "$dir" "$donor" "$port" "$secret"; then
    log "the backup stream from $donor failed"
    return 1
  fi
  if ! backup_complete "$dir"; then
    log "the backup from $donor is incomplete (no final info file or not a full backup): discarding it"
    return 1
  fi
  bytes=$(du -sb "$dir" | cut -f1) || { log "cannot measure $dir"; return 1; }
  log "received $bytes bytes; preparing the backup"
  if ! mariadb-backup --prepare --target-dir="$dir" >/tmp/prepare.log 2>&1; then
    tail -n 20 /tmp/prepare.log >&2
    log "mariadb-backup --prepare failed"
    return 1
  fi
  gtid=$(backup_gtid "$dir")
  [[ -n "$gtid" ]] || { log "the backup carries no GTID position"; return 1; }
  {
    echo "donor=$donor"
    echo "gtid=$gtid"
    echo "bytes=$bytes"
    echo "seconds=$((SECONDS - copy_start))"
    echo "completed=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$dir/$CLONE_RECORD_NAME" || { log "cannot write the clone record"; return 1; }
  log "clone completed from $donor: $bytes bytes in $((SECONDS - copy_start))s, GTID position $gtid"
}

# flavor_copy_position DIR: the GTID position of the copy flavor_clone_into made in DIR (its clone
# record; backup.sh's manifest); 1 when there is none.
flavor_copy_position() {
  local dir=${1:?flavor_copy_position needs DIR}
  [[ -f "$dir/$CLONE_RECORD_NAME" ]] || return 1
  sed -n 's/^gtid=//p' "$dir/$CLONE_RECORD_NAME"
}

# flavor_restore_finish DIR GTID: make the restored copy in DIR this release's primary on its first
# start (FIRST_START_SQL_NAME, run before any client connects): it gets this release's accounts
# (the backed-up release's until then) outside the binary log, then its binary log GTID state
# continues from GTID, and read_only goes off last (run-server.sh's sign that it all succeeded).
# With restore.pointInTime (RESTORE_REPLAY_DIR) the same statements run on a temporary server
# instead, the archived binary logs are replayed on it, and the first start is an ordinary one.
flavor_restore_finish() {
  local dir=${1:?flavor_restore_finish needs DIR} gtid=${2?flavor_restore_finish needs GTID} accounts
  rm -f "$dir/$CLONE_RECORD_NAME"
  accounts=$(echo "SET SESSION sql_log_bin = 0;" && ACCOUNTS_MAY_EXIST=true account_sql) || { log "cannot build the restored copy's accounts"; return 1; }
  if [[ -n "${RESTORE_REPLAY_DIR:-}" ]]; then
    restore_replay "$dir" "$gtid" "$accounts"
    return
  fi
  if ! ( umask 077 && { printf '%s\n' "$accounts" && continue_history_sql "$gtid"; } >"$dir/$FIRST_START_SQL_NAME" ); then
    log "cannot write $dir/$FIRST_START_SQL_NAME"
    return 1
  fi
  log "the first start gives the copy this release's accounts and continues GTID ${gtid:-empty} ($FIRST_START_SQL_NAME)"
}

# restore_replay DIR GTID ACCOUNTS_SQL: restore.pointInTime on the restored copy in DIR: a temporary
# server whose init file gives it this release's accounts and continues GTID, the archived binary
# logs replayed on it after GTID up to RESTORE_POINT_IN_TIME, then the accounts again.
restore_replay() {
  local dir=${1:?restore_replay needs DIR} gtid=${2?restore_replay needs GTID} accounts=${3:?restore_replay needs ACCOUNTS_SQL}
  local cnf="$RUN_DIR/restore-client.cnf" init_sql rc=0
  init_sql=$(printf '%s\n' "$accounts" && continue_history_sql "$gtid") || { log "cannot build the restored copy's first statements"; return 1; }
  log "starting the restored copy once (GTID ${gtid:-empty}) to replay the archived binary logs on it"
  start_copy "$dir" "$RUN_DIR/restore.sock" "$cnf" "$init_sql" "the restored copy" || return 1
  replay_binlogs "$cnf" "$gtid" "$RESTORE_REPLAY_DIR" "${RESTORE_POINT_IN_TIME:?}" "$accounts" || rc=$?
  (( rc == 0 )) || log "replaying the archived binary logs on the restored copy failed (see above)"
  stop_temp_server "$cnf"
  rm -f "$cnf"
  return "$rc"
}

# flavor_decode_binlogs GTID STOP FILE...: the SQL of the binary logs FILE... (replay_binlogs) after
# the GTID position GTID (the backup holds what came before), up to the first event at or after STOP
# (UTC, 'YYYY-MM-DD hh:mm:ss'), keeping their GTIDs.
flavor_decode_binlogs() {
  local gtid=${1?flavor_decode_binlogs needs GTID} stop=${2:?flavor_decode_binlogs needs STOP}; shift 2
  TZ=UTC mariadb-binlog ${gtid:+--start-position="$gtid"} --stop-datetime="$stop" "$@"
}
