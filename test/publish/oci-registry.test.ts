// A maintainer pushes the package to an OCI registry (the CNCF distribution registry on
// loopback); a user pulls it and reads its values by version, and it renders exactly
// like generated-chart/. An unreachable or refusing registry gives a clear error.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helm } from "../../scripts/lib/helm.js";
import { projectRoot } from "../../scripts/lib/tools.js";
import { pushChart } from "../../scripts/publish/_oci.js";
import { chartMeta, packageRelease, type PackageResult } from "../../scripts/publish/_release.js";
import { chartDir } from "../helpers/render.js";
import {
  freePort,
  isolatedHelmEnv,
  makeSigningKey,
  removeTempDirs,
  renderForComparison,
  startRegistry,
  stopGpgAgent,
  tempDir,
  type Registry,
  type SigningKey,
} from "../helpers/publish.js";

const { version } = chartMeta(chartDir);
let key: SigningKey | undefined;
let registry: Registry | undefined;
let readOnly: Registry | undefined;
let pkg: PackageResult;
let env: Record<string, string>;
let work: string;
let release: string;

beforeAll(async () => {
  work = tempDir("oci");
  key = await makeSigningKey(join(work, "key"));
  release = join(work, "release");
  pkg = await packageRelease({ releaseDir: release, sign: { key: key.name, keyring: key.secring }, lint: false });
  registry = await startRegistry(join(work, "registry"));
  env = isolatedHelmEnv(join(work, "helm"));
});

afterAll(async () => {
  await registry?.stop();
  await readOnly?.stop();
  await stopGpgAgent(key);
  removeTempDirs();
});

describe("OCI registry", () => {
  it("npm run push puts mysql:VERSION into the registry", async () => {
    const r = await execa(join(projectRoot, "node_modules/.bin/tsx"), ["scripts/publish/push.ts", registry!.url, "--plain-http"], {
      cwd: projectRoot,
      env: { ...env, RELEASE_DIR: release },
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`pushed ${registry!.host}/charts/mysql:${version}`);
  });

  it("helm pull by version gets a package that renders exactly like generated-chart/, and verifies", async () => {
    const dest = join(work, "pulled");
    mkdirSync(dest, { recursive: true });
    const r = await helm(
      ["pull", `${registry!.url}/mysql`, "--version", version, "--plain-http", "--destination", dest, "--verify", "--keyring", key!.pubring],
      { env },
    );
    expect(r.stdout + r.stderr).toMatch(/Signed by: Chart Test Signer/);
    expect(await renderForComparison(join(dest, `mysql-${version}.tgz`))).toBe(await renderForComparison(chartDir));
  });

  it("helm show values by version prints the chart's values.yaml", async () => {
    const r = await helm(["show", "values", `${registry!.url}/mysql`, "--version", version, "--plain-http"], { env });
    expect(r.stdout.trim()).toBe(readFileSync(join(chartDir, "values.yaml"), "utf8").trim());
  });

  it("a registry that is down gives 'cannot reach the OCI registry'", async () => {
    const port = await freePort(); // nothing listens there
    await expect(pushChart(pkg.tgz, `oci://127.0.0.1:${port}/charts`, { plainHttp: true, env })).rejects.toThrow(
      new RegExp(`cannot reach the OCI registry at 127\\.0\\.0\\.1:${port}: is it running`),
    );
  });

  it("a registry that refuses the push says so, and how to log in", async () => {
    readOnly = await startRegistry(join(work, "registry-ro"), { readOnly: true });
    await expect(pushChart(pkg.tgz, readOnly.url, { plainHttp: true, env })).rejects.toThrow(
      new RegExp(`the OCI registry at ${readOnly.host.replace(/\./g, "\\.")} refused the push of mysql-${version}\\.tgz: log in with`),
    );
  });

  it("a URL that is not oci:// is refused before helm runs", async () => {
    await expect(pushChart(pkg.tgz, `http://${registry!.host}/charts`, { env })).rejects.toThrow(/not an OCI registry URL/);
  });
});
