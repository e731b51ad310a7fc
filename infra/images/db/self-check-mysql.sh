#!/usr/bin/env bash
# self-check-mysql.sh: runs INSIDE a mysql-chart/mysql image (as the image's
# user), fed on stdin by verify.sh after self-check-common.sh (fact, names,
# image_basics). Initialises a datadir, starts mysqld with binary logging and
# GTIDs, checks the clone plugin (including a local clone), TLS auto-generation,
# then shuts down. Prints "FACT key=value" lines that verify.sh collects, and
# exits non-zero on the first failure.
set -euo pipefail
shopt -s inherit_errexit

DATADIR=/var/lib/mysql
SOCK=/var/run/mysqld/mysqld.sock
LOG=/tmp/mysqld.err

# fail MSG: print the server log tail and exit 1.
fail() {
  echo "PROBE FAILED: $*" >&2
  [[ -f $LOG ]] && tail -n 30 "$LOG" >&2
  exit 1
}

# sql QUERY: run QUERY as root over the socket, tab-separated, no headers.
sql() { mysql --no-defaults -uroot -S "$SOCK" -N -B -e "$1"; }

# wait_ready: wait up to 60 s for the server to answer a ping.
wait_ready() {
  local _
  for _ in $(seq 1 60); do
    mysqladmin --no-defaults -uroot -S "$SOCK" ping >/dev/null 2>&1 && return 0
    kill -0 "$MYSQLD_PID" 2>/dev/null || fail "mysqld exited during start-up"
    sleep 1
  done
  fail "mysqld did not answer within 60 s"
}

# binaries: record where the tools the chart calls live.
binaries() {
  local b
  for b in mysqld mysql mysqladmin mysqldump mysqlbinlog mysqld_safe mariadbd mariadb; do
    fact "bin.$b" "$(command -v "$b" || echo absent)"
  done
  image_basics
  fact mysqld.version "$(mysqld --version)"
  fact mysql.version "$(mysql --version)"
  # The `|| fail` must test my_print_defaults, not fact: a $(...) argument's failure is ignored.
  local defaults
  defaults=$(my_print_defaults mysqld | tr '\n' ' ') || fail "my_print_defaults cannot read /etc/mysql/my.cnf"
  fact defaults.mysqld "$defaults"
  fact config.my.cnf "$(grep -v '^#' /etc/mysql/my.cnf | tr '\n' ' ')"
}

# main: the whole probe.
main() {
  binaries
  [[ -w $DATADIR && -z $(ls -A "$DATADIR") ]] || fail "$DATADIR is not an empty writable directory"

  local t0=$SECONDS
  mysqld --no-defaults --initialize-insecure --datadir="$DATADIR" --log-error="$LOG" || fail "mysqld --initialize-insecure failed"
  fact initialize.seconds "$(( SECONDS - t0 ))"

  mysqld --no-defaults --datadir="$DATADIR" --socket="$SOCK" --pid-file=/var/run/mysqld/mysqld.pid \
    --bind-address=127.0.0.1 --port=3306 --mysqlx=OFF --log-error="$LOG" \
    --server-id=1 --log-bin=binlog --gtid-mode=ON --enforce-gtid-consistency=ON &
  MYSQLD_PID=$!
  wait_ready
  fact start.seconds "$(( SECONDS - t0 ))"

  fact server.version "$(sql 'SELECT VERSION()')"
  fact server.version_comment "$(sql 'SELECT @@version_comment')"
  fact plugin_dir "$(sql 'SELECT @@plugin_dir')"
  fact socket "$(sql 'SELECT @@socket')"
  fact binlog_format+gtid_mode+enforce_gtid_consistency "$(sql 'SELECT @@binlog_format, @@gtid_mode, @@enforce_gtid_consistency' | tr '\t' ' ')"
  [[ $(sql 'SELECT @@gtid_mode') == ON ]] || fail "gtid_mode is not ON"

  # TLS: the server generates its own certificates in the datadir (libssl).
  fact tls "tls_version=$(sql "SELECT @@tls_version") certs=$(names "$DATADIR" '*.pem')"
  mysql --no-defaults -uroot -h127.0.0.1 -P3306 --ssl-mode=REQUIRED -N -B -e "SHOW SESSION STATUS LIKE 'Ssl_version'" | grep -q TLS || fail "TLS connection over TCP failed"

  # The clone plugin: install it, then clone this server into a local directory.
  sql "INSTALL PLUGIN clone SONAME 'mysql_clone.so'" || fail "INSTALL PLUGIN clone failed"
  fact clone.plugin "$(sql "SELECT CONCAT(PLUGIN_NAME,' ',PLUGIN_STATUS,' ',PLUGIN_LIBRARY) FROM information_schema.PLUGINS WHERE PLUGIN_NAME='clone'")"
  sql "CREATE DATABASE probe; CREATE TABLE probe.t (id INT PRIMARY KEY); INSERT INTO probe.t VALUES (1),(2),(3)"
  sql "CLONE LOCAL DATA DIRECTORY = '/tmp/clone'" || fail "CLONE LOCAL failed"
  [[ -d /tmp/clone/probe && -d /tmp/clone/#clone ]] || fail "the local clone has no probe schema"
  fact clone.local "ok, files: $(names /tmp/clone/#clone)"
  fact gtid_executed "$(sql 'SELECT @@gtid_executed')"
  fact binlog_status "$(sql 'SHOW BINARY LOG STATUS' | tr '\t' ' ')"

  mysqladmin --no-defaults -uroot -S "$SOCK" shutdown
  wait "$MYSQLD_PID" || fail "mysqld did not stop cleanly"
  echo "PROBE OK"
}

main "$@"
