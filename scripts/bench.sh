#!/usr/bin/env bash
# The benchmark command (README "Benchmark"): from a fresh machine, set everything up (tools,
# Docker, the database images, a local kind cluster), then run scripts/bench/run.ts, which
# compares this chart with the Kubernetes tutorial's StatefulSet and prints the table.
#   bash scripts/bench.sh [--runs N] [--systems key,key...] [--out DIR]
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$PROJECT_ROOT"

main() {
  log "step 1/4: tools"
  bash scripts/install-tools.sh
  npm ci --no-audit --no-fund --loglevel=error
  log "step 2/4: Docker engine and the database images (built from Debian packages)"
  bash infra/docker/ensure-docker.sh
  bash infra/images/db/build.sh all
  bash infra/images/db/build.sh sysbench
  log "step 3/4: kind cluster"
  bash infra/cluster/up.sh
  export KUBECONFIG="$CACHE_DIR/kind-${CLUSTER_NAME:-mysql-chart}.kubeconfig"
  bash infra/cluster/load-image.sh "$LOCAL_IMAGE_MYSQL_9_7" "$LOCAL_IMAGE_MARIADB_11_8" "$LOCAL_IMAGE_MARIADB_10_11" "$LOCAL_IMAGE_SYSBENCH"
  log "step 4/4: the benchmark"
  npx tsx scripts/bench/run.ts "$@"
}

main "$@"
