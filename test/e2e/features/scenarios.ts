// Every ci/ scenario of the chart installed and proven, as `npm run verify` proves a user's values:
// the shared SQL proof (scripts/lib/proof.ts: every pod Ready, pod 0 writable, the others read-only
// and replicating, a row on every pod, helm test), then the scenario's own promise. Each runs in a
// namespace of its own (restricted Pod Security), one after the other within a lane; each suite
// runs one lane beside its own releases, once its main release is Ready. Scenarios a suite's own
// release is installed from are proven there (elsewhere names where), not installed twice. What kind cannot run as written is overridden, and the
// override and its reason are part of the scenario's name; nothing is dropped silently. Every
// scenario runs the images built here for its flavor (no registry is reachable): ci/05's MariaDB
// 10.11 is built, ci/02's MySQL 8.4 is not, so ci/02 runs 9.7 and says so. Every scenario runs
// with CPU requests of 20m and quieter probes (QUIET_PROBES): the node is shared with both suites.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { expect, it } from "vitest";
import { helm } from "../../../scripts/lib/helm.js";
import { apply, createNamespace, deleteNamespaces, enforceRestricted, type Kube, kubectl, podScript, podSql, waitPodReady } from "../../../scripts/lib/kube.js";
import { check, type Outcome, podName, prove, type Target } from "../../../scripts/lib/proof.js";
import { chartDir, exporterImageValues, type Flavor, imageFor, imageValues, rcloneImageValues } from "../../../scripts/lib/release.js";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { cacheDir, versions } from "../../../scripts/lib/tools.js";
import { flavorOf, render } from "../../../scripts/verify.js";
import { CHART, type E2e, QUIET_PROBES } from "../context.js";
import { s3Values, startObjectStore } from "../object-store.js";

const RELEASE = "scn";
const CI_DIR = join(chartDir, "ci");

interface Scenario {
  /** Which suite runs it: the lanes are balanced by install time, not by flavor. */
  lane: Flavor;
  /** Values kind needs instead of the file's (some read from the cluster), and why. */
  kind?: { set: Record<string, string | number | boolean>; fromCluster?: (k: Kube) => Promise<Record<string, string>>; why: string };
  /** Set-up in the scenario's namespace before the install. */
  before?: (k: Kube, namespace: string) => Promise<void>;
  /** The scenario's own promise; SET is what the scenario was installed with besides its file, RECORD adds a measurement to the e2e report. */
  promise?: { name: string; run: (t: Target, set: Record<string, string>, record: E2e["record"]) => Promise<string> };
  /** Installed and proven elsewhere (the file names where). */
  elsewhere?: string;
}

/** SQL on pod ORDINAL that must answer EXPECTED. */
async function expectSql(t: Target, ordinal: number, q: string, expected: string): Promise<string> {
  const r = await podSql(t.k, t.namespace, podName(t, ordinal), t.flavor, q, { allowFailure: true });
  if (r.out !== expected) throw new Error(`${podName(t, ordinal)}: ${q} answered ${r.out || r.err}, expected ${expected}`);
  return `${podName(t, ordinal)}: ${r.out.replace(/\t/g, " ")}`;
}

/**
 * A bare pod (restricted, the flavor's image) with LABELS that tries TCP to HOST:PORT once a second
 * for SECONDS; "open after Ns" at the first success, else "closed". A new pod is admitted by the
 * NetworkPolicy controller a few seconds after it starts (CI saw a labelled pod's first try fail),
 * so a single try proves neither promise.
 */
async function tcpFrom(t: Target, name: string, labels: Record<string, string>, host: string, port: number, seconds: number): Promise<string> {
  const pod = {
    apiVersion: "v1", kind: "Pod", metadata: { name, namespace: t.namespace, labels },
    spec: {
      restartPolicy: "Never",
      securityContext: { runAsNonRoot: true, runAsUser: 999, seccompProfile: { type: "RuntimeDefault" } },
      containers: [{
        name: "probe", image: imageFor(t.flavor),
        imagePullPolicy: "IfNotPresent",
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
        command: ["bash", "-c", `until timeout 2 bash -c '</dev/tcp/${host}/${port}' 2>/dev/null; do if ((SECONDS >= ${seconds})); then echo closed; exit 0; fi; sleep 1; done; echo "open after \${SECONDS}s"`],
      }],
    },
  };
  await apply(t.k, t.namespace, JSON.stringify(pod));
  await kubectl(t.k, ["wait", "-n", t.namespace, `pod/${name}`, "--for=jsonpath={.status.phase}=Succeeded", `--timeout=${seconds + 60}s`]);
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
      // The labelled pod first, so the unlabelled one tries for well over what admission took.
      const admitted = await tcpFrom(t, "labelled", { [`${t.sts}-client`]: "true" }, host, 3306, 60);
      if (!admitted.startsWith("open")) throw new Error(`a pod with ${t.sts}-client=true did not reach ${host}:3306 within 60 s (${admitted})`);
      const tries = Math.max(20, 2 * Number(/\d+/.exec(admitted)![0]) + 5);
      const refused = await tcpFrom(t, "unlabelled", {}, host, 3306, tries);
      if (refused !== "closed") throw new Error(`a pod without the client label reached ${host}:3306 (${refused})`);
      return `labelled: ${admitted}; unlabelled: closed for ${tries} s`;
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
  "13-backup-values.yaml": {
    lane: "mariadb",
    before: (k, namespace) => backupClaim(k, namespace),
    promise: backupPromise("13-backup-values.yaml", { retentionAndRefusal: false, restoreFrom: { "restore.from.persistentVolumeClaim.claimName": "db-backups" } }),
  },
  "14-backup-mysql-values.yaml": {
    // The MariaDB lane has the time to spare (the MySQL lane holds ci/02's longer install).
    lane: "mariadb",
    // The S3 server the file's backup.s3 names (test/e2e/object-store.ts), with the user's Secrets.
    before: (k, namespace) => startObjectStore(k, namespace),
    // Retention and refusal are the flavor-independent backup-store.sh: proven here on S3, in the
    // fast tier on a directory.
    // backup.binlogs on: pod 0's sidecar archives its binary logs into the bucket as well.
    promise: backupPromise("14-backup-mysql-values.yaml", { retentionAndRefusal: true, restoreFrom: s3Values("restore.from.s3", "mysql/ci14"), binlogs: true, pointInTime: true }),
  },
};

/**
 * ci/13 and ci/14's promise, for the flavor of FILE: a backup now and a release restored from it
 * (RESTORE_FROM: the restore.from values of the file's destination); with retentionAndRefusal, three
 * backups of which the newest two are kept, and a refused restore.
 */
function backupPromise(file: string, { retentionAndRefusal, restoreFrom, binlogs = false, pointInTime = false }: { retentionAndRefusal: boolean; restoreFrom: Record<string, string>; binlogs?: boolean; pointInTime?: boolean }): Scenario["promise"] {
  const name = (retentionAndRefusal
    ? "a backup taken now (kubectl create job --from=cronjob) copies the replica and lists itself; retention keeps the newest two; a release restored from the latest holds the rows of backup time and passes the shared proof; a backup that is not there is refused with an Event"
    : "a backup taken now (kubectl create job --from=cronjob) copies the replica and lists itself; a release restored from it holds the rows of backup time and passes the shared proof")
    + (pointInTime ? "; a release restored to a time T (restore.pointInTime, the archived binary logs) holds exactly the rows acknowledged before T" : "");
  return { name, run: async (t, set, record) => {
    const rows = "CREATE DATABASE IF NOT EXISTS bk; CREATE TABLE bk.t (id INT PRIMARY KEY, v VARCHAR(100)); INSERT INTO bk.t WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000) SELECT n, REPEAT('x', 100) FROM s";
    await podSql(t.k, t.namespace, podName(t, 0), t.flavor, rows);
    const sums = await expectSameOnEveryPod(t, "CHECKSUM TABLE bk.t");
    const first = await backupNow(t, "backup-1");
    if (!first.source.startsWith(`${podName(t, 1)}.`)) throw new Error(`the backup did not copy the replica ${podName(t, 1)}:\n${first.log}`);
    // The README's way to list backups: the Job's log ends with them.
    if (!new RegExp(`^${first.name}  \\d+ bytes  from ${first.source}  at \\S`, "m").test(first.log)) throw new Error(`the backup Job's log does not list backup ${first.name}:\n${first.log}`);
    const tarMs = await plainTarMs(t, 1);
    record(`backup (ci/${file.slice(0, 2)}, ${t.flavor}, 1000 rows): kubectl create job to complete`, first.jobMs, { dataBytes: first.dataBytes, archiveBytes: first.archiveBytes, plainTarOfSameDataMs: tarMs, ratioToPlainTar: Number((first.jobMs / tarMs).toFixed(1)) });
    // Retention (keep.count 2): the third backup removes the first.
    let latest = first;
    let kept = "";
    if (retentionAndRefusal) {
      await backupNow(t, "backup-2");
      latest = await backupNow(t, "backup-3");
      const listed = [...latest.log.matchAll(/^(\d{8}T\d{6}Z)  \d+ bytes/gm)].map((m) => m[1]);
      if (listed.length !== 2 || listed.includes(first.name) || listed[1] !== latest.name) throw new Error(`retention 2 after three backups: the destination lists ${listed.join(", ")}; ${first.name} should be gone\n${latest.log}`);
      kept = `; after three, ${listed.join(" and ")} kept`;
    }
    let archived = "";
    if (binlogs) {
      // The rows above are in a binary log pod 0 closes and uploads at its next turn (every 10 s).
      const deadline = Date.now() + 90_000;
      for (;;) {
        const log = (await kubectl(t.k, ["logs", "-n", t.namespace, podName(t, 0), "-c", "replication"], { allowFailure: true })).stdout;
        const seen = [...log.matchAll(/archived binary log (\S+) \(\d+ bytes, sha256 [0-9a-f]{64}\) into (\S+) /g)];
        if (seen.length > 0) {
          archived = `; pod 0 archived ${seen.length} binary log(s) into ${seen[0][2]}`;
          break;
        }
        if (Date.now() > deadline) throw new Error(`pod 0 archived no binary log within 90 s:\n${log.split("\n").slice(-20).join("\n")}`);
        await new Promise((done) => setTimeout(done, 3000));
      }
    }
    // Written after the backups: the restore must not have it.
    await podSql(t.k, t.namespace, podName(t, 0), t.flavor, "INSERT INTO bk.t VALUES (1001, 'after the backup')");
    const pitr = pointInTime ? await writeAroundT(t) : undefined;
    const install = (release: string, extra: string[]) => {
      const args = ["install", release, chartDir, "--namespace", t.namespace, "--kubeconfig", t.k.kubeconfig, "--values", join(CI_DIR, file),
        "--set", "backup.enabled=false", ...Object.entries(restoreFrom).flatMap(([key, v]) => ["--set", `${key}=${v}`]), ...extra];
      for (const [key, v] of Object.entries(set)) args.push("--set", `${key}=${v}`);
      return helm(args, { timeoutMs: 300_000 });
    };
    const restored = "restored";
    const r: Target = { ...t, release: restored, sts: `${restored}-mysql` };
    const [failed, refusal] = await Promise.all([
      install(restored, []).then(async () => (await prove(r, { readyTimeoutMs: 600_000, progress: () => undefined })).find((o) => !o.ok)),
      retentionAndRefusal ? install("refused", ["--set", "replicas=1", "--set", "restore.from.backup=20000101T000000Z"]).then(() => podEvent(t, "refused-mysql-0", "RestoreRefused", 180)) : undefined,
    ]);
    if (failed) throw new Error(`the restored release: ${failed.promise}\n${failed.detail}`);
    await expectSql(r, 0, "CHECKSUM TABLE bk.t", sums);
    const restoredEvent = await podEvent(t, podName(r, 0), "Restored", 10);
    const took = new RegExp(`restored backup ${latest.name} .* in (\\d+)s`).exec(restoredEvent);
    if (!took) throw new Error(`the Restored Event does not name backup ${latest.name}: ${restoredEvent}`);
    record(`restore (ci/${file.slice(0, 2)}, ${t.flavor}): pod 0's prepare-data, checked, extracted and started`, Number(took[1]) * 1000, { archiveBytes: latest.archiveBytes });
    let refused = "";
    if (retentionAndRefusal) {
      if (!/backup 20000101T000000Z is refused: .*not a complete backup/.test(refusal ?? "")) throw new Error(`the RestoreRefused Event does not say why: ${refusal}`);
      refused = `; a missing backup refused: ${refusal}`;
    }
    let pointInTimeRestored = "";
    if (pitr) {
      // After the others, which are gone by then: beside them the node's load made other suites'
      // promises flaky (a rehearsal saw a password rotation's replica not Ready for 8 s).
      for (const release of [restored, ...(retentionAndRefusal ? ["refused"] : [])]) {
        await helm(["uninstall", release, "--namespace", t.namespace, "--kubeconfig", t.k.kubeconfig], { timeoutMs: 120_000 });
      }
      const p: Target = { ...t, release: "pitr", sts: "pitr-mysql", replicas: 1 };
      await install(p.release, ["--set", "replicas=1", "--set", `restore.pointInTime=${pitr.T}`]);
      await waitPodReady(t.k, t.namespace, podName(p, 0), 600_000);
      // Exactly the rows acknowledged before T: 1001 and the ten before it, none of the ten after.
      const before = ["1001", ...Array.from({ length: 10 }, (_, i) => String(2001 + i))].join(",");
      await expectSql(p, 0, "SELECT GROUP_CONCAT(id ORDER BY id) FROM bk.t WHERE id > 1000", before);
      const event = await podEvent(t, podName(p, 0), "Restored", 10);
      if (!event.includes(`then the archived binary logs up to ${pitr.T}`)) throw new Error(`the Restored Event of ${podName(p, 0)} does not name the point in time ${pitr.T}: ${event}`);
      pointInTimeRestored = `; release pitr restored to ${pitr.T} holds exactly the 11 rows acknowledged before it (none of the 10 after)`;
    }
    return `backup ${first.name} of ${first.source} in ${first.jobMs} ms (a plain tar of the same data: ${tarMs} ms), listed in the Job's log${kept}; release ${restored} restored from ${latest.name}: CHECKSUM TABLE bk.t equal to backup time (${sums.replace(/\t/g, " ")}), shared proof passed, Event: ${restoredEvent}${refused}${archived}${pointInTimeRestored}`;
  } };
}

/** The claim ci/13 and ci/14 back up into, made beforehand as a user would. */
async function backupClaim(k: Kube, namespace: string): Promise<void> {
  await apply(k, namespace, JSON.stringify({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "db-backups", namespace }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }));
}

/**
 * restore.pointInTime's writes on T's pod 0: ten rows (2001-2010) acknowledged, then T (the next
 * whole second: binary log events are timestamped to the second), then ten rows (3001-3010) over a
 * second after it. Returns T once the binary log holding the later rows is archived, so that the
 * archive holds both sides of T and only --stop-datetime keeps the later rows out.
 */
async function writeAroundT(t: Target): Promise<{ T: string }> {
  const inserts = (from: number, v: string) => Array.from({ length: 10 }, (_, i) => `INSERT INTO bk.t VALUES (${from + i}, '${v}');`).join(" ");
  await podSql(t.k, t.namespace, podName(t, 0), t.flavor, inserts(2001, "before T"));
  const tMs = Math.ceil((Date.now() + 1) / 1000) * 1000;
  const T = new Date(tMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  await new Promise((done) => setTimeout(done, tMs + 1200 - Date.now()));
  // The binary log open right after the last commit holds it (the same session asks).
  const status = await podSql(t.k, t.namespace, podName(t, 0), t.flavor, `${inserts(3001, "after T")} SHOW BINARY LOG STATUS;`);
  const holding = status.out.split("\t")[0];
  const deadline = Date.now() + 90_000;
  for (;;) {
    const log = (await kubectl(t.k, ["logs", "-n", t.namespace, podName(t, 0), "-c", "replication"], { allowFailure: true })).stdout;
    if (log.includes(`archived binary log ${holding} `)) return { T };
    if (Date.now() > deadline) throw new Error(`pod 0 did not archive ${holding} (which holds the writes after ${T}) within 90 s:\n${log.split("\n").slice(-20).join("\n")}`);
    await new Promise((done) => setTimeout(done, 2000));
  }
}

/** Run the backup CronJob of T now as Job NAME and wait for it: the backup's name, source, sizes, the Job's log and its duration. */
async function backupNow(t: Target, job: string) {
  await kubectl(t.k, ["create", "job", "-n", t.namespace, job, `--from=cronjob/${t.sts}-backup`]);
  const done = await kubectl(t.k, ["wait", "-n", t.namespace, `job/${job}`, "--for=condition=complete", "--timeout=300s"], { allowFailure: true });
  const log = (await kubectl(t.k, ["logs", "-n", t.namespace, `job/${job}`], { allowFailure: true })).stdout;
  if (done.exitCode !== 0) throw new Error(`the backup Job ${job} did not complete: ${done.stderr}\n${log}`);
  const copied = /backup (\d{8}T\d{6}Z): copying (\S+)/.exec(log);
  const complete = /complete: (\d+) bytes archived from (\d+) in /.exec(log);
  if (!copied || !complete) throw new Error(`the backup Job ${job}'s log does not say what it copied:\n${log}`);
  const status = JSON.parse((await kubectl(t.k, ["get", "-n", t.namespace, `job/${job}`, "-o", "jsonpath={.status}"])).stdout) as { startTime: string; completionTime: string };
  const jobMs = Date.parse(status.completionTime) - Date.parse(status.startTime);
  return { name: copied[1], source: copied[2], archiveBytes: Number(complete[1]), dataBytes: Number(complete[2]), log, jobMs };
}

/** Milliseconds a plain tar of pod ORDINAL's data directory takes on its node (the bound a backup is measured against). */
async function plainTarMs(t: Target, ordinal: number): Promise<number> {
  // tar exits 1 when a file changes while it is read (the server is running): still a full read.
  const r = await podScript(t.k, t.namespace, podName(t, ordinal), t.flavor, "t0=$(date +%s%N); { tar -C /var/lib/mysql -cf - data || test $? -eq 1; } | wc -c >/dev/null; echo $(( ($(date +%s%N) - t0) / 1000000 ))");
  const ms = Number(r.stdout.trim());
  if (r.exitCode !== 0 || !Number.isFinite(ms) || !r.stdout.trim()) throw new Error(`the plain tar on ${podName(t, ordinal)} failed (exit ${r.exitCode}): ${r.stdout} ${r.stderr}`);
  return ms;
}

/** The message of POD's newest Event with REASON in T's namespace, waiting up to SECONDS for one. */
async function podEvent(t: Target, pod: string, reason: string, seconds: number): Promise<string> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const got = (await kubectl(t.k, ["get", "events", "-n", t.namespace, "--field-selector", `involvedObject.name=${pod},reason=${reason}`, "-o", "jsonpath={.items[-1:].message}"], { allowFailure: true })).stdout.trim();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`no ${reason} Event on ${pod} within ${seconds}s`);
    await new Promise((done) => setTimeout(done, 2000));
  }
}

/** The answer to Q, the same on every pod of T (waits up to a minute for the replicas to catch up). */
async function expectSameOnEveryPod(t: Target, q: string): Promise<string> {
  const primary = (await podSql(t.k, t.namespace, podName(t, 0), t.flavor, q)).out;
  for (let i = 1; i < t.replicas; i++) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const got = (await podSql(t.k, t.namespace, podName(t, i), t.flavor, q, { allowFailure: true })).out;
      if (got === primary) break;
      if (Date.now() > deadline) throw new Error(`${podName(t, i)}: ${q} answered ${got}, the primary ${primary}`);
      await new Promise((done) => setTimeout(done, 1000));
    }
  }
  return primary;
}

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
  return { ...imageValues(flavor, ref), ...exporterImageValues(), ...rcloneImageValues() };
}

/** Install and prove one scenario in a namespace of its own, then remove it. */
export async function runScenario(main: E2e, file: string, s: Scenario): Promise<ScenarioResult> {
  const t0 = Date.now();
  const flavor = flavorOf([join(CI_DIR, file)]);
  const set: Record<string, string> = { ...localImages(file, flavor), "resources.server.requests.cpu": "20m", "resources.init.requests.cpu": "20m" };
  for (const [key, v] of Object.entries(QUIET_PROBES)) set[key] = String(v);
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
    if (s.promise && outcomes.every((o) => o.ok)) outcomes.push(await check(s.promise.name, () => s.promise!.run(t, set, (phase, ms, details) => main.record(phase, ms, details))));
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
