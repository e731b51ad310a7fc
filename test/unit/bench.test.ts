// The benchmark's pieces that need no cluster: its peer (the tutorial's StatefulSet) is valid
// Kubernetes and says where it departs from the tutorial, its data set has the promised size, its
// options are checked, and its report computes medians and ratios and draws every bar.
import { execa } from "execa";
import { dump, loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { CLONE_MARKERS, type CopyResult, cloneTransfer } from "../../scripts/bench/copy.js";
import { type LagResult, parseSamples, percentile, sysbenchPod } from "../../scripts/bench/lag.js";
import { PHASES, ROWS, loadSql } from "../../scripts/bench/phases.js";
import { barChartSvg, copyTable, lagTable, median, medians, resultTable, type SystemResult } from "../../scripts/bench/report.js";
import { parseArgs } from "../../scripts/bench/run.js";
import { selectSystems, tutorialManifest } from "../../scripts/bench/systems.js";
import { toolPath } from "../../scripts/lib/tools.js";
import { k8sSchemaDir } from "../helpers/k8s-schemas.js";

describe("the benchmark's peer: the Kubernetes tutorial's StatefulSet", () => {
  const manifest = tutorialManifest("example.test/mariadb:10.11");

  it("is valid against the Kubernetes OpenAPI schema of the pinned version, strictly", async () => {
    const location = `${k8sSchemaDir()}/{{ .ResourceKind }}{{ .KindSuffix }}.json`;
    const r = await execa(toolPath("kubeconform"), ["-strict", "-summary", "-schema-location", location, "-"], { input: manifest, reject: false });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });

  it("has the tutorial's objects, and runs every container on the image it is given", () => {
    const docs = loadAll(manifest) as { kind: string; metadata: { name: string }; spec?: { template?: { spec: { containers: { image: string }[]; initContainers: { image: string }[] } } } }[];
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(["ConfigMap/mysql", "Service/mysql", "Service/mysql-read", "StatefulSet/mysql"]);
    const pod = docs[3].spec!.template!.spec;
    const images = [...pod.initContainers, ...pod.containers].map((c) => c.image);
    expect(images).toEqual(Array(4).fill("example.test/mariadb:10.11"));
  });

  it("gives a reason for every departure from the tutorial", () => {
    const adapted = manifest.split("\n").filter((l) => l.includes("ADAPTED:"));
    expect(adapted.length).toBeGreaterThanOrEqual(8);
    for (const l of adapted) expect(l.replace(/.*ADAPTED:/, "").trim().length, l).toBeGreaterThan(30);
  });
});

describe("the benchmark's data set and options", () => {
  it(`inserts ${ROWS} rows with distinct keys 1..${ROWS}`, () => {
    const sql = loadSql();
    // The SELECT's id expression, evaluated over every combination of the digits it joins.
    const insert = sql.split("\n").find((l) => l.startsWith("INSERT INTO bench.t"))!;
    const terms = [...insert.matchAll(/(\d+) \* (d\d+)\.d/g)].map((m) => Number(m[1]));
    const high = Number(/\+ (\d+) \* h\.d/.exec(insert)![1]);
    let ids = [1];
    for (const t of terms) ids = ids.flatMap((base) => Array.from({ length: 10 }, (_, d) => base + t * d));
    ids = ids.flatMap((base) => [base, base + high]);
    expect(ids.length).toBe(ROWS);
    expect(new Set(ids).size).toBe(ROWS);
    expect(ids.reduce((a, b) => Math.min(a, b))).toBe(1);
    expect(ids.reduce((a, b) => Math.max(a, b))).toBe(ROWS);
  });

  it("refuses a bad option, naming it", () => {
    expect(() => parseArgs(["--runs", "0"])).toThrow(/--runs must be a whole number/);
    expect(() => parseArgs(["--runs"])).toThrow(/--runs needs a value/);
    expect(() => parseArgs(["--fast"])).toThrow(/unknown option "--fast"/);
    expect(() => selectSystems(["chart-postgres"])).toThrow(/unknown system "chart-postgres"; known: tutorial, /);
    expect(parseArgs(["--runs", "5", "--systems", "tutorial,chart-mysql-9.7"])).toMatchObject({ runs: 5, systems: ["tutorial", "chart-mysql-9.7"] });
  });
});

describe("the benchmark's clone timing, read from a new replica's prepare-data log", () => {
  const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 0, 0, 0) + s * 1000).toISOString().replace("Z", "123456Z");

  it("MySQL: from the CLONE statement to its answer, with the bytes clone_progress counted; the last attempt counts", () => {
    const log = [
      `${at(0)} 2026-12-01T00:00:00Z [prepare-data] cloning from mysql-1.mysql.ns.svc.cluster.local:3306 into /var/lib/mysql/data.staging`,
      `${at(1)} 2026-12-01T00:00:01Z [prepare-data] clone did not complete: state=Failed error=3862`,
      `${at(10)} 2026-12-01T00:00:10Z [prepare-data] cloning from mysql-3.mysql.ns.svc.cluster.local:3306 into /var/lib/mysql/data.staging`,
      `${at(12.5)} 2026-12-01T00:00:12Z [prepare-data] clone statement answered: OK`,
      `${at(20)} 2026-12-01T00:00:20Z [prepare-data] clone completed from mysql-3.mysql:3306: 250000000 bytes copied`,
    ].join("\n");
    expect(cloneTransfer(log, CLONE_MARKERS.mysql)).toEqual({ donor: 3, bytes: 250_000_000, seconds: 2.5 });
  });

  it("MariaDB: from the first byte of the backup stream to its end, not counting --prepare", () => {
    const log = [
      `${at(0)} x [prepare-data] receiving a hot backup from mysql-2.mysql.ns.svc.cluster.local:3307`,
      `${at(4)} x [prepare-data] received 80000000 bytes; preparing the backup`,
      `${at(9)} x [prepare-data] clone completed from mysql-2.mysql: 80000000 bytes in 9s, GTID position 0-100-5`,
    ].join("\n");
    expect(cloneTransfer(log, CLONE_MARKERS.mariadb)).toEqual({ donor: 2, bytes: 80_000_000, seconds: 4 });
  });

  it("refuses a log without a finished transfer, naming what it looked for", () => {
    expect(() => cloneTransfer(`${at(0)} x cloning from mysql-1.mysql:3306`, CLONE_MARKERS.mysql)).toThrow(/no completed clone transfer.*cloning from/);
  });
});

describe("the benchmark's replication lag under load", () => {
  const [tutorial, chart] = selectSystems(["tutorial", "chart-mysql-9.7"]);

  it("takes percentiles by nearest rank", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow();
  });

  it("reads a replica's samples in milliseconds and refuses anything else, naming the pod", () => {
    expect(parseSamples("1500\n\n250000\n", "mysql-1")).toEqual([1.5, 250]);
    expect(() => parseSamples("12\nERROR 1146 (42S02): Table 'bench.heartbeat' doesn't exist\n", "mysql-2")).toThrow(/mysql-2 printed "ERROR 1146/);
  });

  it("runs sysbench from a valid Pod: over TLS with the release's root password for the chart, without for the tutorial", async () => {
    const location = `${k8sSchemaDir()}/{{ .ResourceKind }}{{ .KindSuffix }}.json`;
    for (const s of [tutorial, chart]) {
      const pod = sysbenchPod(s);
      const r = await execa(toolPath("kubeconform"), ["-strict", "-summary", "-schema-location", location, "-"], { input: dump(pod), reject: false });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    }
    const text = (s: typeof chart) => JSON.stringify(sysbenchPod(s));
    expect(text(chart)).toMatch(/--mysql-ssl=on/);
    expect(text(chart)).toMatch(/"secretName":"mysql-tls"/);
    expect(text(chart)).toMatch(/"secretKeyRef":\{"name":"mysql","key":"mysql-root-password"\}/);
    expect(text(tutorial)).not.toMatch(/--mysql-ssl|secretName|secretKeyRef/);
    expect(text(chart)).toMatch(/--mysql-host=mysql-0\.mysql /);
  });
});

describe("the benchmark's report", () => {
  const lag = (p50: number, p99: number, max: number): LagResult => ({ p50, p99, max, samples: 960, tps: 199.8 });
  const result = (key: string, label: string, runs: number[][], copies: CopyResult[] = [], lags = [lag(1, 2, 3)]): SystemResult => {
    const times = runs.map((r) => Object.fromEntries(PHASES.map((p, i) => [p.key, r[i]])));
    return { key, label, image: "x", runs: times, median: medians(PHASES, times), copies, lags };
  };
  const results = [
    result("tutorial", "tutorial", [[40, 2, 20, 40], [30, 3, 22, 38], [35, 2.5, 30, 39]]),
    result("chart-mysql-9.7", "chart", [[20, 2, 10, 12], [18, 2, 11, 13], [100, 2, 9, 14]]),
  ];

  it("takes the median of each phase, not the mean (one slow run does not move it)", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(results[1].median.install).toBe(20);
    expect(() => median([])).toThrow();
  });

  it("prints each system's median with its ratio to the peer", () => {
    const table = resultTable(PHASES, results, "tutorial");
    expect(table).toMatch(/install -> 3 pods Ready\s+35\.0 s\s+20\.0 s \(0\.57x\)/);
    expect(table).toMatch(/delete a replica -> Ready again\s+39\.0 s\s+13\.0 s \(0\.33x\)/);
  });

  it("compares the median clone throughput with the raw copy's, for systems that clone only", () => {
    const copy = (cloneSeconds: number, rawSeconds: number): CopyResult => ({ donor: 3, receiver: 4, cloneBytes: 100e6, cloneSeconds, rawBytes: 120e6, rawSeconds });
    const table = copyTable([results[0], result("c", "chart", [[1, 1, 1, 1]], [copy(2, 1), copy(1, 1), copy(4, 1)])]);
    expect(table).not.toMatch(/tutorial/);
    // clone: median of 50, 100, 25 MB/s = 50; tar: 120 MB/s.
    expect(table).toMatch(/chart\s+50\.0\s+120\.0\s+42%\s+100\.0 MB in 4\.0 s; 120\.0 MB in 1\.0 s/);
    expect(copyTable([results[0]])).toBe("");
  });

  it("reports each system's median lag percentiles over the runs", () => {
    const table = lagTable([result("c", "chart", [[1, 1, 1, 1]], [], [lag(40, 90, 300), lag(60, 400, 900), lag(50, 100, 200)])]);
    expect(table).toMatch(/chart\s+50 ms\s+100 ms\s+300 ms\s+960\s+200/);
  });

  it("draws one bar per system and phase, as long as its share of the phase's longest", () => {
    const svg = barChartSvg(PHASES, results, "t");
    const bars = [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(bars.length).toBe(PHASES.length * results.length);
    // install: the tutorial's 35 s is the longest (full width), the chart's 20 s is 20/35 of it.
    expect(bars[1] / bars[0]).toBeCloseTo(20 / 35, 2);
  });
});
