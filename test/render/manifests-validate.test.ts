// Every rendered manifest, for every scenario values file, is valid against the Kubernetes
// OpenAPI schema of the pinned version, strictly (unknown fields are errors). Offline.
import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { basename } from "node:path";
import { helmTemplate } from "../../scripts/lib/helm.js";
import { toolPath } from "../../scripts/lib/tools.js";
import { k8sSchemaDir } from "../helpers/k8s-schemas.js";
import { chartDir, scenarioFiles } from "../helpers/render.js";

async function kubeconform(manifests: string) {
  const location = `${k8sSchemaDir()}/{{ .ResourceKind }}{{ .KindSuffix }}.json`;
  return execa(toolPath("kubeconform"), ["-strict", "-summary", "-schema-location", location, "-"], {
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

  it("rejects a manifest with an unknown field (the check can fail)", async () => {
    const bad = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  portz: []\n";
    const r = await kubeconform(bad);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/portz/);
  });
});
