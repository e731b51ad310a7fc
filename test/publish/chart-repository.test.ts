// A user adds the release folder, served over HTTP, as a chart repository: helm finds the
// chart, pulls it with a verified signature, and it renders exactly like generated-chart/.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helm } from "../../scripts/lib/helm.js";
import { chartMeta, packageRelease } from "../../scripts/publish/_release.js";
import { chartDir } from "../helpers/render.js";
import {
  isolatedHelmEnv,
  makeSigningKey,
  removeTempDirs,
  renderForComparison,
  serveDirectory,
  stopGpgAgent,
  tempDir,
  type SigningKey,
  type StaticServer,
} from "../helpers/publish.js";

const { version, description } = chartMeta(chartDir);
let key: SigningKey | undefined;
let server: StaticServer | undefined;
let env: Record<string, string>;
let work: string;

beforeAll(async () => {
  work = tempDir("repo");
  key = await makeSigningKey(join(work, "key"));
  const release = join(work, "release");
  await packageRelease({ releaseDir: release, sign: { key: key.name, keyring: key.secring }, lint: false });
  server = await serveDirectory(release);
  env = isolatedHelmEnv(join(work, "helm"));
  await helm(["repo", "add", "mysql-charts", server.url], { env });
});

afterAll(async () => {
  await server?.close();
  await stopGpgAgent(key);
  removeTempDirs();
});

describe("chart repository over HTTP", () => {
  it("helm search repo finds mysql with its version and description", async () => {
    const r = await helm(["search", "repo", "mysql-charts/mysql", "--output", "json"], { env });
    const hits = JSON.parse(r.stdout) as { name: string; version: string; description: string }[];
    expect(hits).toContainEqual(expect.objectContaining({ name: "mysql-charts/mysql", version, description }));
  });

  it("helm pull --verify succeeds with the publisher's public keyring", async () => {
    const dest = join(work, "pulled-verified");
    mkdirSync(dest, { recursive: true }); // helm 4 pull does not create --destination
    const r = await helm(["pull", "mysql-charts/mysql", "--version", version, "--verify", "--keyring", key!.pubring, "--destination", dest], {
      env,
    });
    expect(r.stdout + r.stderr).toMatch(/Signed by: Chart Test Signer/);
  });

  it("helm pull --verify fails with a keyring that lacks the publisher's key", async () => {
    const stranger = await makeSigningKey(join(work, "stranger"), "Someone Else");
    try {
      const r = await helm(
        ["pull", "mysql-charts/mysql", "--version", version, "--verify", "--keyring", stranger.pubring, "--destination", work],
        { env, allowFailure: true },
      );
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(/signature made by unknown entity/);
    } finally {
      await stopGpgAgent(stranger);
    }
  });

  it("the pulled chart renders exactly like generated-chart/", async () => {
    const dest = join(work, "pulled");
    mkdirSync(dest, { recursive: true });
    await helm(["pull", "mysql-charts/mysql", "--version", version, "--destination", dest], { env });
    const pulled = await renderForComparison(join(dest, `mysql-${version}.tgz`));
    expect(pulled).toBe(await renderForComparison(chartDir));
  });

  it("serves artifacthub-repo.yml next to index.yaml, where Artifact Hub reads it", async () => {
    const res = await fetch(`${server!.url}/artifacthub-repo.yml`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(readFileSync(join(chartDir, "../scripts/publish/artifacthub-repo.yml"), "utf8"));
  });
});
