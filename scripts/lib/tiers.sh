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

# summarize_tiers: print each tier's counts and the closing "N passed, N failed, N skipped" line;
# non-zero when any test failed or any tier that ran left no readable report.
summarize_tiers() {
  npx tsx "$PROJECT_ROOT/scripts/test-summary.ts" "$RESULTS_DIR"
}
