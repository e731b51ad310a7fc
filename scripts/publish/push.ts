// npm run push: push the released package of the current chart version to an OCI registry.
//
// Usage: npm run push -- oci://HOST[:PORT]/PATH [--plain-http] [--release-dir DIR]
//   oci://...          the registry and path (default: env OCI_REGISTRY)
//   --plain-http       plain HTTP, for a local registry (default: HTTPS)
//   --release-dir DIR  where npm run package wrote the package (default: env RELEASE_DIR, else release/)
// Log in first when the registry needs it: helm registry login HOST.
import { join, resolve } from "node:path";
import { generatedChartDir } from "../lib/tools.js";
import { pushChart } from "./_oci.js";
import { chartMeta, defaultReleaseDir, ReleaseError, runCommand } from "./_release.js";

const USAGE = "usage: npm run push -- oci://HOST[:PORT]/PATH [--plain-http] [--release-dir DIR]";

async function main(argv: string[]): Promise<number> {
  let url = process.env.OCI_REGISTRY ?? "";
  let releaseDir = process.env.RELEASE_DIR ? resolve(process.env.RELEASE_DIR) : defaultReleaseDir;
  let plainHttp = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--plain-http") plainHttp = true;
    else if (a === "--release-dir" && argv[i + 1]) releaseDir = resolve(argv[++i]);
    else if (a.startsWith("oci://")) url = a;
    else throw new ReleaseError(`unknown argument ${a}\n${USAGE}`);
  }
  if (!url) throw new ReleaseError(`no registry given\n${USAGE}`);
  const { name, version } = chartMeta(generatedChartDir);
  const r = await pushChart(join(releaseDir, `${name}-${version}.tgz`), url, { plainHttp });
  console.log(`pushed ${r.ref} (${r.digest})`);
  return 0;
}

process.exitCode = await runCommand(() => main(process.argv.slice(2)));
