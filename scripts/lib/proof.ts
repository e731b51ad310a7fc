// The SQL proof of an installed release, one promise after another, each with its evidence when it
// fails: what `npm run verify` checks for a user's values (scripts/verify.ts), and the demo's
// per-pod table. A promise that fails stops the proof: the ones after it depend on it.
import type { V1Pod } from "@kubernetes/client-node";
import { helm } from "./helm.js";
import { FLAVORS, type Flavor } from "./flavors.js";
import { diagnose, isReady, type Kube, kubectl, podSql, replicaStatus } from "./kube.js";
import { formatTable } from "./table.js";
import { sleep, waitFor } from "./wait.js";

/** The release under proof. */
export interface Target {
  k: Kube;
  namespace: string;
  release: string;
  /** The StatefulSet's name (the chart's fullname). */
  sts: string;
  flavor: Flavor;
  replicas: number;
  /** Whether the chart renders its helm test pod (tests.enabled). */
  helmTest: boolean;
}

export interface Outcome {
  promise: string;
  ok: boolean;
  /** Seconds the check took. */
  seconds: number;
  /** What was seen: a short line when it held, the evidence (events, log lines) when it did not. */
  detail: string;
}

/** Where the proof writes: a database of its own on the release. */
export const PROOF_DB = "mysql_chart_verify";

export const podName = (t: Target, ordinal: number) => `${t.sts}-${ordinal}`;
/** How long a Ready replica may take to have both replication threads running (the cluster DNS may still answer a restarted primary's old address for its cache time, 30 s in kind). */
const REPLICATING_WITHIN_MS = 60_000;

/** The pods of the StatefulSet, by ordinal. */
export async function statefulPods(t: Target): Promise<V1Pod[]> {
  const pods = (await t.k.core.listNamespacedPod({ namespace: t.namespace })).items.filter((p) => new RegExp(`^${t.sts}-\\d+$`).test(p.metadata?.name ?? ""));
  return pods.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!, undefined, { numeric: true }));
}

/** A pod whose containers keep failing: restarted twice, or an init container that exited in error twice. */
function broken(p: V1Pod): string | undefined {
  for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const waiting = s.state?.waiting?.reason;
    if (s.restartCount >= 2 || waiting === "CrashLoopBackOff" || waiting === "CreateContainerConfigError" || waiting === "ErrImagePull" || waiting === "ImagePullBackOff" || waiting === "InvalidImageName") {
      return `container ${s.name} of ${p.metadata?.name}: ${waiting ?? "running"}, restarted ${s.restartCount} time(s)`;
    }
  }
  return undefined;
}

/**
 * Wait until the release's N pods are Ready; fail at once, with that pod's evidence, when one keeps
 * failing (a server that rejects its configuration never becomes Ready: no use waiting it out).
 */
export async function waitReadyOrBroken(t: Target, timeoutMs: number, progress: (msg: string) => void): Promise<Outcome> {
  const t0 = Date.now();
  const promise = `every pod Ready (${t.replicas})`;
  let lastReport = t0;
  for (;;) {
    const pods = await statefulPods(t);
    const ready = pods.filter(isReady).map((p) => p.metadata!.name!);
    if (pods.length === t.replicas && ready.length === t.replicas) {
      return { promise, ok: true, seconds: (Date.now() - t0) / 1000, detail: `${ready.length} Ready after ${Math.round((Date.now() - t0) / 1000)}s` };
    }
    for (const p of pods) {
      const why = broken(p);
      if (why) return { promise, ok: false, seconds: (Date.now() - t0) / 1000, detail: `${why}\n${await diagnose(t.k, t.namespace, p.metadata!.name!, 15)}` };
    }
    if (Date.now() - t0 >= timeoutMs) {
      const stuck = pods.find((p) => !isReady(p));
      const evidence = stuck ? await diagnose(t.k, t.namespace, stuck.metadata!.name!, 15) : `only ${pods.length} pod(s) exist: ${(await kubectl(t.k, ["get", "events", "-n", t.namespace, "--sort-by=.lastTimestamp"], { allowFailure: true })).stdout}`;
      return { promise, ok: false, seconds: (Date.now() - t0) / 1000, detail: `not Ready after ${Math.round(timeoutMs / 1000)}s (Ready: ${ready.join(", ") || "none"})\n${evidence}` };
    }
    if (Date.now() - lastReport >= 15_000) {
      progress(`waiting for ${t.replicas} Ready pod(s): ${ready.length} Ready, ${pods.length} exist`);
      lastReport = Date.now();
    }
    await sleep(1000);
  }
}

const sql = (t: Target, ordinal: number, q: string) => podSql(t.k, t.namespace, podName(t, ordinal), t.flavor, q, { allowFailure: true });

/** Run CHECK as the promise PROMISE: its string is the detail; a thrown error fails it with the error's text. */
export async function check(promise: string, run: () => Promise<string>): Promise<Outcome> {
  const t0 = Date.now();
  try {
    const detail = await run();
    return { promise, ok: true, seconds: (Date.now() - t0) / 1000, detail };
  } catch (e) {
    return { promise, ok: false, seconds: (Date.now() - t0) / 1000, detail: (e as Error).message };
  }
}

/** The promises after readiness: roles, replication, a row everywhere, helm test. */
function sqlPromises(t: Target): [string, () => Promise<string>][] {
  const token = `verified at ${new Date().toISOString()}`;
  return [
    ["pod 0 takes writes", async () => {
      const r = await sql(t, 0, `CREATE DATABASE IF NOT EXISTS ${PROOF_DB}; CREATE TABLE IF NOT EXISTS ${PROOF_DB}.proof (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(128)); INSERT INTO ${PROOF_DB}.proof (note) VALUES ('${token}');`);
      if (r.exitCode !== 0) throw new Error(`the write on ${podName(t, 0)} failed: ${r.err}`);
      return `a row written on ${podName(t, 0)}`;
    }],
    ["every other pod is read-only and replicates (both threads running)", async () => {
      const seen: string[] = [];
      for (let i = 1; i < t.replicas; i++) {
        const ro = (await sql(t, i, FLAVORS[t.flavor].readOnlyQuery)).out.split("\t");
        if (!ro.includes("1")) throw new Error(`${podName(t, i)} is not read-only (${FLAVORS[t.flavor].readOnlyQuery}: ${ro.join(" ")})`);
        // A Ready replica may still be reconnecting to a primary that has just restarted (its new
        // address reaches the replica once the cluster DNS cache expires): it must be replicating
        // within REPLICATING_WITHIN_MS.
        const t0 = Date.now();
        let s = await replicaStatus(t.k, t.namespace, podName(t, i), t.flavor);
        while ((s.io !== "Yes" || s.sql !== "Yes") && Date.now() - t0 < REPLICATING_WITHIN_MS) {
          await new Promise((done) => setTimeout(done, 2000));
          s = await replicaStatus(t.k, t.namespace, podName(t, i), t.flavor);
        }
        if (s.io !== "Yes" || s.sql !== "Yes") {
          throw new Error(`${podName(t, i)} replicates from ${s.source || "nothing"} with io=${s.io || "-"} sql=${s.sql || "-"} (last error ${s.lastErrno || "-"}) after ${Math.round((Date.now() - t0) / 1000)}s\n${await diagnose(t.k, t.namespace, podName(t, i), 15)}`);
        }
        seen.push(`${podName(t, i)} from ${s.source}${Date.now() - t0 > 2000 ? ` (both threads running after ${Math.round((Date.now() - t0) / 1000)}s)` : ""}`);
      }
      return seen.length ? seen.join("; ") : "no replica (one pod)";
    }],
    ["the row written on pod 0 is read back on every pod", async () => {
      const took: string[] = [];
      for (let i = 1; i < t.replicas; i++) {
        const { ms } = await waitFor(`the row on ${podName(t, i)}`, async () => (await sql(t, i, `SELECT COUNT(*) FROM ${PROOF_DB}.proof WHERE note = '${token}'`)).out === "1" || undefined, { timeoutMs: 60_000, intervalMs: 500, quiet: true });
        took.push(`${podName(t, i)} ${ms} ms`);
      }
      return took.length ? took.join(", ") : "one pod";
    }],
    ["helm test passes", async () => {
      if (!t.helmTest) return "skipped: tests.enabled is false";
      const r = await helm(["test", t.release, "--namespace", t.namespace, "--kubeconfig", t.k.kubeconfig, "--logs", "--timeout", "300s"], { allowFailure: true, timeoutMs: 360_000 });
      if (r.exitCode !== 0) throw new Error(`helm test failed:\n${(r.stdout + r.stderr).split("\n").slice(-25).join("\n")}`);
      return "passed";
    }],
  ];
}

/** Every promise in order, stopping at the first that fails; PROGRESS is told each step. */
export async function prove(t: Target, o: { readyTimeoutMs: number; progress: (msg: string) => void }): Promise<Outcome[]> {
  o.progress(`waiting for ${t.replicas} Ready pod(s) of ${t.sts}`);
  const outcomes = [await waitReadyOrBroken(t, o.readyTimeoutMs, o.progress)];
  if (!outcomes[0].ok) return outcomes;
  for (const [promise, run] of sqlPromises(t)) {
    o.progress(`checking: ${promise}`);
    const outcome = await check(promise, run);
    outcomes.push(outcome);
    if (!outcome.ok) break;
  }
  return outcomes;
}

/** One row per pod: role, server_id, read-only, Ready, replication threads, lag, GTID state. */
export async function podTable(t: Target): Promise<string> {
  const rows: Record<string, string>[] = [];
  for (const p of await statefulPods(t)) {
    const name = p.metadata!.name!;
    const ro = await podSql(t.k, t.namespace, name, t.flavor, `${FLAVORS[t.flavor].readOnlyQuery}, ${FLAVORS[t.flavor].gtidQuery.replace(/^SELECT /, "")}, @@server_id`, { allowFailure: true });
    const [readOnly = "?", superReadOnly = "?", gtid = "?", serverId = "?"] = ro.exitCode === 0 ? ro.out.split("\t") : [];
    const s = await replicaStatus(t.k, t.namespace, name, t.flavor).catch(() => undefined);
    rows.push({
      pod: name,
      role: name.endsWith("-0") ? "primary" : "replica",
      server_id: serverId,
      read_only: readOnly === "1" || superReadOnly === "1" ? "yes" : readOnly === "?" ? "?" : "no",
      Ready: isReady(p) ? "yes" : "no",
      replication: s?.source ? `io=${s.io} sql=${s.sql}` : "-",
      seconds_behind: s?.source ? s.lag : "-",
      gtid: gtid.replace(/\\n/g, ""),
    });
  }
  return formatTable(rows);
}
