#!/usr/bin/env bash
# The run command (README "Run"): from a fresh machine, set everything up (tools, Docker,
# images, a local kind cluster), then install the chart and show replication working.
#   FLAVOR=mysql|mariadb (default mysql), REPLICAS=N (default 3)
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$PROJECT_ROOT"

main() {
  local flavor=${FLAVOR:-mysql} image target
  case "$flavor" in
    mysql) target=mysql-9.7; image=$LOCAL_IMAGE_MYSQL_9_7; export MYSQL_IMAGE=${MYSQL_IMAGE:-$image} ;;
    mariadb) target=mariadb-11.8; image=$LOCAL_IMAGE_MARIADB_11_8; export MARIADB_IMAGE=${MARIADB_IMAGE:-$image} ;;
    *) die "FLAVOR must be mysql or mariadb, not '$flavor'" ;;
  esac
  log "step 1/5: tools"
  bash scripts/install-tools.sh
  npm ci --no-audit --no-fund --loglevel=error
  log "step 2/5: Docker engine"
  bash infra/docker/ensure-docker.sh
  log "step 3/5: database image $image (built from Debian packages)"
  bash infra/images/db/build.sh "$target"
  log "step 4/5: kind cluster"
  bash infra/cluster/up.sh
  export KUBECONFIG="$CACHE_DIR/kind-${CLUSTER_NAME:-mysql-chart}.kubeconfig"
  bash infra/cluster/load-image.sh "$image"
  log "step 5/5: install the chart and show it working"
  FLAVOR=$flavor npx tsx scripts/demo.ts
}

main "$@"
