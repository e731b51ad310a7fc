// Upgrades users fear: from the previous chart version to this one, and (MariaDB) from the
// previous LTS server line to the current one, on a running release with data. Replicas roll
// before the primary, no row is lost, no pod re-clones.
// Runs on a release of its own, "prev" (2 pods), installed from the packaged previous chart
// (test/fixtures/charts) while the main release installs (prepareVersionUpgrade); MariaDB's
// starts on the 10.11 image. Expects nothing of the main release.
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { FLAVORS, type Flavor } from "../../../scripts/lib/flavors.js";
import { helm } from "../../../scripts/lib/helm.js";
import { keepNamespaces, kubectl, waitFor } from "../../../scripts/lib/kube.js";
import { projectRoot } from "../../../scripts/lib/tools.js";
import { E2e, SIDE_RELEASE, TIMEOUTS } from "../context.js";

/** The newest packaged chart before the working tree's. */
export const PREVIOUS_CHART = join(projectRoot, "test/fixtures/charts/mysql-0.1.0.tgz");
const TABLE = "appdb.history";

/** Install "prev" from the previous chart and write rows; resolves when they are on both pods. */
export async function prepareVersionUpgrade(main: E2e): Promise<E2e> {
  const prev = new E2e(main.flavor, main.namespace, "prev");
  prev.replicas = 2;
  prev.chart = PREVIOUS_CHART;
  prev.image = FLAVORS[main.flavor].previousLtsImage;
  prev.baseSet = { ...SIDE_RELEASE };
  await prev.upgrade();
  await prev.waitAllReady();
  await prev.sql(0, `CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE ${TABLE} (id INT PRIMARY KEY, v VARCHAR(64)); INSERT INTO ${TABLE} VALUES (1, 'chart 0.1.0'), (2, @@version);`);
  await prev.waitSql(1, `SELECT COUNT(*) FROM ${TABLE}`, "2");
  return prev;
}

interface Snapshot {
  dataDirs: string[];
  checksum: string;
  rows: string;
}

async function snapshot(e: E2e): Promise<Snapshot> {
  return { dataDirs: await e.dataDirs(), checksum: await e.sql(0, `CHECKSUM TABLE ${TABLE}`), rows: await e.sql(0, `SELECT COUNT(*) FROM ${TABLE}`) };
}

/** helm upgrade, then wait for the rollout; returns the pods' start times, by ordinal. */
async function upgradeAndRoll(e: E2e) {
  await e.upgrade();
  await kubectl(e.k, ["rollout", "status", "-n", e.namespace, `statefulset/${e.sts}`, `--timeout=${TIMEOUTS.rollout / 1000 - 60}s`], { timeoutMs: TIMEOUTS.rollout });
  await e.waitAllReady();
  const starts: number[] = [];
  for (let i = 0; i < e.replicas; i++) {
    starts.push(Date.parse((await kubectl(e.k, ["get", "pod", "-n", e.namespace, e.pod(i), "-o", "jsonpath={.status.startTime}"])).stdout));
  }
  return starts;
}

/** The promises of every upgrade: replicas first, same data directories, same rows on every pod, replication running. */
async function keptEverything(e: E2e, before: Snapshot, starts: number[]) {
  for (let i = 1; i < e.replicas; i++) expect(starts[i], `${e.pod(i)} restarted before the primary`).toBeLessThan(starts[0]);
  const after = await snapshot(e);
  expect(after.dataDirs, "every pod kept its data directory (no re-clone)").toEqual(before.dataDirs);
  expect(after.rows).toBe(before.rows);
  for (let i = 0; i < e.replicas; i++) {
    expect(await e.sql(i, `CHECKSUM TABLE ${TABLE}`), `checksum on ${e.pod(i)}`).toBe(before.checksum);
  }
  // Replicas of a release from before 0.3.0 switch to verified TLS once the primary (rolled last)
  // accepts it: replication resumes within seconds of the primary's return, not necessarily before.
  const t0 = Date.now();
  for (let i = 1; i < e.replicas; i++) {
    let last = "";
    await waitFor(`${e.pod(i)} replicating`, async () => {
      const s = await e.replicaStatus(i);
      last = `io=${s.io} sql=${s.sql} errno=${s.lastErrno}`;
      return (s.io === "Yes" && s.sql === "Yes") || undefined;
    }, { timeoutMs: TIMEOUTS.settle, intervalMs: TIMEOUTS.poll }).catch((err: Error) => {
      throw new Error(`${err.message} (last: ${last})`);
    });
  }
  e.record("replication running on every replica after the rollout (from all Ready)", Date.now() - t0);
  await e.sql(0, `REPLACE INTO ${TABLE} VALUES (3, 'after the upgrade')`);
  for (let i = 1; i < e.replicas; i++) await e.waitSql(i, `SELECT v FROM ${TABLE} WHERE id = 3`, "after the upgrade");
  await e.sql(0, `DELETE FROM ${TABLE} WHERE id = 3`);
}

export function versionUpgrades(flavor: Flavor, prepared: () => Promise<E2e>) {
  // Its pods free the node for the features after it.
  afterAll(async () => {
    if (keepNamespaces()) return;
    const prev = await prepared().catch(() => undefined);
    if (prev) await helm(["uninstall", prev.release, "--namespace", prev.namespace, "--kubeconfig", prev.k.kubeconfig, "--wait", "--timeout", "120s"], { timeoutMs: 180_000, allowFailure: true });
  });


  it("a release of the previous chart version upgrades to this one: replicas roll first, no row lost, no pod re-cloned, its pod management policy kept", async () => {
    const prev = await prepared();
    const before = await snapshot(prev);
    prev.chart = undefined; // the working tree's chart, same image
    const t0 = Date.now();
    const starts = await upgradeAndRoll(prev);
    prev.record("chart 0.1.0 -> working tree, rolled", Date.now() - t0);
    await keptEverything(prev, before, starts);
    const policy = (await kubectl(prev.k, ["get", "statefulset", "-n", prev.namespace, prev.sts, "-o", "jsonpath={.spec.podManagementPolicy}"])).stdout;
    expect(policy, "the policy the old chart chose is kept (Kubernetes cannot change it; the value is left empty)").toBe("OrderedReady");
    const claims = (await kubectl(prev.k, ["get", "pvc", "-n", prev.namespace, "-l", "mysql-chart.io/holds-data=true", "-o", "name"])).stdout;
    expect(claims, "the replica's claim now says it holds data").toContain(`data-${prev.sts}-1`);
  });

  it.runIf(flavor === "mariadb")(
    "MariaDB 10.11 upgrades in place to 11.8: every pod runs 11.8, its system tables upgraded exactly once, replication and rows intact",
    async () => {
      const prev = await prepared();
      const before = await snapshot(prev);
      prev.image = undefined; // the current LTS image
      const t0 = Date.now();
      const starts = await upgradeAndRoll(prev);
      prev.record("MariaDB 10.11 -> 11.8, rolled", Date.now() - t0);
      for (let i = 0; i < prev.replicas; i++) {
        expect(await prev.sql(i, "SELECT VERSION()"), `${prev.pod(i)}'s server`).toMatch(/^11\.8\./);
        // The sidecar upgrades the tables once the server answers, which may be after the pod is Ready.
        const { value: log } = await waitFor(`${prev.pod(i)}'s sidecar to upgrade the system tables`, async () => {
          const out = (await kubectl(prev.k, ["logs", "-n", prev.namespace, prev.pod(i), "-c", "replication"])).stdout;
          return /system tables (upgraded|already match)/.test(out) ? out : undefined;
        }, { timeoutMs: TIMEOUTS.settle });
        expect(log.match(/system tables upgraded to server version 11\.8/g), `${prev.pod(i)} upgraded its tables once`).toHaveLength(1);
      }
      await keptEverything(prev, before, starts);
      // A restart finds the tables upgraded already.
      await kubectl(prev.k, ["delete", "pod", "-n", prev.namespace, prev.pod(1), "--wait=true"]);
      await prev.waitAllReady();
      const { value: log } = await waitFor(`${prev.pod(1)}'s sidecar to check the system tables`, async () => {
        const out = (await kubectl(prev.k, ["logs", "-n", prev.namespace, prev.pod(1), "-c", "replication"])).stdout;
        return /system tables (upgraded|already match)/.test(out) ? out : undefined;
      }, { timeoutMs: TIMEOUTS.settle });
      expect(log).toMatch(/system tables already match server version 11\.8/);
      expect(log).not.toMatch(/system tables upgraded/);
    },
  );
}
