// The e2e report: each phase's duration (and details such as bytes copied), written as JSON
// to .tmp/e2e-report.json and printed at the end of the suite.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../scripts/lib/tools.js";

export const reportFile = process.env.E2E_REPORT ?? join(projectRoot, ".tmp/e2e-report.json");

export interface Phase {
  suite: string;
  phase: string;
  seconds: number;
  [detail: string]: string | number;
}

/** Add a phase to the report file (read-modify-write: suites run one after the other). */
export function recordPhase(suite: string, phase: string, ms: number, details: Record<string, string | number> = {}) {
  mkdirSync(join(reportFile, ".."), { recursive: true });
  const phases: Phase[] = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, "utf8")).phases : [];
  phases.push({ suite, phase, seconds: Math.round(ms / 100) / 10, ...details });
  writeFileSync(reportFile, JSON.stringify({ generated: new Date().toISOString(), phases }, null, 2));
}

export function printReport(suite: string) {
  if (!existsSync(reportFile)) return;
  const phases = (JSON.parse(readFileSync(reportFile, "utf8")).phases as Phase[]).filter((p) => p.suite === suite);
  console.log(`\nE2E report for ${suite} (${reportFile}):`);
  console.table(phases.map(({ suite: _s, ...rest }) => rest));
}
