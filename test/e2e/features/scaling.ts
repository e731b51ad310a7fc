// Scaling out clones from a Ready replica (even after the primary purged its binlogs);
// scaling in and out again reuses the volumes without cloning.
// Expects: the release installed with 3 pods; leaves it at 5 (e.replicas says so).
import { expect, it } from "vitest";
import { kubectl, waitFor } from "../../../scripts/lib/kube.js";
import { type E2e, TIMEOUTS } from "../context.js";

/** Where pod ORDINAL's data came from, by the clone's record in its data directory: donor, end time, bytes, duration. */
async function cloneRecord(e: E2e, ordinal: number): Promise<{ donor: string; ended: string; bytes: string; ms: number }> {
  const r = await kubectl(e.k, ["exec", "-n", e.namespace, e.pod(ordinal), "-c", e.container, "--", "cat", "/var/lib/mysql/data/mysql-chart-clone.info"]);
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(r.stdout)?.[1] ?? "";
  return { donor: field("donor"), ended: field("completed"), bytes: field("bytes"), ms: Number(field("seconds")) * 1000 };
}

export function scaling(ctx: () => E2e) {
  const before: Record<number, { ended: string }> = {};

  it("after PURGE BINARY LOGS on the primary, scaling out 3 -> 5 clones each new replica from a Ready replica (the previous pod when Ready), never the primary", async () => {
    const e = ctx();
    await e.sql(0, "CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE IF NOT EXISTS appdb.scale (id INT PRIMARY KEY); INSERT INTO appdb.scale VALUES (1),(2),(3);");
    await e.sql(0, "FLUSH BINARY LOGS; FLUSH BINARY LOGS;");
    const newest = (await e.sql(0, "SHOW BINARY LOGS")).split("\n").pop()!.split("\t")[0];
    // A log a replica is still reading is kept (MariaDB warns and skips it): retry until only the newest is left.
    await waitFor("every binary log but the newest purged", async () => {
      await e.sql(0, `PURGE BINARY LOGS TO '${newest}'`);
      return (await e.sql(0, "SHOW BINARY LOGS")).split("\n").length === 1 || undefined;
    }, { timeoutMs: TIMEOUTS.settle });

    await kubectl(e.k, ["scale", "-n", e.namespace, `statefulset/${e.sts}`, "--replicas=5"]);
    e.replicas = 5;
    const { ms } = await e.waitAllReady(5);
    e.record("scale out 3 -> 5 (two clones, until all Ready)", ms);
    for (const i of [3, 4]) {
      const rec = await cloneRecord(e, i);
      // Pods 3 and 4 start side by side: pod 3 finds pod 2 Ready; pod 4 takes pod 3 when it is
      // Ready already, else another Ready replica (pod 1 before pod 2, which pod 3 copies).
      const donors = i === 3 ? [e.peerHost(2)] : [3, 2, 1].map((o) => e.peerHost(o));
      expect(donors, `donor of ${e.pod(i)}`).toContain(rec.donor);
      before[i] = rec;
      e.record(`clone of ${e.pod(i)} from ${rec.donor}`, rec.ms, { bytes: rec.bytes });
      const { ms: catchUp } = await e.waitSql(i, "SELECT COUNT(*) FROM appdb.scale", "3");
      e.record(`catch-up of ${e.pod(i)} after its clone (from Ready)`, catchUp);
    }
  });

  it("scaling in 5 -> 3 and out again reuses the volumes: replication resumes without a new clone", async () => {
    const e = ctx();
    await kubectl(e.k, ["scale", "-n", e.namespace, `statefulset/${e.sts}`, "--replicas=3"]);
    e.replicas = 3;
    await e.waitAllReady(3);
    await e.sql(0, "INSERT INTO appdb.scale VALUES (4);");
    await kubectl(e.k, ["scale", "-n", e.namespace, `statefulset/${e.sts}`, "--replicas=5"]);
    e.replicas = 5;
    const { ms } = await e.waitAllReady(5);
    e.record("scale in 5 -> 3 and out to 5 (no clone)", ms);
    for (const i of [3, 4]) {
      const logs = await kubectl(e.k, ["logs", "-n", e.namespace, e.pod(i), "-c", "prepare-data"]);
      expect(logs.stdout).toMatch(/exists: keeping it/);
      expect((await cloneRecord(e, i)).ended).toBe(before[i].ended);
      await e.waitSql(i, "SELECT COUNT(*) FROM appdb.scale", "4");
    }
  });
}
