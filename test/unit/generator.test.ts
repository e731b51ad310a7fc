// The generator: schema checks, values.yaml, README table, chart files, determinism, staleness.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { buildChart, defaultPaths, staleFiles, writeChart } from "../../scripts/generator/index.js";
import { NOTICE, withNotice } from "../../scripts/generator/chart-files.js";
import { parametersOf } from "../../scripts/generator/parameters.js";
import { defaultsOf, documentationProblems, loadSchema, SchemaError, validationProblems } from "../../scripts/generator/schema.js";
import { projectRoot } from "../../scripts/lib/tools.js";

const paths = defaultPaths(projectRoot);

/** A copy of the project's sources in a temp dir, with the schema changed by EDIT. */
function sourcesWithSchema(edit: (schema: Record<string, any>) => void) {
  const dir = mkdtempSync(join(tmpdir(), "gen-"));
  cpSync(paths.chartSrc, join(dir, "chart-src"), { recursive: true });
  const schema = JSON.parse(readFileSync(paths.schemaFile, "utf8"));
  edit(schema);
  writeFileSync(join(dir, "schema.json"), JSON.stringify(schema));
  return { chartSrc: join(dir, "chart-src"), schemaFile: join(dir, "schema.json"), outDir: join(dir, "out") };
}

describe("the values schema", () => {
  it("documents every property with a description and a default", () => {
    expect(documentationProblems(loadSchema(paths.schemaFile))).toEqual([]);
  });

  it("has defaults that satisfy it", () => {
    const schema = loadSchema(paths.schemaFile);
    expect(validationProblems(schema, defaultsOf(schema))).toEqual([]);
  });

  it("stops generation when a default does not match, naming the field", () => {
    const p = sourcesWithSchema((s) => (s.properties.replicas.default = 0));
    expect(() => buildChart(p)).toThrow(SchemaError);
    expect(() => buildChart(p)).toThrow(/default of replicas: must be >= 1/);
  });

  it("stops generation on an undocumented property, naming it", () => {
    const p = sourcesWithSchema((s) => delete s.properties.auth.properties.cloneUser.description);
    expect(() => buildChart(p)).toThrow(/auth\.cloneUser: has no description/);
  });

  it("reports every problem, not only the first", () => {
    const p = sourcesWithSchema((s) => {
      s.properties.replicas.default = "3";
      s.properties.flavor.default = "oracle";
    });
    expect(() => buildChart(p)).toThrow(/replicas[\s\S]*flavor|flavor[\s\S]*replicas/);
  });
});

describe("values.yaml", () => {
  const files = buildChart(paths);
  const text = files.get("values.yaml")!;

  it("parses to exactly the schema's defaults", () => {
    expect(load(text)).toEqual(defaultsOf(loadSchema(paths.schemaFile)));
  });

  it("precedes every parameter with a comment that starts with the key's name", () => {
    const lines = text.split("\n");
    let from = 0;
    for (const p of parametersOf(loadSchema(paths.schemaFile))) {
      const at = lines.findIndex((l, i) => i >= from && l.startsWith(`${"  ".repeat(p.depth)}${p.key}:`));
      expect(at, `line of ${p.path}`).toBeGreaterThan(0);
      let j = at - 1;
      while (j > 0 && !lines[j].trimStart().startsWith(`# ${p.key} -- `) && lines[j].trimStart().startsWith("#")) j--;
      expect(lines[j].trimStart(), `comment of ${p.path}`).toMatch(new RegExp(`^# ${p.key} -- \\S`));
      from = at + 1;
    }
  });

  it("starts with the generated notice", () => {
    expect(text.startsWith(`# ${NOTICE}`)).toBe(true);
  });
});

describe("README parameter table", () => {
  it("lists every parameter with its default, between markers", () => {
    const readme = buildChart(paths).get("README.md")!;
    const table = readme.split("<!-- parameters:start -->")[1].split("<!-- parameters:end -->")[0];
    for (const p of parametersOf(loadSchema(paths.schemaFile)).filter((x) => !x.isSection)) {
      expect(table).toContain(`| \`${p.path}\` |`);
    }
    expect(table).toContain("| `replicas` | Number of pods");
    expect(table).toContain("`3`");
  });
});

describe("chart files", () => {
  const files = buildChart(paths);

  it("renders .hbs sources with generation-time values and drops the suffix", () => {
    expect(files.has("Chart.yaml")).toBe(true);
    expect(files.has("Chart.yaml.hbs")).toBe(false);
    const chart = load(files.get("Chart.yaml")!) as Record<string, any>;
    expect(chart.apiVersion).toBe("v2");
    expect(chart.appVersion).toBe("9.7");
    expect(chart.annotations["artifacthub.io/images"]).toContain("image: docker.io/library/mysql:9.7");
    expect(chart.annotations["artifacthub.io/images"]).toContain("image: docker.io/library/mariadb:11.8");
  });

  it("copies Helm templates untouched but for the notice, so Helm's {{ }} pass through", () => {
    const src = readFileSync(join(paths.chartSrc, "templates/statefulset.yaml"), "utf8");
    expect(files.get("templates/statefulset.yaml")).toBe(`# ${NOTICE}\n${src}`);
  });

  it("puts the notice after a script's shebang", () => {
    expect(withNotice("x.sh", "#!/bin/bash\necho hi\n")).toBe(`#!/bin/bash\n# ${NOTICE}\necho hi\n`);
    expect(files.get("files/scripts/lib.sh")!.split("\n")[1]).toBe(`# ${NOTICE}`);
  });

  it("is deterministic", () => {
    expect([...buildChart(paths).entries()]).toEqual([...files.entries()]);
  });
});

describe("generated-chart/", () => {
  it("is in sync with chart-src/ and values-schema/ (run npm run generate when this fails)", () => {
    expect(staleFiles(paths.outDir, buildChart(paths))).toEqual([]);
  });

  it("is detected as stale when a file differs, is missing or is extra", () => {
    const out = mkdtempSync(join(tmpdir(), "chart-"));
    const files = buildChart(paths);
    writeChart(out, files);
    expect(staleFiles(out, files)).toEqual([]);
    writeFileSync(join(out, "values.yaml"), "changed");
    writeFileSync(join(out, "extra.txt"), "x");
    const changed = new Map(files);
    changed.set("new.yaml", "a: 1\n");
    expect(staleFiles(out, changed)).toEqual(["extra.txt (should not exist)", "new.yaml (missing)", "values.yaml (differs)"]);
  });
});
