#!/usr/bin/env bash
# self-check-exporter.sh: runs INSIDE the mysql-chart/mysqld-exporter image (the chart's metrics
# sidecar), fed on stdin by verify.sh after self-check-common.sh. No server here: it checks that
# the exporter starts under the upstream image's path, takes the flags the chart passes, and
# serves its own metrics with mysql_up 0 while no server answers.
set -euo pipefail
shopt -s inherit_errexit

# fail MSG: say what failed and exit 1.
fail() { probe_failed "$@"; }

identity
version=$(/bin/mysqld_exporter --version 2>&1) || fail "/bin/mysqld_exporter --version failed: $version"
fact mysqld_exporter "$(head -n1 <<<"$version")"
help=$(/bin/mysqld_exporter --help 2>&1) || true
for flag in --config.my-cnf --web.listen-address --collect.slave_status; do
  grep -q -- "$flag" <<<"$help" || fail "the exporter has no $flag flag"
done
# As the chart runs it: the account and the server's socket in an option file, the password from
# the environment.
# shellcheck disable=SC2016 # the exporter expands ${MYSQLD_EXPORTER_PASSWORD} itself
printf '[client]\nuser=metrics\npassword=${MYSQLD_EXPORTER_PASSWORD}\nsocket=/run/mysqld/none.sock\n' >/tmp/exporter.cnf
MYSQLD_EXPORTER_PASSWORD=x /bin/mysqld_exporter --config.my-cnf=/tmp/exporter.cnf --web.listen-address=127.0.0.1:9104 >/tmp/exporter.log 2>&1 &
pid=$!
metrics=""
for _ in $(seq 1 50); do
  metrics=$(curl -fsS http://127.0.0.1:9104/metrics 2>/dev/null) && break
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
grep -qx "mysql_up 0" <<<"$metrics" || fail "no 'mysql_up 0' from the exporter without a server: $(tail -n5 /tmp/exporter.log)"
fact exporter.serves_metrics yes
echo "PROBE OK"
