// Helpers for the publishing tests (test/publish/): throwaway GnuPG keys, an isolated
// helm home, a static HTTP server for a chart repository folder, and the CNCF
// distribution registry on loopback. Everything listens on 127.0.0.1 only.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize, sep } from "node:path";
import { execa } from "execa";
import { toolPath } from "../../scripts/lib/tools.js";
import { GiveUp, waitFor } from "../../scripts/lib/wait.js";
import { chartDir } from "./render.js";

/** A new temporary directory; removeTempDirs() deletes all of them. */
const temps: string[] = [];
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `publish-${prefix}-`));
  temps.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * Environment that points helm at its own config, cache, data, repository and registry
 * files under DIR, so the user's helm set-up is neither read nor changed.
 */
export function isolatedHelmEnv(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  return {
    HELM_CONFIG_HOME: join(dir, "config"),
    HELM_CACHE_HOME: join(dir, "cache"),
    HELM_DATA_HOME: join(dir, "data"),
    HELM_REPOSITORY_CONFIG: join(dir, "config/repositories.yaml"),
    HELM_REPOSITORY_CACHE: join(dir, "cache/repository"),
    HELM_REGISTRY_CONFIG: join(dir, "config/registry.json"),
  };
}

export interface SigningKey {
  /** The key's user ID name, as given to helm --key. */
  name: string;
  /** Legacy-format secret keyring (gpg --export-secret-keys), for helm package --sign. */
  secring: string;
  /** Public keyring (gpg --export), for helm verify / pull --verify. */
  pubring: string;
  gnupgHome: string;
}

/**
 * A throwaway RSA signing key without passphrase in a new GNUPGHOME under DIR, exported
 * in the legacy keyring format helm reads. stopGpgAgent() ends the agent gpg started.
 */
export async function makeSigningKey(dir: string, name = "Chart Test Signer"): Promise<SigningKey> {
  const gnupgHome = join(dir, "gnupg");
  mkdirSync(gnupgHome, { recursive: true, mode: 0o700 });
  const env = { GNUPGHOME: gnupgHome };
  const uid = `${name} <signer@example.invalid>`;
  await execa("gpg", ["--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", uid, "rsa2048", "sign", "never"], { env });
  const secring = join(dir, "secring.gpg");
  const pubring = join(dir, "pubring.gpg");
  writeFileSync(secring, (await execa("gpg", ["--batch", "--export-secret-keys"], { env, encoding: "buffer" })).stdout);
  writeFileSync(pubring, (await execa("gpg", ["--batch", "--export"], { env, encoding: "buffer" })).stdout);
  return { name, secring, pubring, gnupgHome };
}

/** Stop the gpg-agent that gpg started for KEY's GNUPGHOME. */
export async function stopGpgAgent(key: SigningKey | undefined): Promise<void> {
  if (key) await execa("gpgconf", ["--kill", "gpg-agent"], { env: { GNUPGHOME: key.gnupgHome }, reject: false });
}

/** A copy of generated-chart/ in DIR, with its version set to VERSION when given. */
export function copyChart(dir: string, version?: string): string {
  const dest = join(dir, "mysql");
  cpSync(chartDir, dest, { recursive: true });
  if (version) {
    const file = join(dest, "Chart.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/^version: .*$/m, `version: ${version}`));
  }
  return dest;
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serve the files of ROOT read-only over HTTP on 127.0.0.1 (a chart repository host). */
export function serveDirectory(root: string): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    const file = join(root, path);
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile() || req.method !== "GET") {
      res.writeHead(404).end("not found\n");
      return;
    }
    const type = file.endsWith(".yaml") || file.endsWith(".yml") ? "application/yaml" : "application/octet-stream";
    res.writeHead(200, { "content-type": type, "content-length": statSync(file).size });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

export interface Registry {
  /** host:port, e.g. 127.0.0.1:40123. */
  host: string;
  /** oci://host:port/charts */
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

/** The registry binary built by `bash scripts/install-tools.sh registry`. */
export function registryBin(): string {
  const bin = toolPath("registry");
  if (bin === "registry") throw new Error("the distribution registry is not built: run bash scripts/install-tools.sh registry");
  return bin;
}

/**
 * Start the CNCF distribution registry on 127.0.0.1 with a config file and storage under DIR;
 * resolves once /v2/ answers. readOnly: the registry refuses every push.
 */
export async function startRegistry(dir: string, o: { readOnly?: boolean } = {}): Promise<Registry> {
  const bin = registryBin();
  const port = await freePort();
  const storage = join(dir, "storage");
  mkdirSync(storage, { recursive: true });
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: info",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${storage}`,
      ...(o.readOnly ? ["  maintenance:", "    readonly:", "      enabled: true"] : []),
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "  secret: publish-tests-only",
      "",
    ].join("\n"),
  );
  const logFile = join(dir, "registry.log");
  const fd = openSync(logFile, "a");
  const child: ChildProcess = spawn(bin, ["serve", config], { stdio: ["ignore", fd, fd] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const host = `127.0.0.1:${port}`;
  await waitFor(`the registry on ${host}`, async () => {
    if (child.exitCode !== null) throw new GiveUp(`registry exited (${child.exitCode}); log: ${readFileSync(logFile, "utf8")}`);
    return (await fetch(`http://${host}/v2/`)).status === 200; // a refused connection throws: not listening yet
  }, { timeoutMs: 20_000, intervalMs: 100, quiet: true }).catch((e: Error) => {
    child.kill("SIGTERM");
    throw new Error(`${e.message}; log: ${readFileSync(logFile, "utf8")}`);
  });
  return {
    host,
    url: `oci://${host}/charts`,
    logFile,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/** Fixed passwords, so two renders of the same chart are byte-equal (empty ones are random). */
export const FIXED_PASSWORDS = {
  "auth.rootPassword": "root-pw-for-render",
  "auth.replicationPassword": "repl-pw-for-render",
  "auth.clonePassword": "clone-pw-for-render",
};

/**
 * `helm template` of CHART (a directory or a .tgz) with FIXED_PASSWORDS and a certificate from a
 * named Secret (a generated one is random too). The internal accounts' passwords, which values
 * cannot set, are always generated: their values are masked, their keys kept.
 */
export async function renderForComparison(chart: string): Promise<string> {
  const { helmTemplate } = await import("../../scripts/lib/helm.js");
  const text = await helmTemplate(chart, { set: { ...FIXED_PASSWORDS, "tls.certificates.source": "existingSecret", "tls.certificates.existingSecret": "render-tls" } });
  return text.replace(/^( {2}mysql-(?:test|monitor|metrics)-password): "[A-Za-z0-9+/=]+"$/gm, '$1: "<generated>"');
}
