// The test command is honest: a failing test, a tier whose runner writes no report, or a test
// file that cannot load turns the run red, and the closing line counts it. Runs the same
// functions scripts/test.sh uses (scripts/lib/tiers.sh) on a fixture project, in seconds.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { TEST_RUN_LABEL } from "../../scripts/lib/kube.js";
import { projectRoot } from "../../scripts/lib/tools.js";

const fixtureConfig = join(projectRoot, "test/fixtures/test-runner/vitest.config.ts");

/** Run TIERS the way scripts/test.sh does; the exit status and the closing line. */
async function runTiers(...tiers: string[]) {
  const calls = tiers.map((t) => `vitest_tier ${t} || status=1`).join("\n");
  const script = `set -euo pipefail
. scripts/lib/common.sh
. scripts/lib/tiers.sh
status=0
${calls}
summarize_tiers || status=1
exit "$status"`;
  const r = await execa("bash", ["-c", script], {
    cwd: projectRoot,
    reject: false,
    env: { RESULTS_DIR: mkdtempSync(join(tmpdir(), "tiers-")), VITEST_CONFIG: fixtureConfig, CI: "true" },
  });
  const lines = r.stdout.trim().split("\n");
  return { exitCode: r.exitCode, closing: lines[lines.length - 1], out: r.stdout, err: r.stderr };
}

describe("scripts/test.sh's tier runner", () => {
  it("a tier with one failing test makes the run exit non-zero and the closing line count the failure", async () => {
    const r = await runTiers("passing", "failing");
    expect(r.exitCode, r.out + r.err).not.toBe(0);
    expect(r.closing).toBe("2 passed, 1 failed, 0 skipped");
    expect(r.out).toMatch(/FAILED tiers: failing/);
    expect(r.err).toMatch(/tier failing: FAILED/);
    expect(r.err).not.toMatch(/tier failing: passed/);
  });

  it("the summary names each failed test with the first lines of its error, where a log's tail shows it", async () => {
    const r = await runTiers("passing", "failing");
    const summary = r.out.slice(r.out.lastIndexOf("failed in failing:"));
    expect(summary, r.out).toMatch(/^failed in failing:\n {2}x test\/fixtures\/test-runner\/failing\.fixture\.ts > fails on purpose\n.*expected 2 to be 3/);
    expect(summary).toMatch(/\n2 passed, 1 failed, 0 skipped$/);
  });

  it("a tier whose runner writes no report counts as failed, by name", async () => {
    const r = await runTiers("passing", "nosuchproject");
    expect(r.exitCode).not.toBe(0);
    expect(r.out).toMatch(/nosuchproject .*no report/);
    expect(r.closing).toBe("1 passed, 1 failed, 0 skipped");
  });

  it("a test file that cannot load counts as a failure", async () => {
    const r = await runTiers("broken");
    expect(r.exitCode).not.toBe(0);
    expect(r.closing).toMatch(/^0 passed, [1-9]\d* failed/);
  });

  it("exits 0 when every tier passes", async () => {
    const r = await runTiers("passing");
    expect(r.exitCode, r.out + r.err).toBe(0);
    expect(r.closing).toBe("1 passed, 0 failed, 0 skipped");
  });
});

/** Run BODY after sourcing the runner's functions, with a kubectl stub that logs its arguments. */
async function withKubectlStub(listed: string, body: string, waitExit = 0) {
  const cache = mkdtempSync(join(tmpdir(), "tiers-cache-"));
  const script = `set -euo pipefail
. scripts/lib/common.sh
. scripts/lib/tiers.sh
kubectl() {
  echo "kubectl $*" >>"$MYSQL_CHART_CACHE/calls"
  case $1 in
    get) printf '%b' ${JSON.stringify(listed)} ;;
    wait) return ${waitExit} ;;
  esac
}
${body}`;
  const r = await execa("bash", ["-c", script], { cwd: projectRoot, reject: false, env: { MYSQL_CHART_CACHE: cache } });
  const calls = await execa("cat", [join(cache, "calls")], { reject: false });
  return { exitCode: r.exitCode, err: r.stderr, calls: calls.stdout.split("\n").filter(Boolean) };
}

describe("the test command's hold on the kind cluster", () => {
  it("deletes the namespaces an interrupted run left (by createNamespace's label) and waits until they are gone", async () => {
    const r = await withKubectlStub("namespace/e2e-mysql-a\nnamespace/scn-05-b\n", "remove_leftover_test_namespaces");
    expect(r.exitCode, r.err).toBe(0);
    expect(r.calls).toEqual([
      `kubectl get namespaces -l ${TEST_RUN_LABEL} -o name`,
      "kubectl delete --wait=false namespace/e2e-mysql-a namespace/scn-05-b",
      "kubectl wait --for=delete --timeout=300s namespace/e2e-mysql-a namespace/scn-05-b",
    ]);
  });

  it("deletes nothing when no run left namespaces behind", async () => {
    const r = await withKubectlStub("", "remove_leftover_test_namespaces");
    expect(r.exitCode, r.err).toBe(0);
    expect(r.calls).toEqual([`kubectl get namespaces -l ${TEST_RUN_LABEL} -o name`]);
  });

  it("fails when the leftover namespaces do not go away", async () => {
    const r = await withKubectlStub("namespace/stuck\n", "remove_leftover_test_namespaces", 1);
    expect(r.exitCode).not.toBe(0);
    expect(r.err).toMatch(/still there/);
  });

  it("a second run waits for the first one's cluster lock", async () => {
    const r = await withKubectlStub("", `hold_cluster_lock
( hold_cluster_lock; echo "second got the lock" >>"$MYSQL_CHART_CACHE/calls" ) 9>&- &
sleep 1.5
echo "first releases the lock" >>"$MYSQL_CHART_CACHE/calls"
exec 9>&-
wait`);
    expect(r.exitCode, r.err).toBe(0);
    expect(r.err).toMatch(/another test run is using the kind cluster/);
    expect(r.calls).toEqual(["first releases the lock", "second got the lock"]);
  });
});
