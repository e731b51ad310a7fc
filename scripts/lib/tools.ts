// Where the project's pinned tools live, and the pinned versions themselves
// (scripts/versions.env is the one place versions are written down).
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Where the generator's inputs and output live, relative to the project root (the one place). */
export const LAYOUT = {
  chartSrc: "chart-src",
  schemaFile: "values-schema/values.schema.json",
  generatedChart: "generated-chart",
};

/** The generated chart: what users install, package and push. */
export const generatedChartDir = join(projectRoot, LAYOUT.generatedChart);

/** The KEY=VALUE pins of scripts/versions.env. */
export function versions(file = join(projectRoot, "scripts/versions.env")): Record<string, string> {
  const pins: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) pins[m[1]] = m[2];
  }
  return pins;
}

/** The cache directory the shell scripts use (scripts/lib/common.sh). */
export function cacheDir(): string {
  if (process.env.MYSQL_CHART_CACHE) return process.env.MYSQL_CHART_CACHE;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "mysql-chart-toolkit");
}

/** Path of a pinned tool installed by scripts/install-tools.sh, or its bare name to find on PATH. */
export function toolPath(name: string): string {
  const cached = join(cacheDir(), "bin", name);
  return existsSync(cached) ? cached : name;
}
