// One installed release per flavor, shared by the feature files in order (ordered steps tell
// a story), in a namespace of its own. Poll timeouts, the chart defaults the checks depend on,
// and the values every upgrade repeats live here, in one place. Each feature sets up the data it
// checks; what it expects of the release is said at the top of its file.
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { defaultsOf, loadSchema } from "../../scripts/generator/schema.js";
import { helm } from "../../scripts/lib/helm.js";
import { apply, connect, deleteNamespaces, diagnose, execScript, isReady, kubectl, type Kube, podScript, podSql, replicaStatus, RESTRICTED_POD, sleep, waitAllReady, waitFor, waitPodReady } from "../../scripts/lib/kube.js";
import { type Flavor, imageFor, upgradeInstall } from "../../scripts/lib/release.js";
import { LAYOUT, projectRoot, toolPath } from "../../scripts/lib/tools.js";
import { recordPhase } from "../helpers/report.js";

export const TIMEOUTS = {
  allReady: 900_000,
  replicate: 60_000,
  readiness: 60_000,
  /** A client's first acknowledged writes, or a statement retried until the server agrees. */
  settle: 60_000,
  rollout: 960_000,
  helmTest: 360_000,
  poll: 1000,
};

/** The chart's defaults, from the one source (values-schema/values.schema.json). */
const defaults = defaultsOf(loadSchema(join(projectRoot, LAYOUT.schemaFile))) as {
  service: { port: number };
  metrics: { port: number };
  serverIdOffset: number;
  terminationGracePeriodSeconds: number;
  probes: { readiness: { periodSeconds: number } };
  clone: { backupPort: number };
};
export const CHART = {
  port: defaults.service.port,
  metricsPort: defaults.metrics.port,
  serverIdOffset: defaults.serverIdOffset,
  gracePeriodMs: defaults.terminationGracePeriodSeconds * 1000,
  readinessPeriodMs: defaults.probes.readiness.periodSeconds * 1000,
  backupPort: defaults.clone.backupPort,
};

/**
 * The my.cnf line the upgrade feature adds. Every later upgrade repeats it: a different
 * config.common would change the config checksum and roll every pod again.
 */
export const UPGRADED_CONFIG = { "config.common": "max_connections=345", "tls.requireSecureTransport": true };

/**
 * CPU requests of every release of the suites: both flavors' suites run side by side on the
 * 2-core node (with the control plane's 0.9 core of requests), and a pod the scheduler cannot
 * place would wait for good. The servers use what they need regardless of the request.
 */
export const SHARED_NODE = { "resources.server.requests.cpu": "40m", "resources.init.requests.cpu": "40m" };

/**
 * Probe periods of the releases beside the main ones (side releases, ci/ scenarios). Every exec
 * probe is a container exec the node pays for (about 0.1 CPU-second with its SQL): a release idles
 * at about 0.065 core per pod with the chart's periods (readiness 5 s, liveness 10 s; measured
 * with /proc/stat on an idle 3-pod release). With some twenty such pods of both suites on the
 * 2-core node, the node ran at full load (load average 68), probes timed out, and the main
 * releases' promises about readiness failed. The main releases keep the chart's periods.
 */
export const QUIET_PROBES = { "probes.readiness.periodSeconds": 10, "probes.liveness.periodSeconds": 30 };

/** Values of the small releases that run beside the main one (Secret scenarios, version upgrades): no helm test pod, lower CPU requests still, quieter probes. */
export const SIDE_RELEASE = { "tests.enabled": false, "resources.server.requests.cpu": "20m", "resources.init.requests.cpu": "20m", ...QUIET_PROBES };

export class E2e {
  readonly k: Kube;
  /** The StatefulSet's name: the chart's fullname (the release name when it contains "mysql"). */
  readonly sts: string;
  readonly container: string;
  readonly suite: string;
  replicas = 3;
  /** Values every upgrade() of this release passes, on top of the suite's standard ones. */
  baseSet: Record<string, string | number | boolean> = {};
  /** The chart upgrade() installs (default generated-chart/) and the image (default the flavor's). */
  chart?: string;
  image?: string;
  /** Values files every upgrade() passes (before the --set values). */
  valuesFiles: string[] = [];

  constructor(
    readonly flavor: Flavor,
    readonly namespace: string,
    readonly release = "mysql",
  ) {
    this.k = connect();
    this.sts = release.includes("mysql") ? release : `${release}-mysql`;
    this.container = flavor;
    this.suite = `${flavor} (${imageFor(flavor)})`;
  }

  pod(ordinal: number) {
    return `${this.sts}-${ordinal}`;
  }

  host(ordinal: number) {
    return `${this.sts}-${ordinal}.${this.sts}`;
  }

  /** The name the chart's own pods use for pod ORDINAL (the form the release's certificate covers). */
  peerHost(ordinal: number) {
    return `${this.host(ordinal)}.${this.namespace}`;
  }

  record(phase: string, ms: number, details: Record<string, string | number> = {}) {
    recordPhase(this.suite, phase, ms, details);
  }

  /** Install or upgrade the release with the test's standard values plus SET. */
  async upgrade(set: Record<string, string | number | boolean> = {}) {
    return upgradeInstall({
      release: this.release,
      namespace: this.namespace,
      flavor: this.flavor,
      kubeconfig: this.k.kubeconfig,
      chart: this.chart,
      image: this.image,
      valuesFiles: this.valuesFiles,
      set: { replicas: this.replicas, "auth.username": "app", "auth.database": "appdb", ...this.baseSet, ...set },
    });
  }

  async waitAllReady(n = this.replicas) {
    return waitAllReady(this.k, this.namespace, this.sts, n, TIMEOUTS.allReady);
  }

  /** SQL as root on pod ORDINAL (through its own socket). */
  async sql(ordinal: number, q: string) {
    return (await podSql(this.k, this.namespace, this.pod(ordinal), this.container, q)).out;
  }

  async replicaStatus(ordinal: number) {
    return replicaStatus(this.k, this.namespace, this.pod(ordinal), this.container);
  }

  async trySql(ordinal: number, q: string) {
    return podSql(this.k, this.namespace, this.pod(ordinal), this.container, q, { allowFailure: true });
  }

  /** Poll Q on pod ORDINAL until it returns EXPECTED. */
  async waitSql(ordinal: number, q: string, expected: string, timeoutMs = TIMEOUTS.replicate) {
    return waitFor(`${q} = ${expected} on ${this.pod(ordinal)}`, async () => ((await this.trySql(ordinal, q)).out === expected ? true : undefined), {
      timeoutMs,
      intervalMs: TIMEOUTS.poll,
    });
  }

  /**
   * A pod outside the release (not matching its selector), running the flavor's image, ready to
   * exec into: in the release's namespace with the client, the Secret, the release's CA and the scripts; in another
   * NAMESPACE a bare one. COMMAND replaces its idle loop.
   */
  async startPod(name: string, opts: { labels?: Record<string, string>; namespace?: string; command?: string[] } = {}) {
    const namespace = opts.namespace ?? this.namespace;
    const files = namespace === this.namespace;
    const manifest = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, labels: { app: "e2e-client", ...opts.labels } },
      spec: {
        terminationGracePeriodSeconds: 1,
        securityContext: RESTRICTED_POD.pod,
        containers: [
          {
            name: "client",
            securityContext: RESTRICTED_POD.container,
            image: imageFor(this.flavor),
            imagePullPolicy: process.env.IMAGE_PULL_POLICY ?? "IfNotPresent",
            command: opts.command ?? ["bash", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"],
            env: [
              { name: "STATEFULSET_NAME", value: this.sts },
              { name: "HEADLESS_SERVICE", value: this.sts },
            ],
            volumeMounts: files
              ? [
                  { name: "scripts", mountPath: "/opt/mysql-chart/scripts" },
                  { name: "secrets", mountPath: "/etc/mysql-chart/secrets" },
                  { name: "tls", mountPath: "/etc/mysql-chart/tls" },
                  { name: "run", mountPath: "/run/mysqld" },
                ]
              : [],
          },
        ],
        volumes: files
          ? [
              { name: "scripts", configMap: { name: `${this.sts}-scripts`, defaultMode: 0o555 } },
              { name: "secrets", secret: { secretName: this.sts, defaultMode: 0o440 } },
              // The release's CA only, as a client verifying the servers has it.
              { name: "tls", secret: { secretName: `${this.sts}-tls`, defaultMode: 0o440, items: [{ key: "ca.crt", path: "ca.crt" }] } },
              { name: "run", emptyDir: {} },
            ]
          : [],
      },
    };
    await apply(this.k, namespace, JSON.stringify(manifest));
    await waitPodReady(this.k, namespace, name);
  }

  /** The client pod SQL is run from (see startPod). */
  async startClient(name = "client", labels: Record<string, string> = {}) {
    await this.startPod(name, { labels });
  }

  /** Run SQL from the client pod over TCP to HOST as USER (root or app); never throws. */
  async clientSql(host: string, q: string, opts: { user?: "root" | "app" | "clone"; client?: string; password?: string; timeoutMs?: number } = {}) {
    const user = opts.user ?? "root";
    const key = { root: "mysql-root-password", app: "mysql-password", clone: "mysql-clone-password" }[user];
    // A failed read_secret must stop here, not log in with an empty password (set -e applies to an assignment).
    const pw = opts.password !== undefined ? `'${opts.password}'` : `$(read_secret ${key})`;
    // execScript sends the SQL in the command and tells a lost answer from a whole one: under load
    // kubectl exec has lost both stdin and output, and a refused write would then look accepted.
    const body = `set -euo pipefail; . /opt/mysql-chart/scripts/lib.sh; . /opt/mysql-chart/scripts/flavor.sh; pw=${pw}; f=$(mktemp -p /run/mysqld); write_client_cnf "$f" ${user} "$pw" ${host} ${CHART.port}; sql "$f" --connect-timeout=5`;
    const r = await execScript(this.k, this.namespace, opts.client ?? "client", undefined, body, { input: q, timeoutMs: opts.timeoutMs ?? 60_000 });
    return { out: r.stdout.trim(), err: r.stderr.trim(), exitCode: r.exitCode ?? -1 };
  }

  /** Does USER log in with PASSWORD on pod ORDINAL through its local socket (as kubectl exec users do)? */
  async socketLogin(ordinal: number, user: string, password: string): Promise<boolean> {
    const body = `read -r pw; f=$(mktemp -p /run/mysqld); write_client_cnf "$f" ${user} "$pw"; sql "$f" <<<"SELECT 1"; rc=$?; rm -f "$f"; exit $rc`;
    const r = await podScript(this.k, this.namespace, this.pod(ordinal), this.container, body, `${password}\n`);
    return r.exitCode === 0;
  }

  /**
   * SQL over TCP from pod FROM's sidecar, as a member of the release (presenting its certificate),
   * to pod ORDINAL as USER (default root, which over the network only members may be); never throws.
   */
  async memberSql(from: number, ordinal: number, q: string, user: "root" | "replicator" | "clone" = "root") {
    const key = { root: "mysql-root-password", replicator: "mysql-replication-password", clone: "mysql-clone-password" }[user];
    const body = `pw=$(read_secret ${key}); f=$(mktemp -p /run/mysqld); write_member_cnf "$f" ${user} "$pw" ${this.peerHost(ordinal)}; sql "$f" --connect-timeout=5; rc=$?; rm -f "$f"; exit $rc`;
    const r = await podScript(this.k, this.namespace, this.pod(from), "replication", body, q);
    return { out: r.stdout.trim(), err: r.stderr.trim(), exitCode: r.exitCode ?? -1 };
  }

  /**
   * A client that inserts rows 1..COUNT into TABLE (id INT PRIMARY KEY) on the primary, one every
   * INTERVAL ms, retrying each until acknowledged or the deadline; prints "ack N" per acknowledged row.
   */
  startWriter(count: number, intervalMs = 200, table = "appdb.writes"): { proc: ResultPromise; acked: () => number[] } {
    const body = `. /opt/mysql-chart/scripts/lib.sh; . /opt/mysql-chart/scripts/flavor.sh
      pw=$(read_secret mysql-password) || exit 1
      write_client_cnf /run/mysqld/w.cnf app "$pw" ${this.host(0)} ${CHART.port} || exit 1
      for i in $(seq 1 ${count}); do
        for try in $(seq 1 300); do
          if sql /run/mysqld/w.cnf --connect-timeout=2 <<<"INSERT INTO ${table} (id) VALUES ($i)" 2>/dev/null; then echo "ack $i"; break; fi
          if sql /run/mysqld/w.cnf --connect-timeout=2 <<<"SELECT COUNT(*) FROM ${table} WHERE id = $i" 2>/dev/null | grep -qx 1; then echo "ack $i"; break; fi
          sleep 0.5
        done
        sleep ${intervalMs / 1000}
      done`;
    const proc = execa(toolPath("kubectl"), ["--kubeconfig", this.k.kubeconfig, "exec", "-n", this.namespace, "client", "--", "bash", "-c", body], { reject: false });
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    return { proc, acked: () => [...out.matchAll(/^ack (\d+)$/gm)].map((m) => Number(m[1])) };
  }

  /**
   * Write COUNT rows into TABLE (emptied first) while DISRUPT runs, once the first rows are
   * acknowledged; returns the acknowledged ids, once the writer is done, and DISRUPT's duration.
   */
  async underWrites(count: number, table: string, disrupt: () => Promise<void>) {
    await this.sql(0, `CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE IF NOT EXISTS ${table} (id INT PRIMARY KEY, at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)); DELETE FROM ${table};`);
    const writer = this.startWriter(count, 200, table);
    await waitFor("the writer's first rows", async () => writer.acked().length >= 5 || undefined, { timeoutMs: TIMEOUTS.settle });
    const t0 = Date.now();
    await disrupt();
    const ms = Date.now() - t0;
    await writer.proc;
    return { acked: writer.acked(), ms };
  }

  /** Not-Ready pods (name and time) among ORDINALS (default: all) seen while WORK runs, sampled every second. */
  async notReadyDuring(work: () => Promise<void>, ordinals?: number[]): Promise<string[]> {
    const watched = new Set((ordinals ?? [...Array(this.replicas).keys()]).map((i) => this.pod(i)));
    const seen = new Set<string>();
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const pods = (await this.k.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `app.kubernetes.io/instance=${this.release}` })).items;
        for (const p of pods) if (watched.has(p.metadata?.name ?? "") && !isReady(p)) seen.add(`${p.metadata?.name} at ${new Date().toISOString()}`);
        await sleep(1000);
      }
    })();
    try {
      await work();
    } finally {
      done = true;
      await sampler;
    }
    return [...seen];
  }

  /** Wait until every pod holds every one of IDS in TABLE. */
  async everyPodHas(ids: number[], table = "appdb.writes") {
    const max = Math.max(...ids);
    for (let i = 0; i < this.replicas; i++) {
      await waitFor(`all ${ids.length} acknowledged rows of ${table} on ${this.pod(i)}`, async () => {
        const have = new Set((await this.trySql(i, `SELECT id FROM ${table} WHERE id <= ${max}`)).out.split("\n").map(Number));
        return ids.every((id) => have.has(id)) ? true : undefined;
      }, { timeoutMs: TIMEOUTS.replicate });
    }
  }

  /** The inode of each pod's data directory, by ordinal: a clone renames a new directory into place. */
  async dataDirs(): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < this.replicas; i++) {
      const r = await kubectl(this.k, ["exec", "-n", this.namespace, this.pod(i), "-c", this.container, "--", "stat", "-c", "%i", "/var/lib/mysql/data"]);
      out.push(r.stdout.trim());
    }
    return out;
  }

  /** Print what a person needs to see for every pod of the release. */
  async diagnoseAll() {
    for (let i = 0; i < this.replicas; i++) console.log(await diagnose(this.k, this.namespace, this.pod(i)));
  }

  async helmTest() {
    return helm(["test", this.release, "--namespace", this.namespace, "--kubeconfig", this.k.kubeconfig, "--logs", "--timeout", `${TIMEOUTS.helmTest / 1000 - 60}s`], { allowFailure: true, timeoutMs: TIMEOUTS.helmTest });
  }

  async deleteNamespace() {
    await deleteNamespaces(this.k, [this.namespace]);
  }
}
