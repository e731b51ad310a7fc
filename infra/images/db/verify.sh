#!/usr/bin/env bash
# verify.sh: prove that a database image built by build.sh works.
#
#   infra/images/db/verify.sh TAG        e.g. mysql-chart/mariadb:11.8-debian
#
# Checks the image config (USER 999, PATH, CMD), then runs the matching probe
# (self-check-mysql.sh or self-check-mariadb.sh, not to be confused with the chart's probe.sh) inside a throw-away container as the
# image's own user, without network (loopback only): initialise a datadir,
# start the server, query it, and exercise the replication/backup tooling the
# chart relies on (MySQL: GTIDs, clone plugin; MariaDB: mariadb-backup mbstream
# served by socat, mbstream -x, prepare, start on the copy).
# The probe's facts are written to $CACHE_DIR/images/db/verify-<image>.txt.
# Exits non-zero when anything fails.
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source-path=SCRIPTDIR

# shellcheck source=../../../scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/lib/common.sh"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROBE_TIMEOUT=${PROBE_TIMEOUT:-300}
CONTAINER=""

# cleanup: remove the probe container of this run, if it is still there.
cleanup() {
  if [[ -n $CONTAINER ]]; then docker rm -f "$CONTAINER" >/dev/null 2>&1 || true; fi
}

# check_config TAG: the image config the chart relies on.
check_config() {
  local tag=$1 user env cmd
  user=$(docker image inspect "$tag" --format '{{.Config.User}}')
  env=$(docker image inspect "$tag" --format '{{join .Config.Env " "}}')
  cmd=$(docker image inspect "$tag" --format '{{json .Config.Cmd}}')
  [[ $user == 999 ]] || die "$tag: USER is '$user', expected 999"
  [[ $env == *PATH=*/usr/sbin* ]] || die "$tag: ENV PATH is missing or lacks /usr/sbin ($env)"
  [[ $cmd == '["mysqld"]' || $cmd == '["mariadbd"]' || $cmd == '["sysbench"]' || $cmd == '["/bin/mysqld_exporter"]' || $cmd == '["rclone"]' ]] || die "$tag: unexpected CMD $cmd"
  printf 'FACT image.user=%s\nFACT image.cmd=%s\nFACT image.size=%s MB\nFACT image.build_key=%s\n' \
    "$user" "$cmd" \
    "$(docker image inspect "$tag" --format '{{.Size}}' | awk '{printf "%.0f", $1/1e6}')" \
    "$(docker image inspect "$tag" --format '{{ index .Config.Labels "org.mysql-chart.build-key" }}')"
}

# main TAG: verify one image.
main() {
  [[ $# -eq 1 ]] || { echo "usage: $0 TAG" >&2; exit 2; }
  local tag=$1 probe slug out rc=0
  need_cmd docker "Run: bash infra/docker/ensure-docker.sh"
  docker image inspect "$tag" >/dev/null 2>&1 || die "image $tag not found. Build it: infra/images/db/build.sh"
  case $tag in
    mysql-chart/mysql:*) probe=$HERE/self-check-mysql.sh ;;
    mysql-chart/mariadb:*) probe=$HERE/self-check-mariadb.sh ;;
    mysql-chart/sysbench:*) probe=$HERE/self-check-sysbench.sh ;;
    mysql-chart/mysqld-exporter:*) probe=$HERE/self-check-exporter.sh ;;
    mysql-chart/rclone:*) probe=$HERE/self-check-rclone.sh ;;
    *) die "don't know which probe fits $tag (expected mysql-chart/mysql:*, mysql-chart/mariadb:*, mysql-chart/sysbench:*, mysql-chart/mysqld-exporter:* or mysql-chart/rclone:*)" ;;
  esac
  slug=$(printf '%s' "$tag" | tr '/:' '__')
  out="$CACHE_DIR/images/db/verify-$slug.txt"
  mkdir -p "$CACHE_DIR/images/db"
  trap cleanup EXIT

  log "$tag: checking image config"
  check_config "$tag" >"$out.tmp"
  CONTAINER="db-verify-$slug-$$"
  log "$tag: running $(basename "$probe") in container $CONTAINER (no network, image user)"
  cat "$HERE/self-check-common.sh" "$probe" |
    timeout "$PROBE_TIMEOUT" docker run --rm -i --name "$CONTAINER" --network none "$tag" bash -s >>"$out.tmp" || rc=$?
  cat "$out.tmp"
  if (( rc != 0 )) || [[ $(tail -n1 "$out.tmp") != "PROBE OK" ]]; then
    rm -f "$out"
    mv -f "$out.tmp" "$out.failed"
    die "$tag: verification failed (exit $rc). Output: $out.failed"
  fi
  rm -f "$out.failed"
  mv -f "$out.tmp" "$out"
  log "$tag: verified OK (facts: $out)"
}

main "$@"
