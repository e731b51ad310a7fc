#!/usr/bin/env bash
# The test command (README "Test"; .ci/run runs exactly this). From a fresh machine it
# installs what it needs, then runs every tier in order, fastest first:
#   fast    generator, render, schema, lint, OpenAPI validation, script decisions
#   local   the in-pod scripts between real database servers in Docker
#   cluster a kind cluster built with no registry, and its smoke test
# Options: --only TIER[,TIER...] runs some tiers (set-up steps they need still run).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$PROJECT_ROOT"

TIERS="fast,local,cluster"
RESULTS_DIR="$PROJECT_ROOT/.tmp/test-results"

# parse_args ARGS...: read --only.
parse_args() {
  while (( $# > 0 )); do
    case $1 in
      --only) TIERS=${2:?--only needs a list of tiers}; shift 2 ;;
      *) die "unknown argument: $1 (usage: scripts/test.sh [--only fast,local,cluster])" ;;
    esac
  done
}

# wants TIER: true when TIER is to run.
wants() { [[ ",$TIERS," == *",$1,"* ]]; }

# vitest_tier NAME: run one vitest project, recording its JSON report for the summary.
vitest_tier() {
  local name=$1
  log "tier $name: running"
  npx vitest run --project "$name" --reporter=default --reporter=json --outputFile.json="$RESULTS_DIR/$name.json"
  log "tier $name: passed"
}

main() {
  parse_args "$@"
  rm -rf "$RESULTS_DIR"; mkdir -p "$RESULTS_DIR"
  log "installing pinned tools"
  bash scripts/install-tools.sh
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  log "checking that generated-chart/ is in sync"
  npx tsx scripts/generate.ts --check
  npx tsc --noEmit
  local status=0
  if wants fast; then vitest_tier fast || status=1; fi
  if wants local; then
    bash scripts/docker/ensure-docker.sh
    bash scripts/images/db/build.sh all
    vitest_tier local || status=1
  fi
  if wants cluster; then
    bash scripts/cluster/up.sh
    KUBECONFIG="$CACHE_DIR/kind-${CLUSTER_NAME:-mysql-chart}.kubeconfig" vitest_tier cluster || status=1
  fi
  npx tsx scripts/test-summary.ts "$RESULTS_DIR"
  return "$status"
}

main "$@"
