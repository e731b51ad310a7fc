// The chart stays installable with Helm 3.18+ (README "Pinned versions"): Helm 3.18.6,
// the oldest supported line (HELM3_VERSION, installed as helm3), renders every scenario
// exactly as Helm 4 does, lints it clean, and refuses bad values naming the field.
import { basename } from "node:path";
import { loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { helm, templateArgs } from "../../scripts/lib/helm.js";
import { toolPath, versions } from "../../scripts/lib/tools.js";
import { chartDir, scenarioFiles, type K8sObject } from "../helpers/render.js";

const helm3 = toolPath("helm3");

/** Render with BIN and parse every document; throws with Helm's output on failure. */
const renderWith = async (bin: string, valuesFile: string): Promise<K8sObject[]> => {
  const { stdout } = await helm(templateArgs(chartDir, { valuesFiles: [valuesFile] }), { bin });
  return (loadAll(stdout) as (K8sObject | null)[]).filter((d): d is K8sObject => d !== null);
};

/**
 * DOCS with every Secret's data values masked: a password not given in values is
 * random on each render. The keys stay, so a missing or extra key still shows.
 */
const maskSecretData = (docs: K8sObject[]): K8sObject[] =>
  docs.map((d) =>
    d.kind === "Secret" && d.data
      ? { ...d, data: Object.fromEntries(Object.keys(d.data).map((k) => [k, "<masked>"])) }
      : d,
  );

describe("Helm 3 compatibility", () => {
  it(`runs the pinned Helm 3 (${versions().HELM3_VERSION})`, async () => {
    const { stdout } = await helm(["version", "--short"], { bin: helm3 });
    expect(stdout.trim()).toMatch(new RegExp(`^${versions().HELM3_VERSION.replaceAll(".", "\\.")}\\b`));
  });

  for (const file of scenarioFiles()) {
    it(`renders the same manifests with Helm 3.18 as with Helm 4 for ${basename(file)}`, async () => {
      const [v3, v4] = await Promise.all([renderWith(helm3, file), renderWith(toolPath("helm"), file)]);
      expect(v3.length).toBeGreaterThan(0);
      expect(maskSecretData(v3)).toEqual(maskSecretData(v4));
    });

    it(`lints clean with Helm 3.18 (--strict) for ${basename(file)}`, async () => {
      const r = await helm(["lint", "--strict", chartDir, "--values", file], { bin: helm3, allowFailure: true });
      expect(r.stdout + r.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
      expect(r.exitCode).toBe(0);
    });
  }

  // Helm 3.18's schema messages are worded differently from Helm 4's; both name the field.
  const refusedByHelm3 = async (...sets: string[]) => {
    const r = await helm(["template", "x", chartDir, ...sets.flatMap((s) => ["--set", s])], {
      bin: helm3,
      allowFailure: true,
    });
    expect(r.exitCode, `Helm 3 accepted: ${sets.join(" ")}`).not.toBe(0);
    return r.stderr;
  };

  it("refuses an unknown flavor with Helm 3.18, naming flavor", async () => {
    expect(await refusedByHelm3("flavor=postgres")).toMatch(/\/flavor\b/);
  });

  it("refuses replicas below 1 with Helm 3.18, naming replicas", async () => {
    expect(await refusedByHelm3("replicas=0")).toMatch(/\/replicas\b/);
  });

  it("refuses an unknown key under auth with Helm 3.18, naming the key", async () => {
    expect(await refusedByHelm3("auth.rootPasword=x")).toMatch(/\/auth\b[\s\S]*rootPasword/);
  });

  it("refuses a password together with auth.existingSecret with Helm 3.18, naming both fields", async () => {
    const err = await refusedByHelm3("auth.existingSecret=mine", "auth.rootPassword=root-password-1");
    expect(err).toMatch(/existingSecret/);
    expect(err).toMatch(/rootPassword/);
  });
});
