// A tiny kubectl wrapper for tests that run against a real cluster.
// The cluster is the one named by env KUBECONFIG; kubectl is the pinned one in
// the toolkit's cache (scripts/cluster/build-tools.sh) when present, else PATH.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { cacheDir as cacheDirOf, toolPath } from "../../scripts/lib/tools.js";

/** The toolkit's cache directory (same rule as scripts/lib/common.sh). */
export const cacheDir: string = cacheDirOf();

/** The kubectl binary: the pinned build in the cache, else the one on PATH. */
export const kubectlBin: string = toolPath("kubectl");

/** The kubeconfig: env KUBECONFIG, else the default cluster's file written by up.sh. */
export function kubeconfig(): string {
  const fromEnv = process.env.KUBECONFIG;
  if (fromEnv) return fromEnv;
  const name = process.env.CLUSTER_NAME ?? "mysql-chart";
  const file = join(cacheDir, `kind-${name}.kubeconfig`);
  if (existsSync(file)) return file;
  throw new Error(
    "No cluster: set KUBECONFIG, or run `npm run cluster:up` (scripts/cluster/up.sh) first.",
  );
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run kubectl with args (and optional stdin); never throws, returns the exit code. */
export function kubectlRaw(args: string[], input?: string, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      kubectlBin,
      ["--kubeconfig", kubeconfig(), ...args],
      { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Run kubectl; throw with its output when it fails. Returns stdout. */
export async function kubectl(args: string[], input?: string, timeoutMs?: number): Promise<string> {
  const r = await kubectlRaw(args, input, timeoutMs);
  if (r.code !== 0) {
    throw new Error(`kubectl ${args.join(" ")} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/** Apply a manifest (YAML or JSON text) in a namespace. */
export async function apply(namespace: string, manifest: string): Promise<void> {
  await kubectl(["apply", "-n", namespace, "-f", "-"], manifest);
}

/** Create a namespace with a unique name starting with prefix; returns it. */
export async function createNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kubectl(["create", "namespace", name]);
  // The default ServiceAccount appears asynchronously; pods need it.
  await waitFor(`serviceaccount default in ${name}`, 30_000, async () =>
    (await kubectlRaw(["get", "serviceaccount", "default", "-n", name])).code === 0,
  );
  return name;
}

/** Delete namespaces without waiting for their finalization. */
export async function deleteNamespaces(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await kubectlRaw(["delete", "namespace", "--wait=false", "--ignore-not-found", ...names]);
}

/** Wait until a pod is Ready; on timeout throw with its description. */
export async function waitPodReady(namespace: string, pod: string, timeoutSec = 120): Promise<void> {
  // `kubectl wait` fails at once when the pod does not exist yet: retry until it does.
  await waitFor(`pod ${namespace}/${pod} to exist`, 30_000, async () =>
    (await kubectlRaw(["get", "pod", pod, "-n", namespace])).code === 0,
  );
  const r = await kubectlRaw(
    ["wait", "-n", namespace, "--for=condition=Ready", `pod/${pod}`, `--timeout=${timeoutSec}s`],
    undefined,
    (timeoutSec + 10) * 1000,
  );
  if (r.code !== 0) {
    const desc = await kubectlRaw(["describe", "pod", pod, "-n", namespace]);
    throw new Error(`pod ${namespace}/${pod} not Ready within ${timeoutSec}s:\n${r.stderr}\n${desc.stdout}`);
  }
}

/** Run a command in a pod's (first) container; never throws. */
export function execIn(namespace: string, pod: string, cmd: string[], timeoutMs = 60_000): Promise<RunResult> {
  return kubectlRaw(["exec", "-n", namespace, pod, "--", ...cmd], undefined, timeoutMs);
}

/** Poll check() every intervalMs until it returns true; throw after timeoutMs. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  intervalMs = 1000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The small test image built by scripts/images/busybox/build.sh (env SMOKE_IMAGE overrides). */
export function testImage(): string {
  if (process.env.SMOKE_IMAGE) return process.env.SMOKE_IMAGE;
  const f = join(cacheDir, "busybox-image");
  if (existsSync(f)) return readFileSync(f, "utf8").trim();
  throw new Error("No test image: run scripts/cluster/up.sh (it builds mysql-chart-toolkit/busybox), or set SMOKE_IMAGE.");
}
