// Talking to the cluster, the one way every caller does (demo, cluster smoke test, publish-install,
// e2e): one kubeconfig rule, @kubernetes/client-node for reading state, kubectl for apply, exec and
// logs, test namespaces with one keep switch, and diagnose() for failures. Polling is wait.ts's.
// SQL runs inside a pod through the chart's own scripts (lib.sh's sql()).
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { cacheDir, toolPath } from "./tools.js";
import { waitFor } from "./wait.js";

export { sleep, waitFor } from "./wait.js";

export interface Kube {
  kubeconfig: string;
  core: CoreV1Api;
  apps: AppsV1Api;
}

/**
 * The kubeconfig, by one rule everywhere: env KUBECONFIG, else the file infra/cluster/up.sh
 * writes for the default cluster (CLUSTER_NAME, default mysql-chart).
 */
export function defaultKubeconfig(): string {
  if (process.env.KUBECONFIG) return process.env.KUBECONFIG;
  const file = join(cacheDir(), `kind-${process.env.CLUSTER_NAME ?? "mysql-chart"}.kubeconfig`);
  if (existsSync(file)) return file;
  throw new Error("No cluster: set KUBECONFIG, or run `npm run cluster:up` (it prints the path).");
}

/** A client for the cluster of KUBECONFIG (defaultKubeconfig()). */
export function connect(kubeconfig = defaultKubeconfig()): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { kubeconfig, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

/** Run kubectl against the cluster; throws with kubectl's stderr unless allowFailure. */
export async function kubectl(k: Kube, args: string[], opts: { input?: string; allowFailure?: boolean; timeoutMs?: number } = {}) {
  const r = await execa(toolPath("kubectl"), ["--kubeconfig", k.kubeconfig, ...args], {
    input: opts.input,
    reject: false,
    timeout: opts.timeoutMs ?? 120_000,
  });
  if (r.exitCode !== 0 && !opts.allowFailure) {
    throw new Error(`kubectl ${args.join(" ")} failed (exit ${r.exitCode}):\n${r.stderr}`);
  }
  return r;
}

/** The one switch that keeps test namespaces for debugging: KEEP_NAMESPACES=1. */
export const keepNamespaces = () => process.env.KEEP_NAMESPACES === "1";

/**
 * The label a namespace made during a run of the test command carries (value: that run's id, from
 * MYSQL_CHART_TEST_RUN). The next run deletes every namespace carrying it before its cluster tiers
 * (scripts/lib/tiers.sh), so an interrupted run's releases cannot hold the node's CPU.
 */
export const TEST_RUN_LABEL = "mysql-chart-toolkit/test-run";

/** A new namespace named PREFIX-<random>, once its default ServiceAccount (which pods need) exists. */
export async function createNamespace(k: Kube, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kubectl(k, ["create", "namespace", name]);
  const run = process.env.MYSQL_CHART_TEST_RUN;
  if (run) await kubectl(k, ["label", "namespace", name, `${TEST_RUN_LABEL}=${run}`]);
  await waitFor(`serviceaccount default in ${name}`, async () => (await kubectl(k, ["get", "serviceaccount", "default", "-n", name], { allowFailure: true })).exitCode === 0, {
    timeoutMs: 30_000,
    intervalMs: 500,
    quiet: true,
  });
  return name;
}

/**
 * Enforce the "restricted" Pod Security Standard on NAMESPACE: the API server then refuses any
 * pod (the chart's or a test's) that runs as root, keeps capabilities, may escalate, or has no
 * seccomp profile.
 */
export async function enforceRestricted(k: Kube, namespace: string): Promise<void> {
  await kubectl(k, ["label", "namespace", namespace, "--overwrite", "pod-security.kubernetes.io/enforce=restricted", "pod-security.kubernetes.io/enforce-version=latest"]);
}

/** The securityContext a test's own pods need under the restricted Pod Security Standard. */
export const RESTRICTED_POD = {
  pod: { runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  container: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
};

/** Delete NAMES without waiting for their finalisation, unless KEEP_NAMESPACES=1. */
export async function deleteNamespaces(k: Kube, names: string[]): Promise<void> {
  if (names.length === 0) return;
  if (keepNamespaces()) {
    console.log(`KEEP_NAMESPACES=1: leaving ${names.join(", ")} in place`);
    return;
  }
  await kubectl(k, ["delete", "namespace", "--wait=false", "--ignore-not-found", ...names], { allowFailure: true });
}

/** Apply a manifest (YAML or JSON text) in NAMESPACE. */
export async function apply(k: Kube, namespace: string, manifest: string): Promise<void> {
  await kubectl(k, ["apply", "-n", namespace, "-f", "-"], { input: manifest });
}

/** Run CMD in POD's first container; never throws (look at exitCode). */
export async function execIn(k: Kube, namespace: string, pod: string, cmd: string[], timeoutMs = 60_000) {
  return kubectl(k, ["exec", "-n", namespace, pod, "--", ...cmd], { allowFailure: true, timeoutMs });
}

/** Wait until POD exists and is Ready; on timeout throw with what diagnose() shows. */
export async function waitPodReady(k: Kube, namespace: string, pod: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(`pod ${namespace}/${pod} Ready`, async () => {
    const p = await k.core.readNamespacedPod({ name: pod, namespace }).catch(() => undefined);
    return p !== undefined && isReady(p);
  }, { timeoutMs, intervalMs: 1000, quiet: true }).catch(async (e: Error) => {
    throw new Error(`${e.message}\n${await diagnose(k, namespace, pod)}`);
  });
}

export function isReady(pod: V1Pod): boolean {
  return !!pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
}

/** Wait until pods 0..N-1 of the StatefulSet exist and are Ready (and no others run). */
export async function waitAllReady(k: Kube, namespace: string, sts: string, n: number, timeoutMs = 900_000, intervalMs?: number) {
  return waitFor(
    `${n} Ready pod(s) of ${sts}`,
    async () => {
      const pods = (await k.core.listNamespacedPod({ namespace })).items.filter((p) => p.metadata?.name?.startsWith(`${sts}-`) && /^\d+$/.test(p.metadata.name.slice(sts.length + 1)));
      const ready = pods.filter(isReady).length;
      return pods.length === n && ready === n ? true : undefined;
    },
    { timeoutMs, intervalMs },
  );
}

/** The UID of claim CLAIM, or "" when there is none. */
export async function claimUid(k: Kube, namespace: string, claim: string): Promise<string> {
  const r = await kubectl(k, ["get", "pvc", "-n", namespace, claim, "-o", "jsonpath={.metadata.uid}"], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout.trim() : "";
}

/**
 * Delete StatefulSet pod POD and its claim CLAIM, as a runbook does after losing a node with
 * local storage, and wait until the StatefulSet has made a new claim; returns the time the old
 * pod was gone (Date.now()), so what follows is timed without its shutdown. The StatefulSet may
 * recreate the pod while the old claim is still terminating; that pod would wait on it forever,
 * so it is deleted again until a new claim exists.
 */
export async function deletePodAndClaim(k: Kube, namespace: string, pod: string, claim: string, timeoutMs = 60_000): Promise<number> {
  const old = await claimUid(k, namespace, claim);
  if (!old) throw new Error(`claim ${claim} does not exist in ${namespace}`);
  await kubectl(k, ["delete", "pvc", "-n", namespace, claim, "--wait=false"]);
  await kubectl(k, ["delete", "pod", "-n", namespace, pod, "--wait=true"]);
  const gone = Date.now();
  await waitFor(`${claim} replaced by a new claim`, async () => {
    const uid = await claimUid(k, namespace, claim);
    if (uid !== "" && uid !== old) return true;
    if (uid === old) await kubectl(k, ["delete", "pod", "-n", namespace, pod, "--wait=false"], { allowFailure: true });
    return undefined;
  }, { timeoutMs, intervalMs: 2000 });
  return gone;
}

/** Run a bash snippet in POD's container with the chart's lib.sh and flavor.sh loaded and root's option file ready. */
export async function podScript(k: Kube, namespace: string, pod: string, container: string, body: string, input?: string) {
  const script = `set -euo pipefail; . /opt/mysql-chart/scripts/lib.sh; . /opt/mysql-chart/scripts/flavor.sh; ensure_root_cnf; ${body}`;
  return execScript(k, namespace, pod, container, script, { input });
}

const EXEC_END = "__exec_exit_status=";
// Input larger than this goes on stdin rather than in the command (an argument's limit is 128 KiB).
const INPUT_IN_COMMAND_MAX = 64 * 1024;

/**
 * The command execScript runs: SCRIPT (and INPUT) travel base64 in it, and SCRIPT runs at most once
 * per NONCE, keeping its output and exit status under a writable directory of the container, so a
 * repeated call replays the result (waiting for it while the first run is still going). Stdout ends
 * with a newline and EXEC_END<status>, the proof that the whole output arrived.
 */
export function execOnceCommand(nonce: string, script: string, input?: string): string {
  const feed = input === undefined ? "</dev/null" : input.length <= INPUT_IN_COMMAND_MAX ? `< <(base64 -d <<<'${Buffer.from(input).toString("base64")}')` : "";
  return [
    `s=$(base64 -d <<<'${Buffer.from(script).toString("base64")}')`,
    `d=; for x in /run/mysqld /tmp; do if [ -d "$x" ] && [ -w "$x" ]; then d=$x/.exec-${nonce}; break; fi; done`,
    // No writable directory: run it, still with the end marker.
    `if [ -z "$d" ]; then bash -c "$s" ${feed}; printf '\\n${EXEC_END}%s\\n' "$?"; exit 0; fi`,
    `if mkdir "$d" 2>/dev/null; then bash -c "$s" ${feed} >"$d/out" 2>"$d/err"; echo "$?" >"$d/rc.new"; mv "$d/rc.new" "$d/rc"; find "\${d%/*}" -maxdepth 1 -name '.exec-*' -mmin +30 -exec rm -rf {} + 2>/dev/null; fi`,
    `for ((i = 0; i < 3000; i++)); do [ -e "$d/rc" ] && break; sleep 0.2; done`,
    `cat "$d/out"; cat "$d/err" >&2; printf '\\n${EXEC_END}%s\\n' "$(cat "$d/rc" 2>/dev/null || echo 'still running')"`,
  ].join("\n");
}

/**
 * Split the end marker off STDOUT: the script's own output (its last newline dropped, as execa
 * drops it) and exit status, or undefined when the marker never arrived.
 */
export function parseExecEnd(stdout: string): { stdout: string; exitCode: number } | undefined {
  const m = /\n__exec_exit_status=(\d+)\n?$/.exec(stdout);
  return m ? { stdout: stdout.slice(0, m.index).replace(/\n$/, ""), exitCode: Number(m[1]) } : undefined;
}

/**
 * Run bash SCRIPT in POD (CONTAINER, else its first) with INPUT on stdin; never throws (look at
 * exitCode). Under load, kubectl exec has returned 0 with none of the command's output (twice in
 * CI: an empty SELECT, a refused write that looked accepted). The end marker tells a whole answer
 * from a lost one, and a lost one is asked for again under the same nonce, which replays the first
 * run's result instead of running the script twice (a write is never applied twice).
 */
export async function execScript(k: Kube, namespace: string, pod: string, container: string | undefined, script: string, opts: { input?: string; timeoutMs?: number } = {}) {
  const nonce = randomBytes(8).toString("hex");
  const onStdin = opts.input !== undefined && opts.input.length > INPUT_IN_COMMAND_MAX;
  const args = ["exec", ...(onStdin ? ["-i"] : []), "-n", namespace, pod, ...(container ? ["-c", container] : []), "--", "bash", "-c", execOnceCommand(nonce, script, opts.input)];
  for (let attempt = 1; ; attempt++) {
    const r = await kubectl(k, args, { input: onStdin ? opts.input : undefined, allowFailure: true, timeoutMs: opts.timeoutMs });
    const end = parseExecEnd(r.stdout);
    if (end) return { stdout: end.stdout, stderr: r.stderr, exitCode: end.exitCode };
    // kubectl's own failure (no such pod or container, timed out): the script's result is not coming.
    const lost = r.exitCode === 0 || /stream|websocket|connection reset|EOF/i.test(r.stderr);
    if (!lost || r.timedOut) return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode ?? -1 };
    if (attempt === 3) return { stdout: r.stdout, stderr: `kubectl exec into ${pod} returned without the command's end (3 times)\n${r.stderr}`, exitCode: -1 };
    process.stderr.write(`kubectl exec into ${pod}: the answer arrived incomplete (exit ${r.exitCode}); asking for it again\n`);
  }
}

/** SQL as root on POD (its database container CONTAINER), through the chart's own scripts. */
export async function podSql(k: Kube, namespace: string, pod: string, container: string, sql: string, opts: { allowFailure?: boolean } = {}) {
  const r = await podScript(k, namespace, pod, container, 'sql "$CLIENT_CNF"', sql);
  const err = r.stderr.trim();
  if (r.exitCode !== 0 && !opts.allowFailure) throw new Error(`SQL on ${pod} failed: ${err}\n  ${sql}`);
  return { out: r.stdout.trim(), err: err.split("\n").find((l) => /ERROR/.test(l)) ?? err, exitCode: r.exitCode ?? -1 };
}

export interface ReplicaStatus {
  io: string;
  sql: string;
  lag: string;
  source: string;
  lastErrno: string;
}

/** A replica's replication state (empty fields on a pod that replicates from nothing). */
export async function replicaStatus(k: Kube, namespace: string, pod: string, container: string): Promise<ReplicaStatus> {
  const body = `status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" "\${REPLICA_FIELD[io]}" "\${REPLICA_FIELD[sql]}" "\${REPLICA_FIELD[lag]}" "\${REPLICA_FIELD[source]}" Last_Errno`;
  const r = await podScript(k, namespace, pod, container, body);
  if (r.exitCode !== 0) throw new Error(`replication status of ${pod} failed: ${r.stderr.trim()}`);
  const [io = "", sql = "", lag = "", source = "", lastErrno = ""] = r.stdout.replace(/\n$/, "").split("\t");
  return { io, sql, lag, source, lastErrno };
}

/** What a person needs to see when a release fails: its pods, claims and events, then each pod's diagnose(). */
export async function diagnoseNamespace(k: Kube, namespace: string): Promise<string> {
  const overview = await kubectl(k, ["get", "pods,pvc,events", "-n", namespace, "-o", "wide"], { allowFailure: true });
  const pods = (await kubectl(k, ["get", "pods", "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}"], { allowFailure: true })).stdout.split(/\s+/).filter(Boolean);
  const parts = [overview.stdout || overview.stderr];
  for (const p of pods) parts.push(await diagnose(k, namespace, p));
  return parts.join("\n");
}

/** What a person needs to see when a promise fails: the pod's events and its containers' last log lines. */
export async function diagnose(k: Kube, namespace: string, pod: string, lines = 40): Promise<string> {
  const parts: string[] = [];
  const ev = await kubectl(k, ["get", "events", "-n", namespace, "--field-selector", `involvedObject.name=${pod}`, "--sort-by=.lastTimestamp"], { allowFailure: true });
  parts.push(`--- events of ${pod} ---\n${ev.stdout || ev.stderr}`);
  const spec = (await k.core.readNamespacedPod({ name: pod, namespace }).catch(() => undefined))?.spec;
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => c.name);
  for (const c of containers) {
    const r = await kubectl(k, ["logs", "-n", namespace, pod, "-c", c, `--tail=${lines}`], { allowFailure: true });
    if (r.exitCode === 0 && r.stdout.trim()) parts.push(`--- last ${lines} log lines of ${pod}/${c} ---\n${r.stdout}`);
  }
  return parts.join("\n");
}
