// Cut a release of the chart into a chart-repository folder: lint, package (and sign),
// refuse a changed chart whose version was not bumped, index (merging the existing
// index so earlier versions stay listed), and write Artifact Hub's repository file.
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { execa } from "execa";
import { load } from "js-yaml";
import { helm } from "../lib/helm.js";
import { generatedChartDir, projectRoot } from "../lib/tools.js";
import { chartContentDigest } from "./_chart-digest.js";

/** A release step that cannot go on; its message says what to do. */
export class ReleaseError extends Error {}

/** Run a publish command: a ReleaseError prints as "ERROR: ..." and exits 1; anything else is a bug and is thrown. */
export async function runCommand(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof ReleaseError) {
      console.error(`ERROR: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

/** How to sign: GnuPG key name and a legacy-format secret keyring (`gpg --export-secret-keys`). */
export interface SigningKey {
  key: string;
  keyring: string;
  /** File holding the key's passphrase; default: none (a key without passphrase). */
  passphraseFile?: string;
  /**
   * Where users fetch the public key (https URL): with it the package's Chart.yaml gets
   * artifacthub.io/signKey (fingerprint and URL), so Artifact Hub shows the package as signed.
   */
  keyUrl?: string;
}

export interface PackageOptions {
  /** Chart directory to package; default: generated-chart/. */
  chartDir?: string;
  /** The chart repository folder; default: release/ (env RELEASE_DIR in the CLI). */
  releaseDir?: string;
  /** Base URL the repository is served from, written into index.yaml; default: none (relative URLs). */
  url?: string;
  /** Sign the package (writes NAME-VERSION.tgz.prov); default: unsigned. */
  sign?: SigningKey;
  /** Run `helm lint --strict` first (defaults and every ci/*-values.yaml); default: true. */
  lint?: boolean;
  /** Artifact Hub repository metadata copied into the folder; default: scripts/publish/artifacthub-repo.yml. */
  artifactHubRepoFile?: string;
  /** Extra environment for helm; default: none. */
  env?: Record<string, string>;
  /** Progress lines; default: silent. */
  log?: (line: string) => void;
}

export interface PackageResult {
  name: string;
  version: string;
  /** Path of NAME-VERSION.tgz in the release folder. */
  tgz: string;
  /** Path of its .prov, when the released package is signed. */
  prov?: string;
  /** Content digest (file names and bytes, not tar times) of the package. */
  contentDigest: string;
  /** "released": new in the folder; "unchanged": that version was already there with the same content. */
  status: "released" | "unchanged";
  index: string;
}

export const defaultReleaseDir = join(projectRoot, "release");
export const defaultArtifactHubRepoFile = join(projectRoot, "scripts/publish/artifacthub-repo.yml");
const VERSION_SOURCE = "chart-src/Chart.yaml.hbs";

/** name and version from a chart directory's Chart.yaml. */
export function chartMeta(chartDir: string): { name: string; version: string; description: string } {
  const file = join(chartDir, "Chart.yaml");
  if (!existsSync(file)) throw new ReleaseError(`${file} not found: is ${chartDir} a chart? (run npm run generate)`);
  const c = load(readFileSync(file, "utf8")) as { name?: string; version?: string; description?: string };
  if (!c.name || !c.version) throw new ReleaseError(`${file} has no name or version`);
  return { name: c.name, version: String(c.version), description: c.description ?? "" };
}

/**
 * The signing key named by the environment: HELM_SIGN_KEY (key name) and HELM_SIGN_KEYRING
 * (secret keyring path), optionally HELM_SIGN_PASSPHRASE_FILE. Undefined when neither is set.
 */
export function signingKeyFromEnv(env: NodeJS.ProcessEnv = process.env): SigningKey | undefined {
  const key = env.HELM_SIGN_KEY ?? "";
  const keyring = env.HELM_SIGN_KEYRING ?? "";
  if (!key && !keyring) return undefined;
  if (!key || !keyring) {
    throw new ReleaseError(
      `to sign, set both HELM_SIGN_KEY (the key's name or email) and HELM_SIGN_KEYRING (a secret keyring made with ` +
        `\`gpg --export-secret-keys > secring.gpg\`); only ${key ? "HELM_SIGN_KEY" : "HELM_SIGN_KEYRING"} is set`,
    );
  }
  if (!existsSync(keyring)) throw new ReleaseError(`HELM_SIGN_KEYRING=${keyring}: no such file`);
  const passphraseFile = env.HELM_SIGN_PASSPHRASE_FILE || undefined;
  if (passphraseFile && !existsSync(passphraseFile)) {
    throw new ReleaseError(`HELM_SIGN_PASSPHRASE_FILE=${passphraseFile}: no such file`);
  }
  const keyUrl = env.HELM_SIGN_KEY_URL || undefined;
  if (keyUrl && !/^https?:\/\/\S+$/.test(keyUrl)) throw new ReleaseError(`HELM_SIGN_KEY_URL=${keyUrl}: not an http(s) URL`);
  return { key, keyring, passphraseFile, keyUrl };
}

/** The fingerprint of the key named KEY (a name, email or fingerprint part of a user id) in a secret keyring file, without importing it. */
export async function signingFingerprint(sign: SigningKey): Promise<string> {
  const r = await execa("gpg", ["--batch", "--with-colons", "--import-options", "show-only", "--import", sign.keyring], { reject: false });
  if (r.exitCode !== 0) throw new ReleaseError(`gpg could not read the keyring ${sign.keyring}: ${r.stderr.trim()}`);
  // Records per key: sec (or pub), fpr, uid...; the primary key's fpr follows its sec line.
  let fpr = "";
  let current = "";
  for (const line of r.stdout.split("\n")) {
    const f = line.split(":");
    if (f[0] === "sec" || f[0] === "pub") current = "";
    else if (f[0] === "fpr" && !current) current = f[9];
    else if (f[0] === "uid" && current && (f[9].includes(sign.key) || current.endsWith(sign.key.toUpperCase()))) fpr ||= current;
  }
  if (!fpr) throw new ReleaseError(`no key named ${sign.key} in ${sign.keyring}`);
  return fpr;
}

/** Copy CHART_DIR into STAGE with artifacthub.io/signKey added to its Chart.yaml annotations; returns the copy. */
function withSignKey(chartDir: string, stage: string, fingerprint: string, url: string): string {
  const copy = join(stage, "src", chartMeta(chartDir).name);
  cpSync(chartDir, copy, { recursive: true });
  const file = join(copy, "Chart.yaml");
  const text = readFileSync(file, "utf8");
  if (!/^annotations:\n/m.test(text)) throw new ReleaseError(`${file} has no annotations: block to add artifacthub.io/signKey to`);
  writeFileSync(file, text.replace(/^annotations:\n/m, `annotations:\n  artifacthub.io/signKey: |\n    fingerprint: ${fingerprint}\n    url: ${url}\n`));
  return copy;
}

/** Does index.yaml in DIR list NAME at VERSION? */
function indexLists(dir: string, name: string, version: string): boolean {
  const file = join(dir, "index.yaml");
  if (!existsSync(file)) return false;
  const index = load(readFileSync(file, "utf8")) as { entries?: Record<string, { version: string }[]> };
  return (index.entries?.[name] ?? []).some((e) => String(e.version) === version);
}

/** `helm lint --strict` with the defaults and with every ci/*-values.yaml of the chart. */
async function lint(chartDir: string, env?: Record<string, string>): Promise<void> {
  const ciDir = join(chartDir, "ci");
  const valueSets: string[][] = [[]];
  if (existsSync(ciDir)) {
    for (const f of readdirSync(ciDir).filter((f) => f.endsWith("-values.yaml")).sort()) {
      valueSets.push(["--values", join(ciDir, f)]);
    }
  }
  for (const values of valueSets) {
    const r = await helm(["lint", "--strict", chartDir, ...values], { allowFailure: true, env });
    if (r.exitCode !== 0) {
      const which = values.length ? values[1] : "the default values";
      throw new ReleaseError(`helm lint --strict failed with ${which}; nothing was packaged:\n${(r.stdout + r.stderr).trim()}`);
    }
  }
}

/** Package, sign when asked, check against what is already released, index. */
export async function packageRelease(o: PackageOptions = {}): Promise<PackageResult> {
  const chartDir = o.chartDir ?? generatedChartDir;
  const releaseDir = o.releaseDir ?? defaultReleaseDir;
  const say = o.log ?? (() => {});
  const { name, version } = chartMeta(chartDir);
  const base = `${name}-${version}.tgz`;
  const released = join(releaseDir, base);
  mkdirSync(releaseDir, { recursive: true });

  if (o.lint ?? true) {
    say(`linting ${relative(process.cwd(), chartDir) || chartDir}`);
    await lint(chartDir, o.env);
  }

  const stage = mkdtempSync(join(tmpdir(), "chart-package-"));
  try {
    let source = chartDir;
    if (o.sign?.keyUrl) {
      const fingerprint = await signingFingerprint(o.sign);
      source = withSignKey(chartDir, stage, fingerprint, o.sign.keyUrl);
      say(`artifacthub.io/signKey: ${fingerprint} (${o.sign.keyUrl})`);
    } else if (o.sign) {
      say("signed without artifacthub.io/signKey: set HELM_SIGN_KEY_URL to the public key's URL for Artifact Hub to show the package as signed");
    }
    const args = ["package", source, "--destination", stage];
    if (o.sign) {
      args.push("--sign", "--key", o.sign.key, "--keyring", o.sign.keyring);
      if (o.sign.passphraseFile) args.push("--passphrase-file", o.sign.passphraseFile);
    }
    await helm(args, { env: o.env });
    const staged = join(stage, base);
    if (!existsSync(staged)) throw new ReleaseError(`helm package did not write ${base} (wrote: ${readdirSync(stage).join(", ")})`);
    const contentDigest = chartContentDigest(staged);

    let status: PackageResult["status"] = "released";
    if (existsSync(released)) {
      if (chartContentDigest(released) !== contentDigest) {
        throw new ReleaseError(
          `${name} ${version} is already released (${released}) and the chart has changed since. ` +
            `A released version never changes: bump \`version:\` in ${VERSION_SOURCE}, run npm run generate, then npm run package again.`,
        );
      }
      status = "unchanged";
      say(`${name} ${version} is already in ${releaseDir} with the same content; keeping it`);
    } else if (indexLists(releaseDir, name, version)) {
      throw new ReleaseError(
        `${join(releaseDir, "index.yaml")} already lists ${name} ${version}, but ${base} is not in ${releaseDir}, so its ` +
          `content cannot be compared. Put the released ${base} back in ${releaseDir}, or bump \`version:\` in ${VERSION_SOURCE}.`,
      );
    }

    // A new version, or an unchanged one that is now signed for the first time: take the staged files.
    const stagedProv = `${staged}.prov`;
    if (status === "released" || (o.sign && !existsSync(`${released}.prov`))) {
      copyFileSync(staged, released);
      if (existsSync(stagedProv)) copyFileSync(stagedProv, `${released}.prov`);
    }

    const indexFile = join(releaseDir, "index.yaml");
    const indexArgs = ["repo", "index", releaseDir];
    if (o.url) indexArgs.push("--url", o.url);
    if (existsSync(indexFile)) indexArgs.push("--merge", indexFile);
    await helm(indexArgs, { env: o.env });

    copyFileSync(o.artifactHubRepoFile ?? defaultArtifactHubRepoFile, join(releaseDir, "artifacthub-repo.yml"));

    const prov = existsSync(`${released}.prov`) ? `${released}.prov` : undefined;
    say(`${status === "released" ? "released" : "kept"} ${released}${prov ? " (signed)" : ""}; index: ${indexFile}`);
    return { name, version, tgz: released, prov, contentDigest, status, index: indexFile };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
