// Replication lag under a sustained write load. sysbench's oltp_write_only writes to the primary
// from a pod of its own at a fixed rate for LOAD_SECONDS. Meanwhile the primary replaces one
// heartbeat row with NOW(6) every HEARTBEAT_MS, and every replica reports every SAMPLE_MS how old
// the heartbeat it holds is, by its own clock (one node: the primary's clock too). A sample is thus
// the lag plus up to one heartbeat interval; p50, p99 and max are over every replica's samples.
import { dump } from "js-yaml";
import { apply, type Kube, kubectl, waitFor } from "../lib/kube.js";
import { GiveUp } from "../lib/wait.js";
import { versions } from "../lib/tools.js";
import { median } from "./report.js";
import { podBash, STS, type System } from "./systems.js";

const pins = versions();
export const LOAD_SECONDS = 60;
/** sysbench's transactions per second (each: a few row changes and a commit). */
export const LOAD_RATE = 200;
const THREADS = 4;
const TABLES = 4;
const TABLE_SIZE = 10_000;
const HEARTBEAT_MS = 100;
const SAMPLE_MS = 250;

export const LAG_NOTE =
  `Lag: sysbench oltp_write_only on the primary at ${LOAD_RATE} transactions/s for ${LOAD_SECONDS} s; every ${SAMPLE_MS} ms each replica reports the age of a heartbeat row the primary rewrites every ${HEARTBEAT_MS} ms (so a sample overstates the lag by up to ${HEARTBEAT_MS} ms).`;

export interface LagResult {
  /** Milliseconds. */
  p50: number;
  p99: number;
  max: number;
  samples: number;
  /** Transactions per second sysbench reached. */
  tps: number;
}

/** The Qth percentile (0..100) of VALUES, nearest rank. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) throw new Error("percentile of no values");
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((q / 100) * v.length) - 1))];
}

/** The lag samples (microseconds, one per line) a replica printed, in milliseconds; blank lines skipped. */
export function parseSamples(out: string, pod: string): number[] {
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const n = Number(l);
      if (!Number.isFinite(n)) throw new Error(`${pod} printed "${l}" where a lag sample (microseconds) belongs`);
      return n / 1000;
    });
}

/** The Pod that runs sysbench against the primary: prepare, then run at LOAD_RATE for LOAD_SECONDS. */
export function sysbenchPod(s: System): Record<string, unknown> {
  const common = [
    "oltp_write_only",
    "--db-driver=mysql",
    `--mysql-host=${s.primaryHost}`,
    "--mysql-user=root",
    '--mysql-password="$ROOT_PASSWORD"',
    "--mysql-db=bench",
    `--tables=${TABLES}`,
    `--table_size=${TABLE_SIZE}`,
    ...(s.tlsSecret ? ["--mysql-ssl=on"] : []),
  ].join(" ");
  const run = `--threads=${THREADS} --rate=${LOAD_RATE} --time=${LOAD_SECONDS} --report-interval=0`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "sysbench" },
    spec: {
      restartPolicy: "Never",
      securityContext: { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "sysbench",
          image: pins.LOCAL_IMAGE_SYSBENCH,
          imagePullPolicy: "Never",
          // sysbench 1.0 reads its TLS files from the working directory under fixed names.
          workingDir: s.tlsSecret ? "/tls" : "/tmp",
          command: ["bash", "-c", `set -euo pipefail; sysbench ${common} prepare >/dev/null; sysbench ${common} ${run} run`],
          env: [{ name: "ROOT_PASSWORD", ...(s.rootSecret ? { valueFrom: { secretKeyRef: { name: s.rootSecret.name, key: s.rootSecret.key } } } : { value: "" }) }],
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          ...(s.tlsSecret ? { volumeMounts: [{ name: "tls", mountPath: "/tls", readOnly: true }] } : {}),
        },
      ],
      ...(s.tlsSecret
        ? {
            volumes: [
              {
                name: "tls",
                secret: {
                  secretName: s.tlsSecret,
                  items: [
                    { key: "ca.crt", path: "cacert.pem" },
                    { key: "tls.crt", path: "client-cert.pem" },
                    { key: "tls.key", path: "client-key.pem" },
                  ],
                },
              },
            ],
          }
        : {}),
    },
  };
}

/** Pipe PRODUCER's output into the database client on pod ORDINAL: one long-running session. */
function clientSession(k: Kube, s: System, namespace: string, ordinal: number, producer: string, seconds: number) {
  return podBash(k, s, namespace, ordinal, `set -uo pipefail; ${producer} | { ${s.clientCommand}; }`, (seconds + 60) * 1000);
}

/**
 * A shell loop printing STATEMENT every MS milliseconds for at most SECONDS, or until STOP_FILE
 * exists. It ends by itself: a killed `kubectl exec` would leave its command running in the pod.
 */
function every(ms: number, statement: string, seconds: number): string {
  return `end=$((SECONDS + ${seconds})); while (( SECONDS < end )) && [[ ! -e ${STOP_FILE} ]]; do echo "${statement}"; sleep ${ms / 1000}; done`;
}
const STOP_FILE = "/tmp/bench-heartbeat.stop";

/** Measure the replicas' lag (pods 1..PODS-1) under sysbench's load on pod 0. */
export async function measureLag(k: Kube, s: System, namespace: string, pods: number): Promise<LagResult> {
  const sql = (ordinal: number, statements: string) => s.sql(k, namespace, ordinal, statements);
  const replicas = Array.from({ length: pods - 1 }, (_, i) => i + 1);
  await sql(0, "CREATE TABLE IF NOT EXISTS bench.heartbeat (id INT PRIMARY KEY, ts DATETIME(6) NOT NULL); REPLACE INTO bench.heartbeat VALUES (1, NOW(6));");
  for (const i of replicas) {
    await waitFor(`${STS}-${i} holding the heartbeat row`, async () => (await sql(i, "SELECT COUNT(*) FROM bench.heartbeat").catch(() => "")) === "1" || undefined, {
      timeoutMs: 60_000,
      intervalMs: 500,
      quiet: true,
    });
  }
  await podBash(k, s, namespace, 0, `rm -f ${STOP_FILE}`);
  const limit = LOAD_SECONDS + 600;
  const heartbeat = clientSession(k, s, namespace, 0, every(HEARTBEAT_MS, "REPLACE INTO bench.heartbeat VALUES (1, NOW(6));", limit), limit);
  let result: LagResult;
  try {
    await apply(k, namespace, dump(sysbenchPod(s)));
    const sysbenchLog = async () => (await kubectl(k, ["logs", "-n", namespace, "sysbench"], { allowFailure: true })).stdout;
    const phase = async () => (await kubectl(k, ["get", "pod", "sysbench", "-n", namespace, "-o", "jsonpath={.status.phase}"], { allowFailure: true })).stdout.trim();
    // Sampling starts with the timed run, after sysbench's prepare (a burst of its own).
    const waiting = async () => (await kubectl(k, ["get", "pod", "sysbench", "-n", namespace, "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"], { allowFailure: true })).stdout.trim();
    await waitFor("sysbench running its timed load", async () => {
      if ((await phase()) === "Failed") throw new GiveUp(`sysbench failed before its load:\n${(await sysbenchLog()).slice(-2000)}`);
      const reason = await waiting();
      if (/ErrImageNeverPull|ImagePull/.test(reason)) {
        throw new GiveUp(`the sysbench pod cannot start (${reason}): ${pins.LOCAL_IMAGE_SYSBENCH} is not on the kind node; npm run bench builds and loads it`);
      }
      return /Running the test/.test(await sysbenchLog()) || undefined;
    }, { timeoutMs: 300_000, intervalMs: 500 });
    const samplers = replicas.map((i) => clientSession(k, s, namespace, i, every(SAMPLE_MS, "SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) FROM bench.heartbeat WHERE id = 1;", LOAD_SECONDS), LOAD_SECONDS));
    let last = "";
    await waitFor("sysbench finished", async () => {
      last = await phase();
      return last === "Succeeded" || last === "Failed" || undefined;
    }, { timeoutMs: (LOAD_SECONDS + 120) * 1000, intervalMs: 1000 });
    const log = await sysbenchLog();
    if (last !== "Succeeded") throw new Error(`sysbench failed:\n${log.slice(-2000)}`);
    const tps = Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(log)?.[1] ?? Number.NaN);
    const outs = await Promise.all(samplers);
    const samples: number[] = [];
    outs.forEach((r, n) => {
      const pod = `${STS}-${replicas[n]}`;
      if (r.exitCode !== 0) throw new Error(`the lag sampler on ${pod} failed: ${r.stderr.trim()}`);
      samples.push(...parseSamples(r.stdout, pod));
    });
    result = { p50: median(samples), p99: percentile(samples, 99), max: Math.max(...samples), samples: samples.length, tps };
  } finally {
    await podBash(k, s, namespace, 0, `touch ${STOP_FILE}`);
    await heartbeat;
  }
  // A heartbeat that stopped early would read as lag on every replica.
  const beat = await heartbeat;
  if (beat.exitCode !== 0) throw new Error(`the heartbeat on ${STS}-0 failed: ${beat.stderr.trim()}`);
  return result;
}
