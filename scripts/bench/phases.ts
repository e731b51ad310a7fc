// The benchmark's phases, timed the same way on every system (systems.ts): the pods are polled
// through the Kubernetes API every POLL_MS, and each phase ends when the promise it names holds.
import type { V1Pod } from "@kubernetes/client-node";
import { isReady, type Kube, kubectl, waitAllReady, waitFor } from "../lib/kube.js";
import { type CopyResult, compareCopies } from "./copy.js";
import { type LagResult, measureLag } from "./lag.js";
import { STS, type System } from "./systems.js";

const POLL_MS = 250;
const TIMEOUT_MS = 900_000;

/** The data set: ROWS rows of 100 bytes. */
export const ROWS = 200_000;

export interface Phase {
  key: string;
  label: string;
}

/** The phases, in the order they run; each result is in seconds. */
export const PHASES: Phase[] = [
  { key: "install", label: "install -> 3 pods Ready" },
  { key: "load", label: `${ROWS.toLocaleString("en")} rows inserted on the primary -> on every replica` },
  { key: "scaleOut", label: "scale 3 -> 5 -> all Ready, the new replicas hold every row" },
  { key: "replicaRecovery", label: "delete a replica -> Ready again" },
];

export type PhaseTimes = Record<string, number>;

/** One run of one system: each phase's seconds, the clone against a raw copy where the system clones, and the replicas' lag under load. */
export interface RunResult {
  times: PhaseTimes;
  copy?: CopyResult;
  lag: LagResult;
}

/** The StatefulSet's pods by ordinal. */
async function pods(k: Kube, namespace: string): Promise<Map<number, V1Pod>> {
  const byOrdinal = new Map<number, V1Pod>();
  for (const p of (await k.core.listNamespacedPod({ namespace })).items) {
    const m = new RegExp(`^${STS}-(\\d+)$`).exec(p.metadata?.name ?? "");
    if (m) byOrdinal.set(Number(m[1]), p);
  }
  return byOrdinal;
}

/** Wait until exactly pods 0..N-1 exist and are Ready, seen within POLL_MS. */
const allReady = (k: Kube, namespace: string, n: number) => waitAllReady(k, namespace, STS, n, TIMEOUT_MS, POLL_MS);

/** Wait until pod ORDINAL answers COUNT(*) of the data set with every row. */
async function holdsEveryRow(k: Kube, s: System, namespace: string, ordinal: number) {
  await waitFor(`${STS}-${ordinal} holding ${ROWS} rows`, async () => (await s.sql(k, namespace, ordinal, "SELECT COUNT(*) FROM bench.t")) === String(ROWS) || undefined, {
    timeoutMs: TIMEOUT_MS,
    intervalMs: POLL_MS,
    quiet: true,
  });
}

/** The data set's SQL: ROWS rows from a cross join of digits (no session setting needed on any server). */
export function loadSql(): string {
  const digits = Array.from({ length: 10 }, (_, i) => `(${i})`).join(",");
  const factors = Math.log10(ROWS / 2);
  if (!Number.isInteger(factors)) throw new Error(`ROWS must be 2 * 10^n, not ${ROWS}`);
  const tables = Array.from({ length: factors }, (_, i) => `bench.digits d${i}`);
  const id = Array.from({ length: factors }, (_, i) => `${10 ** i} * d${i}.d`).join(" + ");
  return [
    "CREATE DATABASE bench;",
    "CREATE TABLE bench.digits (d INT PRIMARY KEY);",
    `INSERT INTO bench.digits VALUES ${digits};`,
    "CREATE TABLE bench.t (id INT PRIMARY KEY, pad CHAR(100) NOT NULL);",
    `INSERT INTO bench.t (id, pad) SELECT 1 + ${id} + ${10 ** factors} * h.d, REPEAT('x', 100) FROM ${tables.join(", ")}, bench.digits h WHERE h.d < 2;`,
  ].join("\n");
}

const since = (t0: number) => (Date.now() - t0) / 1000;

/** Run every phase on system S, freshly installed in NAMESPACE; PROGRESS says what runs. */
export async function runPhases(k: Kube, s: System, namespace: string, progress: (msg: string) => void): Promise<RunResult> {
  const times: PhaseTimes = {};
  let copy: CopyResult | undefined;

  progress("install");
  let t0 = Date.now();
  await s.install(k, namespace);
  await allReady(k, namespace, 3);
  times.install = since(t0);

  progress(`load ${ROWS} rows on the primary`);
  t0 = Date.now();
  await s.sql(k, namespace, 0, loadSql());
  for (const i of [1, 2]) await holdsEveryRow(k, s, namespace, i);
  times.load = since(t0);

  progress("scale 3 -> 5");
  t0 = Date.now();
  await kubectl(k, ["scale", "statefulset", STS, "-n", namespace, "--replicas=5"]);
  await allReady(k, namespace, 5);
  for (const i of [3, 4]) await holdsEveryRow(k, s, namespace, i);
  times.scaleOut = since(t0);

  if (s.cloneMarkers) {
    progress("pod 4 cloned again alone, against a raw copy from its donor");
    copy = await compareCopies(k, s, namespace, 4, 5);
  }

  progress("delete a replica");
  const victim = 2;
  const old = (await pods(k, namespace)).get(victim)?.metadata?.uid;
  t0 = Date.now();
  await kubectl(k, ["delete", "pod", "-n", namespace, `${STS}-${victim}`, "--wait=false"]);
  await waitFor(`${STS}-${victim} Ready again`, async () => {
    const p = (await pods(k, namespace)).get(victim);
    return p && p.metadata?.uid !== old && isReady(p) ? true : undefined;
  }, { timeoutMs: TIMEOUT_MS, intervalMs: POLL_MS });
  times.replicaRecovery = since(t0);

  progress("replication lag under sysbench's write load");
  const lag = await measureLag(k, s, namespace, 5);
  return { times, copy, lag };
}
