// The benchmark (npm run bench; scripts/bench.sh sets up the cluster and images first): this chart
// against the Kubernetes tutorial's StatefulSet, phase by phase, each system freshly installed in a
// namespace of its own, one system at a time, N runs each. Prints a table of medians with each chart
// system's ratio to the tutorial, and writes bench.json and bench.svg. It measures; it asserts
// nothing about time.
//   tsx scripts/bench/run.ts [--runs N] [--systems key,key...] [--out DIR]
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { connect, createNamespace, diagnoseNamespace, type Kube, kubectl } from "../lib/kube.js";
import { projectRoot } from "../lib/tools.js";
import { PHASES, ROWS, type RunResult, runPhases } from "./phases.js";
import { LAG_NOTE } from "./lag.js";
import { barChartSvg, copyTable, lagTable, medians, resultTable, type SystemResult } from "./report.js";
import { selectSystems } from "./systems.js";

export interface BenchOptions {
  runs: number;
  systems: string[];
  out: string;
}

/** The command line, or a clear error naming the bad option. */
export function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = { runs: 3, systems: [], out: join(projectRoot, ".tmp/bench") };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case "--runs": {
        const v = value();
        o.runs = Number(v);
        if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error(`--runs must be a whole number of at least 1, not "${v}"`);
        break;
      }
      case "--systems":
        o.systems = value().split(",").filter(Boolean);
        break;
      case "--out":
        o.out = resolve(value());
        break;
      default:
        throw new Error(`unknown option "${argv[i]}" (usage: --runs N --systems key,key --out DIR)`);
    }
  }
  return o;
}

/** The cluster's own namespaces; pods anywhere else compete with the benchmark for the node. */
const CLUSTER_NAMESPACES = new Set(["kube-system", "local-path-storage"]);

/**
 * Refuse a busy cluster up front (a demo release left running takes the CPU the fifth pod needs,
 * and skews every time); namespaces of an interrupted benchmark are its own, and are deleted.
 */
async function requireIdleCluster(k: Kube) {
  const pods = (await k.core.listPodForAllNamespaces()).items;
  const namespaces = [...new Set(pods.map((p) => p.metadata?.namespace ?? ""))].filter((n) => !CLUSTER_NAMESPACES.has(n));
  const stale = namespaces.filter((n) => n.startsWith("bench-"));
  const busy = namespaces.filter((n) => !n.startsWith("bench-"));
  if (busy.length > 0) {
    throw new Error(`the cluster runs other pods, in namespace(s) ${busy.join(", ")}: they take the node's CPU and would skew every time. Remove them (for the demo: helm -n mysql-demo uninstall mysql; kubectl delete namespace mysql-demo) and run the benchmark again`);
  }
  for (const n of stale) {
    console.log(`deleting ${n}, left by an interrupted benchmark`);
    await kubectl(k, ["delete", "namespace", n, "--wait=true", "--timeout=300s"], { allowFailure: true, timeoutMs: 330_000 });
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const systems = selectSystems(o.systems);
  const k = connect();
  await requireIdleCluster(k);
  const t0 = Date.now();
  const clock = () => {
    const s = Math.round((Date.now() - t0) / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  };
  const runs = new Map<string, RunResult[]>(systems.map((s) => [s.key, []]));
  console.log(`benchmark: ${systems.map((s) => s.label).join(", ")}; ${o.runs} run(s) each; ${ROWS} rows`);
  // Runs interleave the systems, so a slow spell of the machine weighs on all of them alike.
  for (let run = 1; run <= o.runs; run++) {
    for (const s of systems) {
      const namespace = await createNamespace(k, `bench-${s.key.replace(/\./g, "-")}`);
      const progress = (msg: string) => console.log(`[${clock()}] run ${run}/${o.runs} ${s.label}: ${msg}`);
      try {
        const result = await runPhases(k, s, namespace, progress);
        runs.get(s.key)!.push(result);
        progress(PHASES.map((p) => `${p.key} ${result.times[p.key].toFixed(1)} s`).join(", "));
      } catch (e) {
        console.error(await diagnoseNamespace(k, namespace));
        throw e;
      } finally {
        // Waited for, so that one system's clean-up never runs beside the next one's measurement.
        await kubectl(k, ["delete", "namespace", namespace, "--wait=true", "--timeout=300s"], { allowFailure: true, timeoutMs: 330_000 });
      }
    }
  }
  const results: SystemResult[] = systems.map((s) => {
    const mine = runs.get(s.key)!;
    const times = mine.map((r) => r.times);
    return { key: s.key, label: s.label, image: s.image, runs: times, median: medians(PHASES, times), copies: mine.flatMap((r) => (r.copy ? [r.copy] : [])), lags: mine.map((r) => r.lag) };
  });
  mkdirSync(o.out, { recursive: true });
  const peerNote =
    "The peer is the Kubernetes tutorial's StatefulSet on MariaDB 10.11 (its own mysql:5.7 and xtrabackup images cannot be pulled here); the chart on MySQL 9.7 is compared with that MariaDB peer too, since the tutorial's MySQL image is not reachable. As in the tutorial, the peer's backup container ignores SIGTERM, so its deleted replica waits out the 30 s grace period.";
  writeFileSync(join(o.out, "bench.json"), `${JSON.stringify({ date: new Date().toISOString(), rows: ROWS, runs: o.runs, phases: PHASES, peer: "tutorial", note: peerNote, results }, null, 2)}\n`);
  writeFileSync(join(o.out, "bench.svg"), barChartSvg(PHASES, results, `Median of ${o.runs} run(s), ${ROWS.toLocaleString("en")} rows of 100 bytes, one kind node`));
  const copies = copyTable(results);
  const copyNote = "Clone: pod 4 cloned again alone (claim and pod deleted), the transfer from its donor read from its prepare-data log; tar: the donor's data directory piped with socat into pod 4's volume.";
  console.log(`\n${resultTable(PHASES, results, "tutorial")}\n\n${copies ? `${copies}\n${copyNote}\n\n` : ""}${lagTable(results)}\n${LAG_NOTE}\n\n${peerNote}\nMedian of ${o.runs} run(s). Written: ${join(o.out, "bench.json")}, ${join(o.out, "bench.svg")} (${clock()} in all)`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(projectRoot, "scripts/bench/run.ts")) {
  main().catch((e) => {
    console.error(`\nBENCHMARK FAILED: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
