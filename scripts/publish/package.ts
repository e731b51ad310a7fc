// npm run package: lint generated-chart/, package it (signed when HELM_SIGN_KEY and
// HELM_SIGN_KEYRING are set; with HELM_SIGN_KEY_URL, Chart.yaml gets artifacthub.io/signKey)
// into the release folder, refuse a changed chart whose version was not bumped, and index the
// folder as a Helm chart repository.
//
// Usage: npm run package -- [--release-dir DIR] [--url URL] [--chart DIR] [--no-lint]
//   --release-dir DIR  the chart repository folder (default: env RELEASE_DIR, else release/)
//   --url URL          the URL the folder is served from, written into index.yaml
//                      (default: env CHART_REPO_URL, else relative URLs)
//   --chart DIR        the chart to package (default: generated-chart/, which must be in sync)
//   --no-lint          skip helm lint (default: lint)
import { resolve } from "node:path";
import { buildChart, defaultPaths, staleFiles } from "../generator/index.js";
import { projectRoot } from "../lib/tools.js";
import { defaultReleaseDir, packageRelease, ReleaseError, runCommand, signingKeyFromEnv } from "./_release.js";

const USAGE = "usage: npm run package -- [--release-dir DIR] [--url URL] [--chart DIR] [--no-lint]";

/** Parse the flags; throws ReleaseError on an unknown one. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env) {
  const o = {
    releaseDir: env.RELEASE_DIR ? resolve(env.RELEASE_DIR) : defaultReleaseDir,
    url: env.CHART_REPO_URL || undefined,
    chartDir: undefined as string | undefined,
    lint: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (!v) throw new ReleaseError(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--release-dir") o.releaseDir = resolve(next());
    else if (a === "--url") o.url = next();
    else if (a === "--chart") o.chartDir = resolve(next());
    else if (a === "--no-lint") o.lint = false;
    else throw new ReleaseError(`unknown argument ${a}\n${USAGE}`);
  }
  return o;
}

async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  if (!o.chartDir) {
    // The default chart is generated: release only what chart-src/ and values-schema/ produce.
    const paths = defaultPaths(projectRoot);
    const stale = staleFiles(paths.outDir, buildChart(paths));
    if (stale.length) throw new ReleaseError(`generated-chart/ is stale (${stale.join(", ")}): run npm run generate first`);
  }
  const sign = signingKeyFromEnv();
  const r = await packageRelease({ ...o, sign, log: (l) => console.error(l) });
  console.log(`${r.name} ${r.version}: ${r.status} ${r.tgz}${r.prov ? ` + ${r.prov}` : " (unsigned: set HELM_SIGN_KEY and HELM_SIGN_KEYRING to sign)"}`);
  console.log(`content digest ${r.contentDigest}; index ${r.index}`);
  return 0;
}

process.exitCode = await runCommand(() => main(process.argv.slice(2)));
