#!/usr/bin/env bash
# self-check-mariadb.sh: runs INSIDE a mysql-chart/mariadb image (as the image's
# user), fed on stdin by verify.sh after self-check-common.sh (fact, names,
# image_basics). Initialises a datadir, starts mariadbd with binary logging,
# streams a mariadb-backup (mbstream) through socat the way the chart serves it,
# extracts it with mbstream -x, prepares it and starts a second server on the
# copy. Prints "FACT key=value" lines that verify.sh collects, and exits non-
# zero on the first failure.
set -euo pipefail
shopt -s inherit_errexit

DATADIR=/var/lib/mysql
SOCK=/run/mysqld/mysqld.sock
LOG=/tmp/mariadbd.err
RESTORE=/tmp/restore
STREAM_PORT=3307

# fail MSG: print the server and backup logs' tails and exit 1.
fail() {
  echo "PROBE FAILED: $*" >&2
  local f
  for f in "$LOG" /tmp/backup.err /tmp/prepare.err /tmp/restored.err; do
    [[ -f $f ]] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}

# sql SOCKET QUERY: run QUERY as root over SOCKET, tab-separated, no headers.
sql() { mariadb -uroot -S "$1" -N -B -e "$2"; }

# wait_ready SOCKET PID: wait up to 60 s for the server at SOCKET to answer.
wait_ready() {
  local _
  for _ in $(seq 1 60); do
    mariadb-admin -uroot -S "$1" ping >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || fail "mariadbd exited during start-up"
    sleep 1
  done
  fail "mariadbd did not answer within 60 s"
}

# where CMD: the path of CMD, with its symlink target, or "absent".
where() {
  local p
  p=$(command -v "$1") || { echo absent; return; }
  if [[ -L $p ]]; then echo "$p -> $(readlink "$p")"; else echo "$p"; fi
}

# binaries: record where the tools the chart calls live.
binaries() {
  local b
  for b in mariadbd mysqld mariadb mysql mariadb-admin mysqladmin mariadb-dump mysqldump mariadb-binlog \
           mariadb-install-db mysql_install_db mariadb-backup mariabackup mbstream my_print_defaults \
           mariadb-upgrade mariadb-check; do
    fact "bin.$b" "$(where "$b")"
  done
  # The chart's sidecar upgrades the system tables with it after a server version change.
  command -v mariadb-upgrade >/dev/null || fail "mariadb-upgrade missing from the image"
  image_basics
  fact mariadbd.version "$(mariadbd --version)"
  fact mariadb.version "$(mariadb --version)"
  fact mariadb-backup.version "$(mariadb-backup --version 2>&1 | tail -n1)"
  fact defaults.mysqld "$(my_print_defaults mysqld server mariadb mariadbd | tr '\n' ' ')"
}

# backup_stream: serve mariadb-backup's mbstream with socat on a TCP port (as
# the chart does) and extract what arrives with mbstream -x.
backup_stream() {
  local t0=$SECONDS
  socat -U "TCP-LISTEN:$STREAM_PORT,bind=127.0.0.1,reuseaddr" \
    "SYSTEM:mariadb-backup --backup --stream=mbstream --target-dir=/tmp/backup-tmp --user=root --socket=$SOCK 2>/tmp/backup.err" &
  local socat_pid=$!
  mkdir -p "$RESTORE"
  socat -u "TCP:127.0.0.1:$STREAM_PORT,retry=20,interval=0.5" STDOUT | mbstream -x -C "$RESTORE" \
    || fail "receiving or extracting the mbstream failed"
  wait "$socat_pid" || fail "socat serving mariadb-backup failed"
  grep -q 'completed OK' /tmp/backup.err || fail "mariadb-backup did not complete OK"
  fact backup.seconds "$(( SECONDS - t0 ))"
  fact backup.extracted "$(names "$RESTORE")"
  local f
  for f in "$RESTORE"/xtrabackup_* "$RESTORE"/mariadb_backup_* "$RESTORE"/backup-my.cnf; do
    [[ -f $f ]] || continue
    fact "backup.file.$(basename "$f")" "$(grep -v '^#' "$f" | sed '/^$/d' | tr '\n' '|' | cut -c1-1000)"
  done
}

# restore_check: prepare the extracted backup and start a second server on it.
restore_check() {
  mariadb-backup --prepare --target-dir="$RESTORE" >/tmp/prepare.err 2>&1 || fail "mariadb-backup --prepare failed"
  mariadbd --datadir="$RESTORE" --socket=/tmp/restored.sock --pid-file=/tmp/restored.pid \
    --skip-networking --log-error=/tmp/restored.err --server-id=2 &
  local pid=$!
  wait_ready /tmp/restored.sock "$pid"
  [[ $(sql /tmp/restored.sock 'SELECT COUNT(*) FROM probe.t') == 3 ]] || fail "the restored copy lacks the probe rows"
  fact restore "prepared and started, probe.t has 3 rows"
  mariadb-admin -uroot -S /tmp/restored.sock shutdown
  wait "$pid" || fail "the restored server did not stop cleanly"
}

# main: the whole probe.
main() {
  binaries
  [[ -w $DATADIR && -z $(ls -A "$DATADIR") ]] || fail "$DATADIR is not an empty writable directory"

  local t0=$SECONDS
  mariadb-install-db --datadir="$DATADIR" --auth-root-authentication-method=normal --skip-test-db \
    >/tmp/install-db.log 2>&1 || { cat /tmp/install-db.log >&2; fail "mariadb-install-db failed"; }
  fact initialize.seconds "$(( SECONDS - t0 ))"

  mariadbd --datadir="$DATADIR" --socket="$SOCK" --pid-file=/run/mysqld/mysqld.pid \
    --bind-address=127.0.0.1 --port=3306 --log-error="$LOG" --server-id=1 --log-bin=binlog &
  MARIADBD_PID=$!
  wait_ready "$SOCK" "$MARIADBD_PID"
  fact start.seconds "$(( SECONDS - t0 ))"

  fact server.version "$(sql "$SOCK" 'SELECT VERSION()')"
  fact server.version_comment "$(sql "$SOCK" 'SELECT @@version_comment')"
  fact plugin_dir "$(sql "$SOCK" 'SELECT @@plugin_dir')"
  fact socket "$(sql "$SOCK" 'SELECT @@socket')"
  fact tls "have_ssl=$(sql "$SOCK" 'SELECT @@have_ssl') ssl_cert=$(sql "$SOCK" 'SELECT IFNULL(@@ssl_cert,"(none)")')"
  sql "$SOCK" "CREATE DATABASE probe; CREATE TABLE probe.t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO probe.t VALUES (1),(2),(3)"
  fact binlog_format+gtid_binlog_pos+gtid_strict_mode "$(sql "$SOCK" 'SELECT @@binlog_format, @@gtid_binlog_pos, @@gtid_strict_mode' | tr '\t' ' ')"

  backup_stream
  restore_check

  mariadb-admin -uroot -S "$SOCK" shutdown
  wait "$MARIADBD_PID" || fail "mariadbd did not stop cleanly"
  echo "PROBE OK"
}

main "$@"
