// helm lint --strict is clean for every scenario values file.
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { helm } from "../../scripts/lib/helm.js";
import { chartDir, scenarioFiles } from "../helpers/render.js";

describe("helm lint --strict", () => {
  for (const file of scenarioFiles()) {
    it(`is clean for ${basename(file)}`, async () => {
      const r = await helm(["lint", "--strict", chartDir, "--values", file], { allowFailure: true });
      expect(r.stdout + r.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
      expect(r.exitCode).toBe(0);
    });
  }

  it("fails on a bad value, naming the field", async () => {
    const r = await helm(["lint", "--strict", chartDir, "--set", "replicas=0"], { allowFailure: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/replicas/);
  });
});
