#!/usr/bin/env bash
# Running test tiers and summing their results, for scripts/test.sh (and its own test,
# test/unit/test-runner.test.ts). Source it after common.sh; it needs RESULTS_DIR.
#
# A tier's failure is always returned explicitly: callers write `vitest_tier NAME || status=1`,
# and inside a function called from `||` bash ignores `set -e`, so nothing here relies on it.

# vitest_tier NAME [VITEST_ARGS...]: run the vitest project named by NAME's first word (publish-install
# runs project publish), writing its JSON report to RESULTS_DIR/NAME.json; the tier is recorded
# first, so the summary counts it as failed if it writes no report. VITEST_CONFIG picks another
# config file (the runner's own test uses a fixture project). Returns vitest's exit status.
vitest_tier() {
  local name=${1:?vitest_tier needs a tier name}; shift
  local rc=0 config=()
  [[ -n ${RESULTS_DIR:-} ]] || { log "vitest_tier: RESULTS_DIR is not set"; return 1; }
  [[ -n ${VITEST_CONFIG:-} ]] && config=(--config "$VITEST_CONFIG")
  mkdir -p "$RESULTS_DIR" || return 1
  echo "$name" >>"$RESULTS_DIR/tiers.txt" || return 1
  log "tier $name: running"
  npx vitest run "${config[@]}" --project "${name%%-*}" "$@" \
    --reporter=default --reporter=json --outputFile.json="$RESULTS_DIR/$name.json" || rc=$?
  if (( rc == 0 )); then
    log "tier $name: passed"
  else
    log "tier $name: FAILED (vitest exit status $rc)"
  fi
  return "$rc"
}

# hold_cluster_lock: take this machine's lock on the project's kind cluster for the rest of the
# run (fd 9), waiting for another test run that holds it. Two runs side by side would compete for
# the node's CPU and delete each other's namespaces (remove_leftover_test_namespaces).
hold_cluster_lock() {
  local lock="$CACHE_DIR/cluster-tests.lock"
  mkdir -p "$CACHE_DIR" || return 1
  exec 9>"$lock" || return 1
  if ! flock -n 9; then
    log "another test run is using the kind cluster ($lock): waiting for it to finish"
    flock 9 || return 1
  fi
  log "holding the cluster lock ($lock)"
}

# remove_leftover_test_namespaces: delete the namespaces an earlier, interrupted test run left
# behind (they carry the label below, see createNamespace in scripts/lib/kube.ts) and wait until
# they are gone, so their pods' CPU requests cannot leave this run's pods Pending. Run it while
# holding the cluster lock: then no other run is using them.
remove_leftover_test_namespaces() {
  local label="mysql-chart-toolkit/test-run" names
  names=$(kubectl get namespaces -l "$label" -o name) || { log "cannot list namespaces"; return 1; }
  if [[ -z $names ]]; then
    log "no namespaces left over from an earlier test run"
    return 0
  fi
  log "deleting namespaces left over from an earlier test run: $(echo "$names" | tr '\n' ' ')"
  # shellcheck disable=SC2086 # one word per namespace
  kubectl delete --wait=false $names || return 1
  # shellcheck disable=SC2086
  kubectl wait --for=delete --timeout=300s $names || { log "leftover namespaces still there after 300 s"; return 1; }
  log "leftover namespaces gone"
}

# summarize_tiers: print each tier's counts and the closing "N passed, N failed, N skipped" line;
# non-zero when any test failed or any tier that ran left no readable report.
summarize_tiers() {
  npx tsx "$PROJECT_ROOT/scripts/test-summary.ts" "$RESULTS_DIR"
}
