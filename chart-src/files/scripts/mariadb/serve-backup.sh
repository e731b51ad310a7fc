#!/usr/bin/env bash
# serve-backup.sh (MariaDB): serves one hot backup to a new replica. socat runs it once per
# connection with the socket on stdin/stdout, and one backup streams at a time. The peer must first answer a challenge with
# the clone password (sha256 of nonce:password), so only pods of this release can copy data.
# Logs go to stderr (the sidecar's log); stdout carries only the protocol and the stream.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=serve-backup
# shellcheck source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=clone.sh
. "$(dirname "${BASH_SOURCE[0]}")/clone.sh"

# serve_one: challenge the peer, then stream mariadb-backup to it.
serve_one() {
  local peer=${SOCAT_PEERADDR:-unknown} secret nonce answer lock
  secret=$(read_secret mysql-clone-password) || exit 1
  nonce=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$nonce"
  if ! read -r -t 30 answer; then
    log "refused $peer: no answer to the challenge"
    exit 1
  fi
  if [[ "$answer" != "$(stream_answer "$nonce" "$secret")" ]]; then
    log "refused $peer: wrong answer to the challenge"
    exit 1
  fi
  # One backup at a time on this pod: a second peer waits here, challenge answered, until the
  # first stream ends (the lock goes with this process).
  exec {lock}>"$RUN_DIR/serve-backup.lock"
  if ! flock -n "$lock"; then
    log "$peer waits for the backup in progress"
    flock "$lock"
  fi
  # A global: the EXIT trap runs after serve_one has returned, when its locals are gone.
  BACKUP_CNF="$RUN_DIR/backup-$$.cnf"
  trap 'rm -f "$BACKUP_CNF"' EXIT
  require_env CLONE_USER
  # mariadb-backup reads the server's settings (datadir, InnoDB layout) and its account here.
  ( umask 077; { cat "$MY_CNF"; printf '\n[mariadb-backup]\nuser=%s\npassword=%s\nsocket=%s\n' \
      "$(cnf_string "$CLONE_USER")" "$(cnf_string "$secret")" "$RUN_DIR/mysqld.sock"; } >"$BACKUP_CNF" )
  log "streaming a backup to $peer"
  local start=$SECONDS
  if mariadb-backup --defaults-file="$BACKUP_CNF" --backup --slave-info --stream=mbstream \
      --target-dir=/tmp 2>/tmp/backup-$$.log; then
    log "backup streamed to $peer in $((SECONDS - start))s"
  else
    tail -n 20 "/tmp/backup-$$.log" >&2
    log "backup to $peer failed after $((SECONDS - start))s (the receiver discards it)"
    exit 1
  fi
  rm -f "/tmp/backup-$$.log"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then serve_one; fi
