#!/usr/bin/env bash
# The test command (README "Test"; .ci/run runs exactly this). From a fresh machine it
# installs what it needs, then runs every tier, fastest first (cluster and publish-install beside
# local, which uses no cluster; e2e alone, as it needs the node's whole capacity):
#   fast    generator, render, schema, lint, OpenAPI validation, script decisions
#   publish npm run package, signing, a chart repository and an OCI registry on loopback
#   local   the in-pod scripts between real database servers in Docker
#   cluster a kind cluster built with no registry, and its smoke test
#   e2e     generated-chart/ installed into that cluster per flavor, checked with SQL
# Options: --only TIER[,TIER...] runs some tiers (set-up steps they need still run).
set -euo pipefail
shopt -s inherit_errexit
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/tiers.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/tiers.sh"
cd "$PROJECT_ROOT"

TIERS="fast,publish,local,cluster,e2e"
RESULTS_DIR="$PROJECT_ROOT/.tmp/test-results"

# parse_args ARGS...: read --only.
parse_args() {
  while (( $# > 0 )); do
    case $1 in
      --only) TIERS=${2:?--only needs a list of tiers}; shift 2 ;;
      *) die "unknown argument: $1 (usage: scripts/test.sh [--only fast,local,cluster,e2e])" ;;
    esac
  done
}

# wants TIER: true when TIER is to run.
wants() { [[ ",$TIERS," == *",$1,"* ]]; }

PREBUILD_PID=""
CLUSTER_TIERS_LOG="$CACHE_DIR/logs/cluster-tiers.log"

# cluster_tiers: the tiers that need the cluster but not the e2e tier's capacity: the cluster's
# smoke test, then the published chart installed by repository name and by OCI reference (which
# needs the images loaded). Never beside the e2e tier: its releases' CPU requests would leave the
# suites' pods Pending. Returns non-zero when either failed.
cluster_tiers() {
  local rc=0
  if wants cluster; then vitest_tier cluster || rc=1; fi
  if wants e2e && wants publish; then
    REQUIRE_CLUSTER=1 vitest_tier publish-install test/publish/install-from-repository.test.ts || rc=1
  fi
  return "$rc"
}
PREBUILD_LOG="$CACHE_DIR/logs/prebuild-images.log"

# start_prebuild: build the database images and the kind node image in the background while the
# Go tools build and the fast tiers run (debootstrap mostly waits on the network and dpkg). Only
# the host packages step may use apt at the same time, so it runs before.
start_prebuild() {
  bash infra/docker/ensure-docker.sh
  log "building the database images and the kind node image in the background (log: $PREBUILD_LOG)"
  # An empty cache has no logs folder yet (seen on the cold path: the redirection failed).
  mkdir -p "$(dirname "$PREBUILD_LOG")"
  { bash infra/images/db/build.sh all && bash infra/images/node/build.sh; } >"$PREBUILD_LOG" 2>&1 &
  PREBUILD_PID=$!
}

# finish_prebuild: wait for the background build; on failure the tiers' own build steps run
# again in the foreground and report the error.
finish_prebuild() {
  [[ -n $PREBUILD_PID ]] || return 0
  log "waiting for the background image build"
  if wait "$PREBUILD_PID"; then
    log "background image build done"
  else
    # Only a hint: the foreground build below reports the real error.
    tail -n 20 "$PREBUILD_LOG" >&2 || true
    log "WARNING: the background image build failed (log: $PREBUILD_LOG); building again in the foreground"
  fi
  PREBUILD_PID=""
}

main() {
  parse_args "$@"
  rm -rf "$RESULTS_DIR"; mkdir -p "$RESULTS_DIR"
  log "host packages"
  ensure_apt_packages shellcheck gnupg debootstrap debian-archive-keyring
  if wants local || wants cluster || wants e2e; then start_prebuild; fi
  log "installing pinned tools"
  bash scripts/install-tools.sh
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  log "checking that generated-chart/ is in sync"
  npx tsx scripts/generate.ts --check
  npx tsc --noEmit
  local status=0
  if wants fast; then vitest_tier fast || status=1; fi
  if wants publish; then
    bash scripts/install-tools.sh registry
    vitest_tier publish --exclude test/publish/install-from-repository.test.ts || status=1
  fi
  finish_prebuild
  local cluster_tiers_pid=""
  if wants cluster || wants e2e; then
    hold_cluster_lock || die "cannot take the cluster lock"
    bash infra/cluster/up.sh
    export KUBECONFIG="$CACHE_DIR/kind-${CLUSTER_NAME:-mysql-chart}.kubeconfig"
    remove_leftover_test_namespaces || die "cannot remove the namespaces of an earlier test run"
    # Namespaces this run makes carry its id (createNamespace), for the next run's clean-up.
    MYSQL_CHART_TEST_RUN="$(date -u +%Y%m%dT%H%M%SZ)-$$"
    export MYSQL_CHART_TEST_RUN
    if wants e2e; then
      bash infra/docker/ensure-docker.sh
      bash infra/images/db/build.sh mysql-9.7
      bash infra/images/db/build.sh mariadb-11.8
      bash infra/images/db/build.sh mariadb-10.11
      bash infra/images/db/build.sh mysqld-exporter
      bash infra/images/db/build.sh rclone
      bash infra/images/object-store/build.sh
      bash infra/cluster/load-image.sh "$LOCAL_IMAGE_MYSQL_9_7" "$LOCAL_IMAGE_MARIADB_11_8" "$LOCAL_IMAGE_MARIADB_10_11" "$LOCAL_IMAGE_EXPORTER" \
        "$LOCAL_IMAGE_RCLONE" "$LOCAL_IMAGE_OBJECT_STORE"
    fi
    # The cluster's smoke test and the published chart's installs use the cluster only; the local
    # tier uses Docker containers only: they run side by side.
    log "tiers cluster and publish-install: running beside the local tier (log: $CLUSTER_TIERS_LOG)"
    mkdir -p "$(dirname "$CLUSTER_TIERS_LOG")"
    cluster_tiers >"$CLUSTER_TIERS_LOG" 2>&1 &
    cluster_tiers_pid=$!
  fi
  if wants local; then
    bash infra/docker/ensure-docker.sh
    bash infra/images/db/build.sh all
    vitest_tier local || status=1
  fi
  if [[ -n $cluster_tiers_pid ]]; then
    wait "$cluster_tiers_pid" || status=1
    log "tiers cluster and publish-install, as they ran:"
    cat "$CLUSTER_TIERS_LOG"
  fi
  if wants e2e; then
    # The report holds this run's phases only (the suites append to it).
    rm -f "${E2E_REPORT:-.tmp/e2e-report.json}"
    vitest_tier e2e || status=1
  fi
  # The summary fails on its own when any tier failed or left no report; status also
  # catches a tier whose report looks clean but whose runner exited non-zero.
  summarize_tiers || status=1
  return "$status"
}

main "$@"
