// npm run generate: write generated-chart/ from chart-src/ and values-schema/.
// npm run generate:check: fail when the committed generated-chart/ is stale.
import { buildChart, defaultPaths, staleFiles, writeChart } from "./generator/index.js";
import { SchemaError } from "./generator/schema.js";
import { projectRoot } from "./lib/tools.js";

function main(argv: string[]): number {
  const paths = defaultPaths(projectRoot);
  let files: Map<string, string>;
  try {
    files = buildChart(paths);
  } catch (e) {
    if (e instanceof SchemaError) {
      console.error(e.message);
      return 1;
    }
    throw e;
  }
  if (argv.includes("--check")) {
    const stale = staleFiles(paths.outDir, files);
    if (stale.length) {
      console.error(`generated-chart/ is stale; run npm run generate and commit:\n${stale.map((s) => `  ${s}`).join("\n")}`);
      return 1;
    }
    console.log(`generated-chart/ is in sync (${files.size} files)`);
    return 0;
  }
  writeChart(paths.outDir, files);
  console.log(`wrote ${files.size} files to generated-chart/`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
