// Pods deleted under load come back and catch up; no acknowledged write is lost.
// Expects: the release installed (any size) and the client pod; writes its own appdb.writes.
import { expect, it } from "vitest";
import { kubectl, waitFor } from "../../../scripts/lib/kube.js";
import { CHART, type E2e, TIMEOUTS } from "../context.js";

export function recovery(ctx: () => E2e) {
  it("a replica deleted while writes continue returns and catches up", async () => {
    const e = ctx();
    const { acked, ms } = await e.underWrites(60, "appdb.writes", async () => {
      await kubectl(e.k, ["delete", "pod", "-n", e.namespace, e.pod(e.replicas - 1), "--wait=true"]);
      await e.waitAllReady();
    });
    e.record("replica deleted -> Ready again", ms);
    expect(acked.length).toBe(60);
    const t1 = Date.now();
    await e.everyPodHas(acked);
    e.record("catch-up after replica deletion", Date.now() - t1);
  });

  it("the primary deleted while a client writes returns, replicas reconnect, and every acknowledged write is on every pod", async () => {
    const e = ctx();
    const { acked, ms } = await e.underWrites(80, "appdb.writes", async () => {
      const t0 = Date.now();
      await kubectl(e.k, ["delete", "pod", "-n", e.namespace, e.pod(0), "--wait=true"]);
      e.record("primary pod deletion (graceful stop)", Date.now() - t0);
      await e.waitAllReady();
    });
    e.record("primary deleted -> all Ready again", ms);
    expect(acked.length).toBe(80);
    await e.everyPodHas(acked);
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
