// Every rendered manifest, for every scenario values file, is valid against the Kubernetes
// OpenAPI schema of the pinned version and the Prometheus Operator's CRDs, strictly (unknown
// fields are errors). Offline.
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { basename } from "node:path";
import { helmTemplate } from "../../scripts/lib/helm.js";
import { toolPath } from "../../scripts/lib/tools.js";
import { k8sSchemaDir, monitoringSchemaDir } from "../helpers/k8s-schemas.js";
import { chartDir, scenarioFiles } from "../helpers/render.js";

async function kubeconform(manifests: string) {
  const layout = "{{ .ResourceKind }}{{ .KindSuffix }}.json";
  const locations = [k8sSchemaDir(), monitoringSchemaDir()].flatMap((dir) => ["-schema-location", `${dir}/${layout}`]);
  return execa(toolPath("kubeconform"), ["-strict", "-summary", ...locations, "-"], {
    input: manifests,
    reject: false,
  });
}

describe("rendered manifests against the Kubernetes OpenAPI schema", () => {
  for (const file of scenarioFiles()) {
    it(`are valid and strict for ${basename(file)}`, async () => {
      const r = await kubeconform(await helmTemplate(chartDir, { valuesFiles: [file] }));
      expect(r.stdout + r.stderr).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
      expect(r.exitCode).toBe(0);
    });
  }

  it("rejects a ServiceMonitor with an unknown field (the CRD schemas are in use)", async () => {
    const bad = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: x\nspec:\n  selector: {}\n  endpoints:\n    - port: metrics\n      intervall: 30s\n";
    const r = await kubeconform(bad);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/intervall/);
  });

  it("rejects a manifest with an unknown field (the check can fail)", async () => {
    const bad = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  portz: []\n";
    const r = await kubeconform(bad);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/portz/);
  });
});
