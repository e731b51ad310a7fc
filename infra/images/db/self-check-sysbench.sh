#!/usr/bin/env bash
# self-check-sysbench.sh: runs INSIDE the mysql-chart/sysbench image (the benchmark's load
# generator), fed on stdin by verify.sh after self-check-common.sh. No server here: it checks
# that sysbench starts, has its MySQL driver, and knows the OLTP test the benchmark runs.
set -euo pipefail
shopt -s inherit_errexit

# fail MSG: say what failed and exit 1.
fail() { probe_failed "$@"; }

identity
version=$(sysbench --version) || fail "sysbench --version failed"
fact sysbench "$version"
help=$(sysbench --help 2>&1) || true  # exits 1 after printing its help
grep -q "mysql - MySQL driver" <<<"$help" || fail "sysbench has no MySQL driver: $help"
oltp=$(sysbench oltp_write_only help 2>&1) || fail "sysbench oltp_write_only help failed: $oltp"
grep -q -- "--table_size" <<<"$oltp" || fail "sysbench's oltp_write_only test is missing: $oltp"
fact sysbench.mysql_driver yes
echo "PROBE OK"
