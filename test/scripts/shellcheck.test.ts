// The in-pod scripts and the project's own shell scripts are shellcheck-clean.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/tools.js";
import { scriptsSrc } from "../helpers/pod-scripts.js";

function shellFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return shellFiles(full);
    return name.endsWith(".sh") ? [full] : [];
  });
}

describe("shellcheck", () => {
  it("finds no problem in the chart's in-pod scripts", async () => {
    const files = shellFiles(scriptsSrc);
    expect(files.length).toBeGreaterThanOrEqual(9);
    const r = await execa("shellcheck", ["--external-sources", "--source-path=SCRIPTDIR", "--severity=style", ...files], { reject: false, cwd: scriptsSrc });
    expect(r.stdout, r.stdout).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("finds no problem in the project's own scripts", async () => {
    const files = [...shellFiles(join(projectRoot, "scripts")), ...shellFiles(join(projectRoot, "infra")), join(projectRoot, ".ci/run")];
    const r = await execa("shellcheck", ["--external-sources", "--source-path=SCRIPTDIR", ...files], { reject: false, cwd: projectRoot });
    expect(r.stdout, files.map((f) => relative(projectRoot, f)).join(" ")).toBe("");
    expect(r.exitCode).toBe(0);
  });
});
