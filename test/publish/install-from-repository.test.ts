// A user installs the published chart into a cluster by repository name and by OCI
// reference, and the release's `helm test` passes. Runs only when env KUBECONFIG points
// at a reachable cluster whose nodes hold the locally built database image
// (infra/images/db, loaded into kind); otherwise it is skipped, saying why.
// KEEP_NAMESPACES=1 leaves the namespaces in place for debugging.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FLAVORS } from "../../scripts/lib/flavors.js";
import { helm } from "../../scripts/lib/helm.js";
import { imageValues } from "../../scripts/lib/release.js";
import { pushChart } from "../../scripts/publish/_oci.js";
import { chartMeta, packageRelease } from "../../scripts/publish/_release.js";
import { connect, createNamespace, deleteNamespaces, diagnoseNamespace, kubectl } from "../../scripts/lib/kube.js";
import { chartDir } from "../helpers/render.js";
import {
  isolatedHelmEnv,
  makeSigningKey,
  removeTempDirs,
  serveDirectory,
  startRegistry,
  stopGpgAgent,
  tempDir,
  type Registry,
  type SigningKey,
  type StaticServer,
} from "../helpers/publish.js";

const IMAGE = FLAVORS.mysql.localImage;
// The locally built image, never pulled; two replicas keep the install short.
const VALUES = [...Object.entries(imageValues("mysql", IMAGE)).map(([k, v]) => `${k}=${v}`), "images.mysql.pullPolicy=Never", "replicas=2"];
const INSTALL_TIMEOUT = "15m";
// Per test: the install, helm test and diagnostics on failure.
const TEST_TIMEOUT_MS = 30 * 60_000;

/** Why the cluster cannot be used, or "" when it can. */
async function clusterProblem(): Promise<string> {
  if (!process.env.KUBECONFIG) return "env KUBECONFIG is not set";
  // scripts/test.sh sets REQUIRE_CLUSTER=1 after loading the images: then nothing may be skipped.
  if (process.env.REQUIRE_CLUSTER === "1") return "";
  const nodes = await kubectl(connect(), ["get", "nodes", "-o", "json"], { allowFailure: true, timeoutMs: 20_000 });
  if (nodes.exitCode !== 0) return `the cluster of KUBECONFIG=${process.env.KUBECONFIG} is not reachable: ${nodes.stderr.trim()}`;
  const items = (JSON.parse(nodes.stdout) as { items: { status: { images?: { names?: string[] }[] } }[] }).items;
  const names = items.flatMap((n) => (n.status.images ?? []).flatMap((i) => i.names ?? []));
  // containerd lists a loaded image by its normalised name, e.g. docker.io/mysql-chart/mysql:9.7-debian.
  if (!names.some((n) => n === IMAGE || n.endsWith(`/${IMAGE}`))) {
    return `no node holds the image ${IMAGE} (build it with infra/images/db/build.sh, load it with infra/cluster/load-image.sh; a node lists a loaded image within about a minute)`;
  }
  return "";
}

const problem = await clusterProblem();
if (problem && process.env.REQUIRE_CLUSTER === "1") throw new Error(`install-from-repository: cannot run: ${problem}`);
if (problem) console.info(`install-from-repository: skipped: ${problem}`);

const { version } = chartMeta(chartDir);
const namespaces: string[] = [];
let server: StaticServer | undefined;
let registry: Registry | undefined;
let env: Record<string, string>;
let key: SigningKey | undefined;

/** helm install CHART (with ARGS) into a new namespace, then helm test; prints diagnostics on failure. */
async function installAndTest(prefix: string, chart: string, extra: string[]): Promise<string> {
  const k = connect();
  const namespace = await createNamespace(k, prefix);
  namespaces.push(namespace);
  const kube = ["--kubeconfig", process.env.KUBECONFIG!, "--namespace", namespace];
  try {
    const sets = VALUES.flatMap((v) => ["--set", v]);
    await helm(["install", "mysql", chart, "--version", version, ...extra, ...kube, ...sets, "--wait", "--timeout", INSTALL_TIMEOUT], {
      env,
      timeoutMs: 16 * 60_000,
    });
    const t = await helm(["test", "mysql", ...kube, "--logs", "--timeout", "10m"], { env, timeoutMs: 11 * 60_000 });
    return t.stdout;
  } catch (e) {
    console.error(`install of ${chart} in ${namespace} failed:\n${await diagnoseNamespace(k, namespace)}`);
    throw e;
  }
}

describe.skipIf(problem !== "")("installing the published chart into the cluster", () => {
  beforeAll(async () => {
    const work = tempDir("install");
    const release = join(work, "release");
    key = await makeSigningKey(join(work, "key"));
    const pkg = await packageRelease({ releaseDir: release, sign: { key: key.name, keyring: key.secring }, lint: false });
    env = { ...isolatedHelmEnv(join(work, "helm")), KUBECONFIG: process.env.KUBECONFIG! };
    server = await serveDirectory(release);
    await helm(["repo", "add", "mysql-charts", server.url], { env });
    registry = await startRegistry(join(work, "registry"));
    await pushChart(pkg.tgz, registry.url, { plainHttp: true, env });
  });

  afterAll(async () => {
    if (namespaces.length) await deleteNamespaces(connect(), namespaces);
    await server?.close();
    await registry?.stop();
    await stopGpgAgent(key);
    removeTempDirs();
  });

  it("helm install --verify mysql-charts/mysql (by repository name), and helm test passes", async () => {
    const out = await installAndTest("pub-repo", "mysql-charts/mysql", ["--verify", "--keyring", key!.pubring]);
    expect(out).toMatch(/Phase:\s+Succeeded/);
  }, TEST_TIMEOUT_MS);

  it("helm install --verify oci://…/charts/mysql (by OCI reference), and helm test passes", async () => {
    const out = await installAndTest("pub-oci", `${registry!.url}/mysql`, ["--plain-http", "--verify", "--keyring", key!.pubring]);
    expect(out).toMatch(/Phase:\s+Succeeded/);
  }, TEST_TIMEOUT_MS);
});
