#!/usr/bin/env bash
# helm-test.sh (helm test pod): write a row on the primary through its stable DNS name and
# read it back from every pod within TEST_TIMEOUT_SECONDS. It logs in as the chart's test
# account (TEST_USER), which owns the mysql_chart_test database and nothing else, over TLS with
# each server verified against the release's CA.
set -euo pipefail
shopt -s inherit_errexit
LOG_TAG=helm-test
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

main() {
  require_env REPLICAS PRIMARY_HOST
  local pw token cnf="/tmp/test-client.cnf" i host start found failed=0
  pw=$(read_secret mysql-test-password) || die "cannot read the test account's password"
  token="helm-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  write_tls_client_cnf "$cnf" "$TEST_USER" "$pw" "$PRIMARY_HOST"
  # A NetworkPolicy may admit this new pod's address a moment after it starts: connect first, retrying.
  wait_for_server "$cnf" "${TEST_TIMEOUT_SECONDS:-60}" "primary $PRIMARY_HOST" || die "cannot connect to the primary $PRIMARY_HOST as $TEST_USER within ${TEST_TIMEOUT_SECONDS:-60}s"
  log "writing $token on the primary $PRIMARY_HOST as $TEST_USER"
  sql "$cnf" <<SQL
CREATE DATABASE IF NOT EXISTS mysql_chart_test;
CREATE TABLE IF NOT EXISTS mysql_chart_test.rows (token VARCHAR(64) PRIMARY KEY, at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
INSERT INTO mysql_chart_test.rows (token) VALUES ($(sql_string "$token"));
SQL
  for ((i = 0; i < REPLICAS; i++)); do
    host=$(peer_host "$i")
    write_tls_client_cnf "$cnf" "$TEST_USER" "$pw" "$host"
    start=$SECONDS
    found=""
    while (( SECONDS - start < ${TEST_TIMEOUT_SECONDS:-60} )); do
      found=$(sql "$cnf" <<<"SELECT COUNT(*) FROM mysql_chart_test.rows WHERE token = $(sql_string "$token")" 2>/dev/null || true)
      [[ "$found" == "1" ]] && break
      sleep 1
    done
    if [[ "$found" == "1" ]]; then
      log "PASS $host has the row ($((SECONDS - start))s)"
    else
      log "FAIL $host does not have the row after ${TEST_TIMEOUT_SECONDS:-60}s"
      failed=1
    fi
  done
  write_tls_client_cnf "$cnf" "$TEST_USER" "$pw" "$PRIMARY_HOST"
  sql "$cnf" <<<"DELETE FROM mysql_chart_test.rows WHERE token = $(sql_string "$token")" || true
  (( failed == 0 )) || die "the row written on the primary did not reach every pod"
  log "every pod has the row written on the primary"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
