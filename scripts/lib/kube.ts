// Talking to the cluster: @kubernetes/client-node for reading state (pods, readiness, events),
// kubectl for exec and logs, and one polling helper with progress, used by the demo and the
// e2e suite alike. SQL runs inside a pod through the chart's own scripts (lib.sh's sql()).
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { execa } from "execa";
import { toolPath } from "./tools.js";

export interface Kube {
  kubeconfig: string;
  core: CoreV1Api;
  apps: AppsV1Api;
}

/** A client for the cluster of KUBECONFIG. */
export function connect(kubeconfig = process.env.KUBECONFIG ?? ""): Kube {
  if (!kubeconfig) throw new Error("KUBECONFIG is not set: point it at the cluster (npm run cluster:up prints the path)");
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

export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/**
 * Poll CHECK until it returns a value other than undefined/false; print progress every 15 s.
 * Returns the value and how long it took. Throws naming WHAT (and CHECK's last note) on timeout.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; quiet?: boolean } = {},
): Promise<{ value: T; ms: number }> {
  const timeout = opts.timeoutMs ?? 300_000;
  const interval = opts.intervalMs ?? 2000;
  const t0 = Date.now();
  let lastReport = t0;
  let lastError = "";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return { value: v as T, ms: Date.now() - t0 };
    } catch (e) {
      lastError = (e as Error).message.split("\n")[0];
    }
    const now = Date.now();
    if (now - t0 > timeout) throw new Error(`timed out after ${Math.round((now - t0) / 1000)}s waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`);
    if (!opts.quiet && now - lastReport >= 15_000) {
      console.log(`  ... waiting for ${what} (${Math.round((now - t0) / 1000)}s)`);
      lastReport = now;
    }
    await sleep(interval);
  }
}

export function isReady(pod: V1Pod): boolean {
  return !!pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
}

/** The release's pods, by ordinal. */
export async function releasePods(k: Kube, namespace: string, instance: string): Promise<V1Pod[]> {
  const list = await k.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${instance},app.kubernetes.io/name=mysql` });
  const ordinal = (p: V1Pod) => Number(p.metadata?.name?.split("-").pop());
  return list.items.filter((p) => p.metadata?.labels?.["helm.sh/chart"] !== undefined && !Number.isNaN(ordinal(p))).sort((a, b) => ordinal(a) - ordinal(b));
}

/** Wait until pods 0..N-1 of the StatefulSet exist and are Ready (and no others run). */
export async function waitAllReady(k: Kube, namespace: string, sts: string, n: number, timeoutMs = 900_000) {
  return waitFor(
    `${n} Ready pod(s) of ${sts}`,
    async () => {
      const pods = (await k.core.listNamespacedPod({ namespace })).items.filter((p) => p.metadata?.name?.startsWith(`${sts}-`) && /^\d+$/.test(p.metadata.name.slice(sts.length + 1)));
      const ready = pods.filter(isReady).length;
      return pods.length === n && ready === n ? true : undefined;
    },
    { timeoutMs },
  );
}

/** Run a bash snippet in POD's container with the chart's lib.sh and flavor.sh loaded and root's option file ready. */
export async function podScript(k: Kube, namespace: string, pod: string, container: string, body: string, input?: string) {
  const script = `set -euo pipefail; . /opt/mysql-chart/scripts/lib.sh; . /opt/mysql-chart/scripts/flavor.sh; ensure_root_cnf; ${body}`;
  return kubectl(k, ["exec", "-i", "-n", namespace, pod, "-c", container, "--", "bash", "-c", script], { input, allowFailure: true });
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
  const host = container === "mysql" ? "Source_Host" : "Master_Host";
  const body = `status_fields "$CLIENT_CNF" "$REPLICA_STATUS_SQL" "$REPLICA_IO_FIELD" "$REPLICA_SQL_FIELD" "$REPLICA_LAG_FIELD" ${host} Last_Errno`;
  const r = await podScript(k, namespace, pod, container, body);
  if (r.exitCode !== 0) throw new Error(`replication status of ${pod} failed: ${r.stderr.trim()}`);
  const [io = "", sql = "", lag = "", source = "", lastErrno = ""] = r.stdout.replace(/\n$/, "").split("\t");
  return { io, sql, lag, source, lastErrno };
}

/** What a person needs to see when a promise fails: the pod's events and its containers' last log lines. */
export async function diagnose(k: Kube, namespace: string, pod: string, lines = 40): Promise<string> {
  const parts: string[] = [];
  const ev = await kubectl(k, ["get", "events", "-n", namespace, "--field-selector", `involvedObject.name=${pod}`, "--sort-by=.lastTimestamp"], { allowFailure: true });
  parts.push(`--- events of ${pod} ---\n${ev.stdout || ev.stderr}`);
  for (const c of ["choose-config", "prepare-data", "mysql", "mariadb", "replication"]) {
    const r = await kubectl(k, ["logs", "-n", namespace, pod, "-c", c, `--tail=${lines}`], { allowFailure: true });
    if (r.exitCode === 0 && r.stdout.trim()) parts.push(`--- last ${lines} log lines of ${pod}/${c} ---\n${r.stdout}`);
  }
  return parts.join("\n");
}
