// The fixture application chart (test/fixtures/charts/parent-app) that depends on the mysql chart
// with condition: mysql.enabled, built against the working tree's generated-chart/ in a copy, so
// `helm dependency build` writes nothing into the repository.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helm } from "../../scripts/lib/helm.js";
import { generatedChartDir, projectRoot } from "../../scripts/lib/tools.js";

export const parentFixtureDir = join(projectRoot, "test/fixtures/charts/parent-app");

/** Copy the fixture, point its dependency at generated-chart/, run `helm dependency build`; returns the copy's directory. */
export async function buildParentChart(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), "parent-app-")), "parent-app");
  cpSync(parentFixtureDir, dir, { recursive: true });
  const chartYaml = join(dir, "Chart.yaml");
  const text = readFileSync(chartYaml, "utf8");
  const pointed = text.replace(/repository: file:\/\/\S+/, `repository: file://${generatedChartDir}`);
  if (pointed === text) throw new Error(`${chartYaml}: no file:// dependency to point at generated-chart/`);
  writeFileSync(chartYaml, pointed);
  await helm(["dependency", "build", dir]);
  return dir;
}
