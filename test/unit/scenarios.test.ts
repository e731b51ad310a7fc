// The e2e tier installs and proves every ci/ scenario of the chart (test/e2e/features/scenarios.ts):
// a new scenario file cannot go unproven, and none is listed that does not exist.
import { describe, expect, it } from "vitest";
import { SCENARIOS, scenarioFiles } from "../e2e/features/scenarios.js";

describe("ci/ scenarios in the e2e tier", () => {
  it("every scenario file has an entry (a lane that installs it, or the feature that proves it, named)", () => {
    expect(scenarioFiles().length).toBeGreaterThan(10);
    expect(scenarioFiles().filter((f) => !SCENARIOS[f])).toEqual([]);
    expect(Object.keys(SCENARIOS).filter((f) => !scenarioFiles().includes(f))).toEqual([]);
  });

  it("both lanes have work, and every override says why", () => {
    const entries = Object.values(SCENARIOS);
    expect(entries.filter((s) => s.lane === "mysql" && !s.elsewhere).length).toBeGreaterThan(0);
    expect(entries.filter((s) => s.lane === "mariadb" && !s.elsewhere).length).toBeGreaterThan(0);
    for (const s of entries) if (s.kind) expect(s.kind.why.length).toBeGreaterThan(10);
  });
});
