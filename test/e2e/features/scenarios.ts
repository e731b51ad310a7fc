// Every ci/ scenario of the chart installed and proven, as `npm run verify` proves a user's values:
// the shared SQL proof (scripts/lib/proof.ts: every pod Ready, pod 0 writable, the others read-only
// and replicating, a row on every pod, helm test), then the scenario's own promise. Each runs in a
// namespace of its own (restricted Pod Security), one after the other within a lane; each suite
// runs one lane beside its own releases, once its main release is Ready. Scenarios a suite's own
// release is installed from are proven there (elsewhere names where), not installed twice. What kind cannot run as written is overridden, and the
// override and its reason are part of the scenario's name; nothing is dropped silently. Every
// scenario runs the images built here for its flavor (no registry is reachable): ci/05's MariaDB
// 10.11 is built, ci/02's MySQL 8.4 is not, so ci/02 runs 9.7 and says so.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { expect, it } from "vitest";
import { helm } from "../../../scripts/lib/helm.js";
import { apply, createNamespace, deleteNamespaces, enforceRestricted, type Kube, kubectl, podScript, podSql } from "../../../scripts/lib/kube.js";
import { check, type Outcome, podName, prove, type Target } from "../../../scripts/lib/proof.js";
import { chartDir, exporterImageValues, type Flavor, imageFor, imageValues } from "../../../scripts/lib/release.js";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { cacheDir, versions } from "../../../scripts/lib/tools.js";
import { flavorOf, render } from "../../../scripts/verify.js";
import { CHART, type E2e } from "../context.js";

const RELEASE = "scn";
const CI_DIR = join(chartDir, "ci");

interface Scenario {
  /** Which suite runs it: the lanes are balanced by install time, not by flavor. */
  lane: Flavor;
  /** Values kind needs instead of the file's (some read from the cluster), and why. */
  kind?: { set: Record<string, string | number | boolean>; fromCluster?: (k: Kube) => Promise<Record<string, string>>; why: string };
  /** Set-up in the scenario's namespace before the install. */
  before?: (k: Kube, namespace: string) => Promise<void>;
  /** The scenario's own promise. */
  promise?: { name: string; run: (t: Target) => Promise<string> };
  /** Installed and proven elsewhere (the file names where). */
  elsewhere?: string;
}

/** SQL on pod ORDINAL that must answer EXPECTED. */
async function expectSql(t: Target, ordinal: number, q: string, expected: string): Promise<string> {
  const r = await podSql(t.k, t.namespace, podName(t, ordinal), t.flavor, q, { allowFailure: true });
  if (r.out !== expected) throw new Error(`${podName(t, ordinal)}: ${q} answered ${r.out || r.err}, expected ${expected}`);
  return `${podName(t, ordinal)}: ${r.out.replace(/\t/g, " ")}`;
}

/** A bare pod (restricted, the flavor's image) with LABELS that tries TCP to HOST:PORT; "open" or "closed". */
async function tcpFrom(t: Target, name: string, labels: Record<string, string>, host: string, port: number): Promise<string> {
  const pod = {
    apiVersion: "v1", kind: "Pod", metadata: { name, namespace: t.namespace, labels },
    spec: {
      restartPolicy: "Never",
      securityContext: { runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: "RuntimeDefault" } },
      containers: [{
        name: "probe", image: imageFor(t.flavor),
        imagePullPolicy: "IfNotPresent",
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        command: ["bash", "-c", `if timeout 5 bash -c '</dev/tcp/${host}/${port}' 2>/dev/null; then echo open; else echo closed; fi`],
      }],
    },
  };
  await apply(t.k, t.namespace, JSON.stringify(pod));
  await kubectl(t.k, ["wait", "-n", t.namespace, `pod/${name}`, "--for=jsonpath={.status.phase}=Succeeded", "--timeout=90s"]);
  const out = (await kubectl(t.k, ["logs", "-n", t.namespace, name])).stdout.trim();
  await kubectl(t.k, ["delete", "pod", "-n", t.namespace, name, "--wait=false"], { allowFailure: true });
  return out;
}

// The suites' node (2 cores) is shared by both suites and a lane each: a scenario whose promise is
// not about the number of pods runs with 2 (a primary and a replica: every promise of the proof holds
// for both roles). ci/05, whose point is seven pods, keeps them.
const TWO_PODS = { replicas: 2 };
const TWO_PODS_WHY = "2 pods (the node is shared; the count is not this scenario's point)";

const SECRET = { "mysql-root-password": "scenario-root-0123", "mysql-replication-password": "scenario-repl-0123", "mysql-password": "scenario-app-0123" };

export const SCENARIOS: Record<string, Scenario> = {
  "01-defaults-values.yaml": { lane: "mysql", elsewhere: "test/e2e/features/replication.ts: the MySQL suite's main release is installed from it" },
  "02-mysql-values.yaml": {
    lane: "mysql",
    kind: { set: TWO_PODS, why: `MySQL 9.7, the image built here, for the file's 8.4; ${TWO_PODS_WHY}` },
    promise: { name: "the passwords of the values file are the ones in use", run: async (t) => {
      const r = await podScript(t.k, t.namespace, podName(t, 0), t.flavor, `write_client_cnf /tmp/p.cnf root 'root-secret-0123'; sql /tmp/p.cnf <<<"SELECT CURRENT_USER()"`);
      if (r.stdout.trim() !== "root@localhost") throw new Error(`root with auth.rootPassword: ${r.stderr.trim()}`);
      return "root logs in with auth.rootPassword";
    } },
  },
  "03-mariadb-values.yaml": { lane: "mariadb", elsewhere: "test/e2e/features/replication.ts: the MariaDB suite's main release is installed from it" },
  "04-single-replica-values.yaml": { lane: "mariadb", elsewhere: "test/e2e/features/existing-claim.ts: release own is installed from it" },
  "05-seven-replicas-values.yaml": { lane: "mariadb" },
  "06-existing-secret-values.yaml": {
    lane: "mysql",
    kind: { set: TWO_PODS, why: TWO_PODS_WHY },
    before: async (k, namespace) => {
      await apply(k, namespace, JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "my-db-passwords", namespace }, stringData: SECRET }));
    },
    promise: { name: "the existing Secret's passwords are the ones in use", run: async (t) => {
      const r = await podScript(t.k, t.namespace, podName(t, 0), t.flavor, `write_client_cnf /tmp/p.cnf app '${SECRET["mysql-password"]}'; sql /tmp/p.cnf <<<"SELECT CURRENT_USER()"`);
      if (r.stdout.trim() !== "app@%") throw new Error(`app with my-db-passwords' mysql-password: ${r.stderr.trim()}`);
      return "app logs in with my-db-passwords' mysql-password";
    } },
  },
  "07-extra-config-values.yaml": {
    lane: "mariadb",
    kind: { set: TWO_PODS, why: TWO_PODS_WHY },
    promise: { name: "the extra config lines are active, per role, and the init SQL ran", run: async (t) => {
      const seen = [await expectSql(t, 0, "SELECT @@max_connections, @@max_allowed_packet, @@binlog_expire_logs_seconds", "300\t67108864\t86400")];
      for (let i = 1; i < t.replicas; i++) seen.push(await expectSql(t, i, "SELECT @@max_connections, @@replica_parallel_workers", "300\t4"));
      for (let i = 0; i < t.replicas; i++) seen.push(await expectSql(t, i, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'appdb' AND TABLE_NAME = 'settings'", "1"));
      return seen.join("; ");
    } },
  },
  "08-networkpolicy-restricted-values.yaml": {
    lane: "mysql",
    kind: {
      set: { ...TWO_PODS, podAntiAffinity: "soft" },
      // The API server's address as the pods reach it (kind: the node's, port 6443).
      fromCluster: async (k) => {
        const ip = (await kubectl(k, ["get", "nodes", "-o", "jsonpath={.items[0].status.addresses[?(@.type=='InternalIP')].address}"])).stdout.trim();
        return { "networkPolicy.egress.kubeApi.cidrs[0]": `${ip}/32` };
      },
      why: `podAntiAffinity soft and the API server's address (kind has one node); ${TWO_PODS_WHY}`,
    },
    promise: { name: "a pod without the client label is refused; one with it gets in", run: async (t) => {
      const host = `${t.sts}-primary`;
      const refused = await tcpFrom(t, "unlabelled", {}, host, 3306);
      if (refused !== "closed") throw new Error(`a pod without the client label reached ${host}:3306 (${refused})`);
      const admitted = await tcpFrom(t, "labelled", { [`${t.sts}-client`]: "true" }, host, 3306);
      if (admitted !== "open") throw new Error(`a pod with ${t.sts}-client=true did not reach ${host}:3306 (${admitted})`);
      return "unlabelled: closed; labelled: open";
    } },
  },
  "09-everything-off-values.yaml": { lane: "mysql", kind: { set: TWO_PODS, why: TWO_PODS_WHY } },
  "10-extensions-values.yaml": { lane: "mariadb", elsewhere: "test/e2e/features/extensions.ts (release ext) runs the shared proof and the scenario's own promises" },
  "11-from-bitnami-values.yaml": {
    lane: "mysql",
    kind: { set: { ...TWO_PODS, "resources.server.requests.cpu": "20m" }, why: `CPU request 20m; ${TWO_PODS_WHY}` },
    promise: { name: "the Bitnami-style role configs are active", run: async (t) => {
      const seen = [await expectSql(t, 0, "SELECT @@max_connections", "500")];
      for (let i = 1; i < t.replicas; i++) seen.push(await expectSql(t, i, "SELECT @@max_connections", "800"));
      return seen.join("; ");
    } },
  },
  "12-metrics-values.yaml": {
    lane: "mysql",
    kind: { set: TWO_PODS, why: TWO_PODS_WHY },
    before: async (k) => {
      // The Prometheus Operator's CRDs (from its pinned Go module), so the ServiceMonitor and PrometheusRule apply.
      const dir = join(cacheDir(), "prometheus-operator-crds", versions().PROMETHEUS_OPERATOR_VERSION);
      for (const f of readdirSync(dir).filter((x) => x.endsWith(".yaml"))) await kubectl(k, ["apply", "--server-side", "-f", join(dir, f)]);
    },
    promise: { name: "the ServiceMonitor and PrometheusRule exist, and every exporter reports its server up", run: async (t) => {
      await kubectl(t.k, ["get", "-n", t.namespace, `servicemonitor/${t.sts}`, `prometheusrule/${t.sts}`]);
      for (let i = 0; i < t.replicas; i++) {
        const page = await podScript(t.k, t.namespace, podName(t, i), t.flavor, `exec 3<>/dev/tcp/127.0.0.1/${CHART.metricsPort}; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3`);
        if (!/^mysql_up 1$/m.test(page.stdout)) throw new Error(`${podName(t, i)}'s exporter does not report mysql_up 1`);
      }
      return `mysql_up 1 on ${t.replicas} pods`;
    } },
  },
};

export interface ScenarioResult {
  file: string;
  outcomes: Outcome[];
  /** Install to every pod Ready. */
  readySeconds: number;
  totalSeconds: number;
}

/** The image values for a scenario: the local image of its flavor (MariaDB 10.11's for a 10.11 scenario). */
function localImages(file: string, flavor: Flavor): Record<string, string> {
  const tag = ((load(readFileSync(join(CI_DIR, file), "utf8")) as { images?: Record<string, { tag?: string }> } | null)?.images?.[flavor]?.tag) ?? "";
  const ref = flavor === "mariadb" && tag.startsWith("10.11") ? FLAVORS.mariadb.previousLtsImage : undefined;
  return { ...imageValues(flavor, ref), ...exporterImageValues() };
}

/** Install and prove one scenario in a namespace of its own, then remove it. */
async function runScenario(main: E2e, file: string, s: Scenario): Promise<ScenarioResult> {
  const t0 = Date.now();
  const flavor = flavorOf([join(CI_DIR, file)]);
  const set: Record<string, string> = { ...localImages(file, flavor), "resources.server.requests.cpu": "20m", "resources.init.requests.cpu": "20m" };
  for (const [key, v] of Object.entries(s.kind?.set ?? {})) set[key] = String(v);
  Object.assign(set, await s.kind?.fromCluster?.(main.k));
  const rendered = await render([join(CI_DIR, file)], set, RELEASE);
  if (!rendered.ok) return { file, outcomes: [{ promise: "the chart renders it", ok: false, seconds: 0, detail: rendered.why }], readySeconds: 0, totalSeconds: 0 };
  const namespace = await createNamespace(main.k, `scn-${file.slice(0, 2)}`);
  await enforceRestricted(main.k, namespace);
  const t: Target = { k: main.k, namespace, release: RELEASE, sts: rendered.r.sts, flavor, replicas: rendered.r.replicas, helmTest: rendered.r.helmTest };
  try {
    await s.before?.(main.k, namespace);
    const args = ["install", RELEASE, chartDir, "--namespace", namespace, "--kubeconfig", main.k.kubeconfig, "--values", join(CI_DIR, file)];
    for (const [key, v] of Object.entries(set)) args.push("--set", `${key}=${v}`);
    const installed = await helm(args, { allowFailure: true, timeoutMs: 300_000 });
    if (installed.exitCode !== 0) return { file, outcomes: [{ promise: "helm install", ok: false, seconds: 0, detail: installed.stderr }], readySeconds: 0, totalSeconds: (Date.now() - t0) / 1000 };
    const outcomes = await prove(t, { readyTimeoutMs: 600_000, progress: () => undefined });
    if (s.promise && outcomes.every((o) => o.ok)) outcomes.push(await check(s.promise.name, () => s.promise!.run(t)));
    return { file, outcomes, readySeconds: outcomes[0].seconds, totalSeconds: (Date.now() - t0) / 1000 };
  } finally {
    await helm(["uninstall", RELEASE, "--namespace", namespace, "--kubeconfig", main.k.kubeconfig, "--wait=false"], { allowFailure: true });
    await deleteNamespaces(main.k, [namespace]);
  }
}

/** Every scenario file of generated-chart/ci must be listed above: a new one cannot go unproven. */
export function scenarioFiles(): string[] {
  return readdirSync(CI_DIR).filter((f) => f.endsWith("-values.yaml")).sort();
}

/** Run LANE's scenarios one after the other. */
export async function prepareScenarios(main: E2e, lane: Flavor): Promise<Map<string, ScenarioResult>> {
  const results = new Map<string, ScenarioResult>();
  for (const file of scenarioFiles()) {
    const s = SCENARIOS[file];
    if (!s || s.lane !== lane || s.elsewhere) continue;
    const r = await runScenario(main, file, s);
    results.set(file, r);
    main.record(`scenario ${file}: install to all Ready`, r.readySeconds * 1000, { verdict: r.outcomes.every((o) => o.ok) ? "pass" : "FAIL", totalSeconds: Math.round(r.totalSeconds) });
  }
  return results;
}

/** The shared proof of a release the suites install themselves from a scenario file; the failed promise's evidence, else undefined. */
export async function proveInstalled(e: E2e, helmTest: boolean): Promise<string | undefined> {
  const outcomes = await prove({ k: e.k, namespace: e.namespace, release: e.release, sts: e.sts, flavor: e.flavor, replicas: e.replicas, helmTest }, { readyTimeoutMs: 120_000, progress: () => undefined });
  const failed = outcomes.find((o) => !o.ok);
  return failed ? `${failed.promise}\n${failed.detail}` : undefined;
}

/** The scenario file a suite's own release is installed from. */
export const scenarioFile = (file: string) => join(CI_DIR, file);

export function scenarios(lane: Flavor, results: () => Promise<Map<string, ScenarioResult>>) {
  for (const file of scenarioFiles()) {
    const s = SCENARIOS[file];
    if (!s || s.lane !== lane || s.elsewhere) continue;
    const promise = s.promise ? `, and ${s.promise.name}` : "";
    const overrides = s.kind ? ` (kind: ${s.kind.why})` : "";
    it(`ci/${file}${overrides} passes the shared proof${promise}`, async () => {
      const r = (await results()).get(file);
      expect(r, `ci/${file} did not run`).toBeDefined();
      const failed = r!.outcomes.find((o) => !o.ok);
      expect(failed, failed ? `${failed.promise}\n${failed.detail}` : "").toBeUndefined();
    });
  }
}
