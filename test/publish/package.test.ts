// npm run package (scripts/publish/package.ts): a versioned, optionally signed package in
// the release folder, indexed as a chart repository; a released version never changes.
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helm } from "../../scripts/lib/helm.js";
import { projectRoot } from "../../scripts/lib/tools.js";
import { packageRelease, ReleaseError, signingKeyFromEnv } from "../../scripts/publish/_release.js";
import {
  copyChart,
  isolatedHelmEnv,
  makeSigningKey,
  removeTempDirs,
  stopGpgAgent,
  tempDir,
  type SigningKey,
} from "../helpers/publish.js";

const tsx = join(projectRoot, "node_modules/.bin/tsx");

/** Run `npm run package` (its script) with ARGS and extra ENV; never throws. */
function npmRunPackage(args: string[], env: Record<string, string> = {}) {
  return execa(tsx, ["scripts/publish/package.ts", ...args], { cwd: projectRoot, env, reject: false });
}

type Index = { entries: Record<string, { version: string; urls: string[]; description: string }[]> };
const readIndex = (dir: string) => load(readFileSync(join(dir, "index.yaml"), "utf8")) as Index;
const versionsIn = (dir: string) => readIndex(dir).entries.mysql.map((e) => e.version).sort();

let key: SigningKey | undefined;
let helmEnv: Record<string, string>;

beforeAll(async () => {
  const dir = tempDir("package-key");
  key = await makeSigningKey(dir);
  helmEnv = isolatedHelmEnv(join(dir, "helm"));
});

afterAll(async () => {
  await stopGpgAgent(key);
  removeTempDirs();
});

describe("npm run package", () => {
  it("lints generated-chart/ and writes mysql-VERSION.tgz, index.yaml (with --url) and artifacthub-repo.yml", async () => {
    const release = tempDir("release");
    const r = await npmRunPackage(["--release-dir", release, "--url", "https://charts.example.invalid/mysql"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/linting/);
    const version = (load(readFileSync(join(projectRoot, "generated-chart/Chart.yaml"), "utf8")) as { version: string }).version;
    expect(existsSync(join(release, `mysql-${version}.tgz`))).toBe(true);
    const entry = readIndex(release).entries.mysql[0];
    expect(entry.version).toBe(version);
    expect(entry.urls).toEqual([`https://charts.example.invalid/mysql/mysql-${version}.tgz`]);
    expect(readFileSync(join(release, "artifacthub-repo.yml"), "utf8")).toBe(
      readFileSync(join(projectRoot, "scripts/publish/artifacthub-repo.yml"), "utf8"),
    );
  });

  it("takes the release folder from env RELEASE_DIR", async () => {
    const release = tempDir("release-env");
    const r = await npmRunPackage(["--no-lint"], { RELEASE_DIR: release });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(versionsIn(release)).toHaveLength(1);
  });

  it("leaves an already released version alone when the chart did not change", async () => {
    const release = tempDir("release-same");
    const chart = copyChart(tempDir("chart-same"), "1.0.0");
    const first = await packageRelease({ chartDir: chart, releaseDir: release, lint: false });
    const bytes = readFileSync(first.tgz);
    // A fresh checkout gives every file a new mtime, which changes the .tgz bytes but not its content.
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(chart, "values.yaml"), later, later);
    const second = await packageRelease({ chartDir: chart, releaseDir: release, lint: false });
    expect(second.status).toBe("unchanged");
    expect(second.contentDigest).toBe(first.contentDigest);
    expect(readFileSync(second.tgz).equals(bytes)).toBe(true);
  });

  it("refuses a changed chart whose version was not bumped, saying where to bump it", async () => {
    const release = tempDir("release-changed");
    const chart = copyChart(tempDir("chart-changed"), "1.0.0");
    await packageRelease({ chartDir: chart, releaseDir: release, lint: false });
    const before = readFileSync(join(release, "mysql-1.0.0.tgz"));
    writeFileSync(join(chart, "values.yaml"), readFileSync(join(chart, "values.yaml"), "utf8").replace("replicas: 3", "replicas: 4"));

    const r = await npmRunPackage(["--chart", chart, "--release-dir", release, "--no-lint"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/mysql 1\.0\.0 is already released .* and the chart has changed since/);
    expect(r.stderr).toMatch(/bump `version:` in chart-src\/Chart\.yaml\.hbs/);
    expect(readFileSync(join(release, "mysql-1.0.0.tgz")).equals(before)).toBe(true);
  });

  it("refuses a version the index already lists when its package is not there to compare", async () => {
    const release = tempDir("release-indexonly");
    const chart = copyChart(tempDir("chart-indexonly"), "1.0.0");
    await packageRelease({ chartDir: chart, releaseDir: release, lint: false });
    rmSync(join(release, "mysql-1.0.0.tgz"));
    await expect(packageRelease({ chartDir: chart, releaseDir: release, lint: false })).rejects.toThrow(
      /already lists mysql 1\.0\.0, but mysql-1\.0\.0\.tgz is not in/,
    );
  });

  it("adds a bumped version and keeps earlier versions listed, merging the existing index.yaml", async () => {
    const release = tempDir("release-merge");
    const url = "https://charts.example.invalid/mysql";
    await packageRelease({ chartDir: copyChart(tempDir("chart-v1"), "1.0.0"), releaseDir: release, url, lint: false });
    // As when only the published index.yaml is downloaded before a release: the old .tgz is not here.
    rmSync(join(release, "mysql-1.0.0.tgz"));
    await packageRelease({ chartDir: copyChart(tempDir("chart-v2"), "1.1.0"), releaseDir: release, url, lint: false });
    expect(versionsIn(release)).toEqual(["1.0.0", "1.1.0"]);
    const urls = readIndex(release).entries.mysql.flatMap((e) => e.urls).sort();
    expect(urls).toEqual([`${url}/mysql-1.0.0.tgz`, `${url}/mysql-1.1.0.tgz`]);
  });

  it("packages nothing when helm lint fails, and shows lint's message", async () => {
    const release = tempDir("release-lint");
    const chart = copyChart(tempDir("chart-lint"), "1.0.0");
    writeFileSync(join(chart, "templates/broken.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n");
    await expect(packageRelease({ chartDir: chart, releaseDir: release })).rejects.toThrow(/helm lint --strict failed .*nothing was packaged/s);
    expect(existsSync(join(release, "mysql-1.0.0.tgz"))).toBe(false);
  });
});

describe("signing (HELM_SIGN_KEY, HELM_SIGN_KEYRING)", () => {
  it("writes a .prov that helm verify accepts with the publisher's public key", async () => {
    const release = tempDir("release-signed");
    const r = await npmRunPackage(["--release-dir", release, "--no-lint"], { HELM_SIGN_KEY: key!.name, HELM_SIGN_KEYRING: key!.secring });
    expect(r.exitCode, r.stderr).toBe(0);
    const tgz = readIndex(release).entries.mysql[0].urls[0];
    const v = await helm(["verify", join(release, tgz), "--keyring", key!.pubring], { env: helmEnv });
    expect(v.stdout + v.stderr).toMatch(/Signed by: Chart Test Signer/);
  });

  it("a tampered package fails helm verify", async () => {
    const release = tempDir("release-tampered");
    const signed = await packageRelease({
      chartDir: copyChart(tempDir("chart-signed"), "1.0.0"),
      releaseDir: release,
      sign: { key: key!.name, keyring: key!.secring },
      lint: false,
    });
    expect(signed.prov).toBeDefined();
    // Swap in a package with other content under the same name, keeping the signature.
    const other = copyChart(tempDir("chart-evil"), "1.0.0");
    writeFileSync(join(other, "values.yaml"), readFileSync(join(other, "values.yaml"), "utf8") + "\nextra: injected\n");
    const evilDir = tempDir("evil-pkg");
    await helm(["package", other, "--destination", evilDir], { env: helmEnv });
    writeFileSync(signed.tgz, readFileSync(join(evilDir, "mysql-1.0.0.tgz")));

    const v = await helm(["verify", signed.tgz, "--keyring", key!.pubring], { env: helmEnv, allowFailure: true });
    expect(v.exitCode).not.toBe(0);
    expect(v.stderr).toMatch(/sha256 sum does not match/);
  });

  it("a package signed by another key fails helm verify with the publisher's keyring", async () => {
    const release = tempDir("release-otherkey");
    const stranger = await makeSigningKey(tempDir("stranger-key"), "Someone Else");
    try {
      const signed = await packageRelease({
        chartDir: copyChart(tempDir("chart-stranger"), "1.0.0"),
        releaseDir: release,
        sign: { key: stranger.name, keyring: stranger.secring },
        lint: false,
      });
      const v = await helm(["verify", signed.tgz, "--keyring", key!.pubring], { env: helmEnv, allowFailure: true });
      expect(v.exitCode).not.toBe(0);
      expect(v.stderr).toMatch(/signature made by unknown entity/);
    } finally {
      await stopGpgAgent(stranger);
    }
  });

  it("with HELM_SIGN_KEY_URL the package's Chart.yaml names the key for Artifact Hub (artifacthub.io/signKey), and still verifies", async () => {
    const release = tempDir("release-signkey");
    const r = await npmRunPackage(["--release-dir", release, "--no-lint"], {
      HELM_SIGN_KEY: key!.name,
      HELM_SIGN_KEYRING: key!.secring,
      HELM_SIGN_KEY_URL: "https://charts.example.org/signing-key.asc",
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const tgz = join(release, readIndex(release).entries.mysql[0].urls[0]);
    const shown = await execa("gpg", ["--batch", "--with-colons", "--show-keys", key!.pubring]);
    const fingerprint = shown.stdout.split("\n").find((l) => l.startsWith("fpr:"))!.split(":")[9];
    const chartYaml = (await execa("tar", ["-xzOf", tgz, "mysql/Chart.yaml"])).stdout;
    const annotations = (load(chartYaml) as { annotations: Record<string, string> }).annotations;
    expect(load(annotations["artifacthub.io/signKey"])).toEqual({ fingerprint, url: "https://charts.example.org/signing-key.asc" });
    const v = await helm(["verify", tgz, "--keyring", key!.pubring], { env: helmEnv });
    expect(v.stdout + v.stderr).toMatch(/Signed by: Chart Test Signer/);
  });

  it("a version released unsigned can be signed later with HELM_SIGN_KEY_URL: the annotation is not a change of the chart", async () => {
    const release = tempDir("release-signed-later");
    const chartDir = copyChart(tempDir("chart-signed-later"), "1.0.0");
    expect((await packageRelease({ chartDir, releaseDir: release, lint: false, env: helmEnv })).prov).toBeUndefined();
    const signed = await packageRelease({ chartDir, releaseDir: release, lint: false, env: helmEnv, sign: { key: key!.name, keyring: key!.secring, keyUrl: "https://charts.example.org/k.asc" } });
    expect(signed.status).toBe("unchanged");
    expect(signed.prov).toBeDefined();
  });

  it("refuses half a signing set-up, naming the missing variable", () => {
    expect(() => signingKeyFromEnv({ HELM_SIGN_KEY: "me" })).toThrow(ReleaseError);
    expect(() => signingKeyFromEnv({ HELM_SIGN_KEY: "me" })).toThrow(/only HELM_SIGN_KEY is set/);
    expect(() => signingKeyFromEnv({ HELM_SIGN_KEYRING: "/nonexistent" })).toThrow(/only HELM_SIGN_KEYRING is set/);
    expect(() => signingKeyFromEnv({ HELM_SIGN_KEY: "me", HELM_SIGN_KEYRING: "/nonexistent" })).toThrow(/no such file/);
    expect(signingKeyFromEnv({})).toBeUndefined();
  });
});
