// Pods deleted under load come back and catch up; no acknowledged write is lost.
// Expects: the release installed (any size) and the client pod; writes its own appdb.writes.
import { expect, it } from "vitest";
import { kubectl, waitFor } from "../../../scripts/lib/kube.js";
import { CHART, type E2e, TIMEOUTS } from "../context.js";

async function everyPodHas(e: E2e, ids: number[]) {
  const max = Math.max(...ids);
  for (let i = 0; i < e.replicas; i++) {
    await waitFor(`all ${ids.length} acknowledged rows on ${e.pod(i)}`, async () => {
      const have = (await e.trySql(i, `SELECT id FROM appdb.writes WHERE id <= ${max}`)).out.split("\n").map(Number);
      const set = new Set(have);
      return ids.every((id) => set.has(id)) ? true : undefined;
    }, { timeoutMs: TIMEOUTS.replicate });
  }
}

export function recovery(ctx: () => E2e) {
  it("a replica deleted while writes continue returns and catches up", async () => {
    const e = ctx();
    await e.sql(0, "CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE IF NOT EXISTS appdb.writes (id INT PRIMARY KEY, at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3));");
    const writer = e.startWriter(60);
    await waitFor("the writer's first rows", async () => writer.acked().length >= 5 || undefined, { timeoutMs: TIMEOUTS.settle });
    const t0 = Date.now();
    await kubectl(e.k, ["delete", "pod", "-n", e.namespace, e.pod(e.replicas - 1), "--wait=true"]);
    await e.waitAllReady();
    e.record("replica deleted -> Ready again", Date.now() - t0);
    await writer.proc;
    const acked = writer.acked();
    expect(acked.length).toBe(60);
    const t1 = Date.now();
    await everyPodHas(e, acked);
    e.record("catch-up after replica deletion", Date.now() - t1);
  });

  it("the primary deleted while a client writes returns, replicas reconnect, and every acknowledged write is on every pod", async () => {
    const e = ctx();
    await e.sql(0, "DELETE FROM appdb.writes");
    const writer = e.startWriter(80);
    await waitFor("the writer's first rows", async () => writer.acked().length >= 5 || undefined, { timeoutMs: TIMEOUTS.settle });
    const t0 = Date.now();
    await kubectl(e.k, ["delete", "pod", "-n", e.namespace, e.pod(0), "--wait=true"]);
    e.record("primary pod deletion (graceful stop)", Date.now() - t0);
    await e.waitAllReady();
    e.record("primary deleted -> all Ready again", Date.now() - t0);
    await writer.proc;
    const acked = writer.acked();
    expect(acked.length).toBeGreaterThan(0);
    await everyPodHas(e, acked);
    for (let i = 1; i < e.replicas; i++) {
      await waitFor(`${e.pod(i)} replicating again`, async () => {
        const s = await e.replicaStatus(i);
        return s.io === "Yes" && s.sql === "Yes" ? true : undefined;
      }, { timeoutMs: TIMEOUTS.replicate });
    }
  });

  it("a pod stops promptly when deleted (no shell or tool ignoring SIGTERM)", async () => {
    const e = ctx();
    const t0 = Date.now();
    await kubectl(e.k, ["delete", "pod", "-n", e.namespace, e.pod(e.replicas - 1), "--wait=true"]);
    const ms = Date.now() - t0;
    e.record("replica pod deletion", ms);
    // Far below the grace period: nothing waits it out.
    expect(ms).toBeLessThan(0.75 * CHART.gracePeriodMs);
    await e.waitAllReady();
  });

  it("server ids stay distinct and equal to offset + ordinal across all these restarts", async () => {
    const e = ctx();
    for (let i = 0; i < e.replicas; i++) expect(await e.sql(i, "SELECT @@server_id")).toBe(String(CHART.serverIdOffset + i));
  });
}
