// The e2e report: each phase's duration (and details such as bytes copied), written as JSON
// to .tmp/e2e-report.json and printed at the end of the suite.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../scripts/lib/tools.js";

export const reportFile = process.env.E2E_REPORT ?? join(projectRoot, ".tmp/e2e-report.json");

export interface Phase {
  suite: string;
  phase: string;
  seconds: number;
  [detail: string]: string | number;
}

/**
 * Run FN holding the report's lock: the flavors' suites run side by side in two processes, and
 * each phase is a read-modify-write of one file. The lock is a directory (mkdir is atomic); one
 * left by a killed process is taken over after 30 s.
 */
function withReportLock<T>(fn: () => T): T {
  const lock = `${reportFile}.lock`;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 30_000) rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Add a phase to the report file. */
export function recordPhase(suite: string, phase: string, ms: number, details: Record<string, string | number> = {}) {
  mkdirSync(join(reportFile, ".."), { recursive: true });
  withReportLock(() => {
    const phases: Phase[] = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, "utf8")).phases : [];
    phases.push({ suite, phase, seconds: Math.round(ms / 100) / 10, ...details });
    writeFileSync(reportFile, JSON.stringify({ generated: new Date().toISOString(), phases }, null, 2));
  });
}

export function printReport(suite: string) {
  if (!existsSync(reportFile)) return;
  const phases = (JSON.parse(readFileSync(reportFile, "utf8")).phases as Phase[]).filter((p) => p.suite === suite);
  console.log(`\nE2E report for ${suite} (${reportFile}):`);
  console.table(phases.map(({ suite: _s, ...rest }) => rest));
}
