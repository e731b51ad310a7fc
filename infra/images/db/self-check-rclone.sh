#!/usr/bin/env bash
# self-check-rclone.sh: runs INSIDE the mysql-chart/rclone image (the S3 client the chart copies
# into its backup Job and restoring pod), fed on stdin by verify.sh after self-check-common.sh. No
# network: it checks the path the chart copies from, that the binary runs on its own once copied
# elsewhere, and that it streams a file in and out the way backup-store.sh does (rcat, lsf, cat).
set -euo pipefail
shopt -s inherit_errexit

# fail MSG: say what failed and exit 1.
fail() { probe_failed "$@"; }

identity
[[ -x /usr/local/bin/rclone ]] || fail "/usr/local/bin/rclone (the path the chart copies) is missing"
version=$(/usr/local/bin/rclone version | head -n 1) || fail "rclone version failed"
fact rclone "$version"
tools=$(mktemp -d)
cp /usr/local/bin/rclone "$tools/rclone" || fail "cannot copy the binary"
r() { "$tools/rclone" --config /dev/null -q "$@"; }
grep -q "Amazon S3" <<<"$(r help backends)" || fail "rclone has no S3 backend"
dest=$(mktemp -d)
head -c 300000 /dev/urandom >"$tools/data"
r rcat "$dest/20260101T000000Z/data.tar.gz" <"$tools/data" || fail "rclone rcat failed"
[[ "$(r lsf --format s "$dest/20260101T000000Z/data.tar.gz")" == 300000 ]] || fail "rclone lsf does not report the size written"
cmp <(r cat "$dest/20260101T000000Z/data.tar.gz") "$tools/data" || fail "rclone cat does not give back what rcat wrote"
fact rclone.stream ok
echo "PROBE OK"
