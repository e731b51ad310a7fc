// Sum the vitest JSON reports of every tier that ran (RESULTS_DIR/tiers.txt, written by
// scripts/lib/tiers.sh) into one closing line: "N passed, N failed, N skipped".
// A tier with no readable report (its runner crashed) counts as one failure, and so does a
// report that says the run failed without a failing test (a file that could not load).
// Each failed test is named with the first lines of its error, at the end of the output, where
// a CI log's tail shows it. Exits 1 when anything failed, so the test command cannot go green on
// a red tier.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests?: number;
  numFailedTestSuites?: number;
  success?: boolean;
  testResults?: { name?: string; assertionResults?: { fullName?: string; status?: string; failureMessages?: string[] }[] }[];
}

interface TierCount {
  tier: string;
  passed: number;
  failed: number;
  skipped: number;
  problem?: string;
  /** "file > test: first lines of the error" for each failed test. */
  failures: string[];
}

/** The counts of one tier from its report (or the reason it has none). */
function countTier(dir: string, tier: string): TierCount {
  const file = join(dir, `${tier}.json`);
  if (!existsSync(file)) return { tier, passed: 0, failed: 1, skipped: 0, problem: "no report: the runner crashed or never started", failures: [] };
  let r: VitestReport;
  try {
    r = JSON.parse(readFileSync(file, "utf8")) as VitestReport;
  } catch (e) {
    return { tier, passed: 0, failed: 1, skipped: 0, problem: `unreadable report (${(e as Error).message})`, failures: [] };
  }
  const c: TierCount = {
    tier,
    passed: r.numPassedTests ?? 0,
    failed: r.numFailedTests ?? 0,
    skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
    failures: failedTests(r),
  };
  if (c.failed === 0 && (r.success === false || (r.numFailedTestSuites ?? 0) > 0)) {
    c.failed = 1;
    c.problem = `${r.numFailedTestSuites ?? "?"} test file(s) failed outside any test (import or hook error)`;
  }
  if (c.passed + c.failed + c.skipped === 0) {
    c.failed = 1;
    c.problem = "ran no test";
  }
  return c;
}

/** The failed tests of a report, each with the first lines of its first error (ANSI colours removed). */
function failedTests(r: VitestReport): string[] {
  const out: string[] = [];
  for (const file of r.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status !== "failed") continue;
      // eslint-disable-next-line no-control-regex
      const message = (t.failureMessages?.[0] ?? "").replace(/\x1b\[[0-9;]*m/g, "");
      const head = message.split("\n").filter((l) => l.trim()).slice(0, 6).map((l) => `      ${l.slice(0, 300)}`);
      out.push([`  x ${(file.name ?? "").replace(/^.*?\/test\//, "test/")} > ${t.fullName ?? "?"}`, ...head].join("\n"));
    }
  }
  return out;
}

function main(dir: string): number {
  const list = join(dir, "tiers.txt");
  const tiers = existsSync(list) ? readFileSync(list, "utf8").split("\n").filter(Boolean) : [];
  const counts = tiers.map((t) => countTier(dir, t));
  const sum = { passed: 0, failed: 0, skipped: 0 };
  for (const c of counts) {
    if (c.failures.length) console.log(`failed in ${c.tier}:\n${c.failures.join("\n")}`);
  }
  for (const c of counts) {
    console.log(`${c.tier.padEnd(16)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped${c.problem ? `  <- ${c.problem}` : ""}`);
    sum.passed += c.passed;
    sum.failed += c.failed;
    sum.skipped += c.skipped;
  }
  if (counts.length === 0) {
    console.log("no tier ran");
    sum.failed = 1;
  }
  const red = counts.filter((c) => c.failed > 0).map((c) => c.tier);
  if (red.length) console.log(`FAILED tiers: ${red.join(", ")}`);
  console.log(`${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped`);
  return sum.failed > 0 ? 1 : 0;
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: tsx scripts/test-summary.ts RESULTS_DIR");
  process.exit(2);
}
process.exitCode = main(dir);
