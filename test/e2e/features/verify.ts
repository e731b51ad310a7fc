// npm run verify, run as a user runs it, against the suite's cluster: a values file that replicates
// passes every promise, and its upgrade to another rolls the replicas before the primary without
// losing data; a values file that breaks replication on purpose fails, naming the promise, with the
// server's own error as evidence. Its releases live in namespaces verify creates and removes; the
// two runs start beside the main release (prepareVerify). Expects: nothing of the main release.
import { execa, type Result } from "execa";
import { join } from "node:path";
import { expect, it } from "vitest";
import { projectRoot } from "../../../scripts/lib/tools.js";
import type { E2e } from "../context.js";

const FIXTURES = join(projectRoot, "test/fixtures/verify");

export interface VerifyRuns {
  /** good-values.yaml, then --upgrade-to upgraded-values.yaml. */
  good: Result;
  /** broken-values.yaml: a replica my.cnf line the server rejects. */
  broken: Result;
}

/** Run verify twice, one after the other (the node is shared with the suite's releases). */
export async function prepareVerify(main: E2e): Promise<VerifyRuns> {
  const run = (...args: string[]) =>
    execa("npx", ["tsx", "scripts/verify.ts", ...args, "--kubeconfig", main.k.kubeconfig, "--flavor", main.flavor, "--local-images"], { cwd: projectRoot, reject: false, all: true });
  const good = await run("-f", join(FIXTURES, "good-values.yaml"), "--upgrade-to", join(FIXTURES, "upgraded-values.yaml"));
  const broken = await run("-f", join(FIXTURES, "broken-values.yaml"));
  return { good, broken };
}

export function verify(runs: () => Promise<VerifyRuns>) {
  it("a values file that replicates passes every promise; its upgrade to another rolls replicas before the primary and loses no data", async () => {
    const { good } = await runs();
    expect(good.exitCode, String(good.all)).toBe(0);
    const out = String(good.stdout);
    expect(out).toMatch(/VERDICT: PASS/);
    expect(out).not.toMatch(/FAIL/);
    for (const promise of ["every pod Ready (2)", "pod 0 takes writes", "every other pod is read-only and replicates", "the row written on pod 0 is read back on every pod", "helm test passes"]) {
      // Held after the install, and again after the upgrade.
      expect(out.split("\n").filter((l) => l.startsWith(`  ok    ${promise}`)).length, promise).toBe(2);
    }
    expect(out).toMatch(/ok {4}the upgrade rolled replicas before the primary .*verify-mysql-1 then verify-mysql-0/);
    expect(out).toMatch(/ok {4}no data was lost/);
  });

  it("a values file that breaks replication fails, naming the promise, with the server's own error as evidence", async () => {
    const { broken } = await runs();
    expect(broken.exitCode, String(broken.all)).toBe(1);
    const out = String(broken.stdout);
    expect(out).toMatch(/VERDICT: FAIL \(after install\): every pod Ready \(2\)/);
    expect(out).toMatch(/unknown variable 'no_such_option=1'/);
    expect(out).toMatch(/removing release verify and namespace verify-/);
  });
}
