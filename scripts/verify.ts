// npm run verify -- -f my-values.yaml [-f more.yaml] [--flavor mysql|mariadb] [--kubeconfig FILE]
//                   [--upgrade-to new-values.yaml] [--keep] [--timeout SECONDS] [--local-images]
// Does this values file really give a replicating cluster? Render it first (values the schema or
// the chart's checks refuse are reported before anything is installed), install it into a new
// namespace of the project's kind cluster (brought up and given the locally built images when no
// --kubeconfig is named) or of the cluster named, and run the SQL proof (scripts/lib/proof.ts).
// With --upgrade-to, write data, upgrade to the second file, and check that nothing was lost, that
// the pods rolled replicas before the primary, and that the proof still holds.
// Exit status: 0 verified, 1 a promise failed (named, with its evidence), 2 refused before install.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { load, loadAll } from "js-yaml";
import { helm } from "./lib/helm.js";
import { connect, createNamespace, deleteNamespaces, isReady, type Kube, podSql } from "./lib/kube.js";
import { type Outcome, podTable, PROOF_DB, prove, statefulPods, type Target } from "./lib/proof.js";
import { chartDir, exporterImageValues, type Flavor, imageValues } from "./lib/release.js";
import { cacheDir, projectRoot, versions } from "./lib/tools.js";
import { sleep } from "./lib/wait.js";

export interface VerifyArgs {
  values: string[];
  flavor?: Flavor;
  kubeconfig?: string;
  upgradeTo?: string;
  keep: boolean;
  timeoutSeconds: number;
  /** Run the images built here (implied without --kubeconfig: the project's kind cluster reaches no registry). */
  localImages: boolean;
}

const USAGE = "usage: npm run verify -- -f values.yaml [-f more.yaml] [--flavor mysql|mariadb] [--kubeconfig FILE] [--upgrade-to new.yaml] [--keep] [--timeout SECONDS] [--local-images]";

export function parseArgs(argv: string[]): VerifyArgs {
  const a: VerifyArgs = { values: [], keep: false, timeoutSeconds: 900, localImages: false };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("-")) throw new Error(`${argv[i - 1]} needs a value\n${USAGE}`);
      return v;
    };
    switch (argv[i]) {
      case "-f": case "--values": a.values.push(resolve(value())); break;
      case "--flavor": {
        const f = value();
        if (f !== "mysql" && f !== "mariadb") throw new Error(`--flavor must be mysql or mariadb, not ${f}`);
        a.flavor = f;
        break;
      }
      case "--kubeconfig": a.kubeconfig = resolve(value()); break;
      case "--upgrade-to": a.upgradeTo = resolve(value()); break;
      case "--keep": a.keep = true; break;
      case "--local-images": a.localImages = true; break;
      case "--timeout": a.timeoutSeconds = Number(value()); break;
      default: throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
    }
  }
  if (a.values.length === 0) throw new Error(`no values file\n${USAGE}`);
  if (!(a.timeoutSeconds > 0)) throw new Error("--timeout must be a positive number of seconds");
  return a;
}

const t0 = Date.now();
const step = (msg: string) => console.log(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${msg}`);
const RELEASE = "verify";

/** What the rendered chart says about the release: the StatefulSet's name and size, whether it has a helm test. */
export interface Rendered { sts: string; replicas: number; helmTest: boolean; flavor: Flavor; metrics: boolean }

/** The values' flavor: OVERRIDE (--flavor), else the files' last flavor key, else the chart's default. */
export function flavorOf(files: string[], override?: Flavor): Flavor {
  if (override) return override;
  let flavor: Flavor = "mysql";
  for (const f of files) {
    const v = load(readFileSync(f, "utf8")) as { flavor?: Flavor } | null;
    if (v?.flavor) flavor = v.flavor;
  }
  return flavor;
}

/** helm template with the files; null and the chart's own words when it refuses them. */
export async function render(files: string[], set: Record<string, string>, release = RELEASE): Promise<{ ok: true; r: Rendered } | { ok: false; why: string }> {
  const args = ["template", release, chartDir, "--namespace", "verify"];
  for (const f of files) args.push("--values", f);
  for (const [k, v] of Object.entries(set)) args.push("--set", `${k}=${v}`);
  const out = await helm(args, { allowFailure: true });
  if (out.exitCode !== 0) return { ok: false, why: out.stderr.trim() };
  const docs = (loadAll(out.stdout) as ({ kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec: any } | null)[]).filter((d) => d !== null);
  const sts = docs.find((d) => d!.kind === "StatefulSet")!;
  const containers: { name: string }[] = sts.spec.template.spec.containers;
  return {
    ok: true,
    r: {
      sts: sts.metadata.name,
      replicas: sts.spec.replicas,
      helmTest: docs.some((d) => d!.kind === "Pod" && d!.metadata.annotations?.["helm.sh/hook"] === "test"),
      flavor: containers[0].name as Flavor,
      metrics: containers.some((c) => c.name === "metrics"),
    },
  };
}

/** No --kubeconfig: the project's kind cluster, set up as the demo does, with the locally built images loaded. */
async function localCluster(flavor: Flavor, metrics: boolean): Promise<string> {
  const run = async (what: string, cmd: string[]) => {
    step(what);
    const r = await execa(cmd[0], cmd.slice(1), { cwd: projectRoot, reject: false, stdout: "inherit", stderr: "inherit" });
    if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode})`);
  };
  const pins = versions();
  const image = flavor === "mysql" ? pins.LOCAL_IMAGE_MYSQL_9_7 : pins.LOCAL_IMAGE_MARIADB_11_8;
  await run("Docker engine", ["bash", "infra/docker/ensure-docker.sh"]);
  await run(`database image ${image} (built from Debian packages)`, ["bash", "infra/images/db/build.sh", flavor === "mysql" ? "mysql-9.7" : "mariadb-11.8"]);
  if (metrics) await run("metrics exporter image", ["bash", "infra/images/db/build.sh", "mysqld-exporter"]);
  await run("kind cluster", ["bash", "infra/cluster/up.sh"]);
  // The file infra/cluster/up.sh writes (not defaultKubeconfig(): a KUBECONFIG of the user's may name another cluster).
  const kubeconfig = join(cacheDir(), `kind-${process.env.CLUSTER_NAME ?? "mysql-chart"}.kubeconfig`);
  await run(`loading ${image} into kind`, ["bash", "infra/cluster/load-image.sh", image]);
  if (metrics) await run("loading the exporter image into kind", ["bash", "infra/cluster/load-image.sh", pins.LOCAL_IMAGE_EXPORTER]);
  return kubeconfig;
}

async function install(k: Kube, namespace: string, files: string[], set: Record<string, string>, upgrade = false) {
  const args = [upgrade ? "upgrade" : "install", RELEASE, chartDir, "--namespace", namespace, "--kubeconfig", k.kubeconfig];
  for (const f of files) args.push("--values", f);
  for (const [key, v] of Object.entries(set)) args.push("--set", `${key}=${v}`);
  const r = await helm(args, { allowFailure: true, timeoutMs: 300_000 });
  if (r.exitCode !== 0) throw new Error(`helm ${args[0]} failed:\n${r.stderr}`);
}

/** One line per promise; the failed one's evidence comes with the verdict. */
function report(outcomes: Outcome[]) {
  for (const o of outcomes) console.log(`  ${o.ok ? "ok  " : "FAIL"}  ${o.promise} (${o.seconds.toFixed(1)}s)${o.ok ? `: ${o.detail}` : ""}`);
}

function verdict(outcomes: Outcome[], what: string): boolean {
  const failed = outcomes.find((o) => !o.ok);
  if (!failed) return true;
  console.log(`\nVERDICT: FAIL (${what}): ${failed.promise}\n--- evidence ---\n${failed.detail}`);
  return false;
}

/**
 * Whether a rollout kept its promise: ORDER lists the pods of StatefulSet STS in the order they were
 * recreated; the primary (pod 0) must come after every replica that was recreated. A failure's reason, else "".
 */
export function primaryRolledLast(sts: string, order: string[]): string {
  const at = order.indexOf(`${sts}-0`);
  if (at === -1 || at === order.length - 1) return "";
  return `pod 0 was recreated before ${order.slice(at + 1).join(", ")}`;
}

/** Data written before the upgrade, to find on every pod after it. */
async function seedUpgradeData(t: Target): Promise<string> {
  const q = `CREATE DATABASE IF NOT EXISTS ${PROOF_DB}; CREATE TABLE IF NOT EXISTS ${PROOF_DB}.before_upgrade (id INT PRIMARY KEY, note VARCHAR(64));
    INSERT INTO ${PROOF_DB}.before_upgrade WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) SELECT i, CONCAT('row ', i) FROM n;`;
  const r = await podSql(t.k, t.namespace, `${t.sts}-0`, t.flavor, q, { allowFailure: true });
  if (r.exitCode !== 0) throw new Error(`writing the data before the upgrade failed: ${r.err}`);
  return (await podSql(t.k, t.namespace, `${t.sts}-0`, t.flavor, `CHECKSUM TABLE ${PROOF_DB}.before_upgrade`)).out;
}

/** Watch the pods while the upgrade rolls them: the order in which each got a new pod, until it is done. */
async function watchRollout(t: Target, before: Map<string, string>, timeoutMs: number): Promise<{ order: string[]; outcome: Outcome }> {
  const start = Date.now();
  const order: string[] = [];
  for (;;) {
    const pods = await statefulPods(t);
    for (const p of pods) {
      const name = p.metadata!.name!;
      if (before.has(name) && before.get(name) !== p.metadata!.uid && !order.includes(name)) order.push(name);
    }
    const sts = (await t.k.apps.readNamespacedStatefulSet({ name: t.sts, namespace: t.namespace })).status;
    const done = sts?.updateRevision === sts?.currentRevision && pods.length === t.replicas && pods.every(isReady);
    if (done) return { order, outcome: { promise: "the upgrade rolled replicas before the primary", ok: true, seconds: (Date.now() - start) / 1000, detail: "" } };
    if (Date.now() - start >= timeoutMs) {
      return { order, outcome: { promise: "the upgrade completes", ok: false, seconds: (Date.now() - start) / 1000, detail: `not rolled out after ${timeoutMs / 1000}s (recreated so far: ${order.join(", ") || "none"})` } };
    }
    await sleep(1000);
  }
}

export async function main(argv: string[]): Promise<number> {
  let a: VerifyArgs;
  try {
    a = parseArgs(argv);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const flavor = flavorOf(a.values, a.flavor);
  const local = !a.kubeconfig;
  const set: Record<string, string> = { flavor };
  step(`rendering ${a.values.join(", ")} (flavor ${flavor}) before anything is installed`);
  const first = await render(a.values, set);
  const next = a.upgradeTo ? await render([a.upgradeTo], set) : undefined;
  for (const [file, r] of [[a.values.join(", "), first], [a.upgradeTo, next]] as const) {
    if (r && !r.ok) {
      console.log(`\nVERDICT: REFUSED before install: the chart refuses ${file}\n${r.why}`);
      return 2;
    }
  }
  const r1 = (first as { r: Rendered }).r;
  const kubeconfig = a.kubeconfig ?? (await localCluster(flavor, r1.metrics || !!(next && (next as { r: Rendered }).r.metrics)));
  // The project's cluster reaches no registry: its pods run the images built here.
  if (local || a.localImages) Object.assign(set, imageValues(flavor), exporterImageValues());
  const k = connect(kubeconfig);
  const namespace = await createNamespace(k, "verify");
  step(`installing release ${RELEASE} in namespace ${namespace} (${r1.replicas} pod(s))`);
  const t: Target = { k, namespace, release: RELEASE, sts: r1.sts, flavor, replicas: r1.replicas, helmTest: r1.helmTest };
  let ok = false;
  try {
    await install(k, namespace, a.values, set);
    let outcomes = await prove(t, { readyTimeoutMs: a.timeoutSeconds * 1000, progress: step });
    console.log(`\nProof of ${a.values.join(", ")}:`);
    report(outcomes);
    console.log(`\n${await podTable(t)}`);
    ok = verdict(outcomes, "after install");
    if (ok && a.upgradeTo && next?.ok) {
      step("writing 500 rows before the upgrade");
      const checksum = await seedUpgradeData(t);
      const before = new Map((await statefulPods(t)).map((p) => [p.metadata!.name!, p.metadata!.uid!]));
      step(`helm upgrade with ${a.upgradeTo}`);
      await install(k, namespace, [a.upgradeTo], set, true);
      const t2: Target = { ...t, sts: next.r.sts, replicas: next.r.replicas, helmTest: next.r.helmTest };
      const { order, outcome } = await watchRollout(t2, before, a.timeoutSeconds * 1000);
      step(order.length ? `pods recreated in this order: ${order.join(", ")}` : "no pod was recreated (the pod template did not change)");
      const wrongOrder = primaryRolledLast(t.sts, order);
      const rolled: Outcome = outcome.ok && wrongOrder ? { ...outcome, ok: false, detail: wrongOrder } : { ...outcome, detail: outcome.ok ? order.join(" then ") || "no pod recreated" : outcome.detail };
      outcomes = [rolled];
      if (rolled.ok) {
        outcomes.push(...(await prove(t2, { readyTimeoutMs: a.timeoutSeconds * 1000, progress: step })));
        if (outcomes.every((o) => o.ok)) {
          const kept: Outcome = { promise: "no data was lost: the rows written before the upgrade are on every pod", ok: true, seconds: 0, detail: checksum };
          for (let i = 0; i < t2.replicas && kept.ok; i++) {
            const got = (await podSql(k, namespace, `${t2.sts}-${i}`, flavor, `CHECKSUM TABLE ${PROOF_DB}.before_upgrade`, { allowFailure: true })).out;
            if (got !== checksum) Object.assign(kept, { ok: false, detail: `${t2.sts}-${i}: ${got || "no table"}; before the upgrade: ${checksum}` });
          }
          outcomes.push(kept);
        }
      }
      console.log(`\nAfter the upgrade to ${a.upgradeTo}:`);
      report(outcomes);
      console.log(`\n${await podTable(t2)}`);
      ok = verdict(outcomes, "after the upgrade");
    }
    if (ok) console.log(`\nVERDICT: PASS: ${a.values.join(", ")}${a.upgradeTo ? ` then ${a.upgradeTo}` : ""} gave a replicating ${flavor} cluster (${Math.round((Date.now() - t0) / 1000)}s)`);
    return ok ? 0 : 1;
  } catch (e) {
    console.log(`\nVERDICT: FAIL: ${(e as Error).message}`);
    return 1;
  } finally {
    if (a.keep) {
      console.log(`--keep: release ${RELEASE} stays in namespace ${namespace} (KUBECONFIG=${kubeconfig})`);
    } else {
      step(`removing release ${RELEASE} and namespace ${namespace}`);
      await helm(["uninstall", RELEASE, "--namespace", namespace, "--kubeconfig", kubeconfig, "--wait=false"], { allowFailure: true });
      await deleteNamespaces(k, [namespace]);
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(projectRoot, "scripts/verify.ts")) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    console.error(`verify failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  });
}
