// The generator's pipeline: load and check the schema, derive defaults and parameters, then
// build every file of generated-chart/ in memory. Writing and checking are at the edges.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { LAYOUT } from "../lib/tools.js";
import { chartFiles, listFiles, NOTICE } from "./chart-files.js";
import { parametersOf } from "./parameters.js";
import { renderParametersTable } from "./readme-table.js";
import { defaultsOf, documentationProblems, loadSchema, SchemaError, validationProblems } from "./schema.js";
import { renderValuesYaml } from "./values-yaml.js";

export interface GeneratorPaths {
  chartSrc: string;
  schemaFile: string;
  outDir: string;
}

export function defaultPaths(root: string): GeneratorPaths {
  return {
    chartSrc: join(root, LAYOUT.chartSrc),
    schemaFile: join(root, LAYOUT.schemaFile),
    outDir: join(root, LAYOUT.generatedChart),
  };
}

/** The default image as the chart renders it without a global.imageRegistry: an empty registry is docker.io. */
function imageRef(img: { registry?: string; repository: string; tag: string }): string {
  return `${img.registry || "docker.io"}/${img.repository}:${img.tag}`;
}

/** The description line of chart-src/Chart.yaml.hbs, which the README repeats. */
function chartDescription(chartSrc: string): string {
  const src = readFileSync(join(chartSrc, "Chart.yaml.hbs"), "utf8");
  return /^description: (.*)$/m.exec(src)?.[1] ?? "";
}

/** Every file of the chart, by path relative to the chart directory. Throws SchemaError on a bad schema. */
export function buildChart(paths: GeneratorPaths): Map<string, string> {
  const schema = loadSchema(paths.schemaFile);
  const undocumented = documentationProblems(schema);
  if (undocumented.length) throw new SchemaError(undocumented);
  const defaults = defaultsOf(schema);
  const invalid = validationProblems(schema, defaults);
  if (invalid.length) throw new SchemaError(invalid.map((p) => `default of ${p}`));

  const params = parametersOf(schema);
  const images = defaults.images as Record<string, { registry: string; repository: string; tag: string }>;
  const context = {
    appVersion: images.mysql.tag,
    description: chartDescription(paths.chartSrc),
    images: ["mysql", "mariadb", "exporter"].map((name) => ({ name: name === "exporter" ? "mysqld-exporter" : name, image: imageRef(images[name]) })),
    mysqlImage: imageRef(images.mysql),
    mariadbImage: imageRef(images.mariadb),
    parametersTable: renderParametersTable(params),
  };
  const files = chartFiles(paths.chartSrc, context);
  files.set("values.yaml", renderValuesYaml(params, [NOTICE, "Each key's comment starts with its name; values.schema.json checks them."]));
  const { $schema, ...rest } = schema;
  files.set("values.schema.json", JSON.stringify({ $schema, $comment: NOTICE, ...rest }, null, 2) + "\n");
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Replace OUT_DIR's contents with FILES. */
export function writeChart(outDir: string, files: Map<string, string>): void {
  rmSync(outDir, { recursive: true, force: true });
  for (const [rel, content] of files) {
    const full = join(outDir, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content, { mode: rel.endsWith(".sh") ? 0o755 : 0o644 });
  }
}

/** Paths that differ between OUT_DIR and FILES (missing, extra or changed); empty when in sync. */
export function staleFiles(outDir: string, files: Map<string, string>): string[] {
  const stale: string[] = [];
  const present = existsSync(outDir) ? listFiles(outDir) : [];
  for (const rel of present) if (!files.has(rel)) stale.push(`${rel} (should not exist)`);
  for (const [rel, content] of files) {
    const full = join(outDir, rel);
    if (!existsSync(full)) stale.push(`${rel} (missing)`);
    else if (readFileSync(full, "utf8") !== content) stale.push(`${rel} (differs)`);
  }
  return stale.sort();
}
