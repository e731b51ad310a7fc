// What users of other charts complain about, shown on the running cluster.
// Expects: the release installed with at least 2 replicas (pods 1..N-1).
import { expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { isReady, kubectl, waitFor } from "../../../scripts/lib/kube.js";
import { CHART, type E2e, TIMEOUTS } from "../context.js";

/** Pod names behind the read Service right now (its EndpointSlices' ready endpoints). */
async function readEndpoints(e: E2e): Promise<string[]> {
  const r = await kubectl(e.k, [
    "get", "endpointslices", "-n", e.namespace, "-l", `kubernetes.io/service-name=${e.sts}-read`,
    "-o", "jsonpath={range .items[*].endpoints[*]}{.targetRef.name}={.conditions.ready} {end}",
  ]);
  return r.stdout.trim().split(" ").filter((x) => x.endsWith("=true")).map((x) => x.split("=")[0]).sort();
}

export function pains(ctx: () => E2e) {
  it("a replica whose SQL thread is stopped leaves the read Service within two probe periods, and returns when it runs again", async () => {
    const e = ctx();
    expect(await readEndpoints(e)).toContain(e.pod(1));
    const stop = `STOP ${FLAVORS[e.flavor].replica} SQL_THREAD`;
    const start = `START ${FLAVORS[e.flavor].replica} SQL_THREAD`;
    await e.sql(1, stop);
    const gone = await waitFor(`${e.pod(1)} out of the read Service`, async () => !(await readEndpoints(e)).includes(e.pod(1)) || undefined, {
      timeoutMs: TIMEOUTS.readiness,
      intervalMs: 500,
    });
    e.record("stopped SQL thread -> out of the read Service", gone.ms);
    // Two readiness periods, plus the probe's own run and the endpoint controller's propagation
    // (a wide margin: exec probes on a busy 2-core node start late).
    expect(gone.ms).toBeLessThan(2 * CHART.readinessPeriodMs + 10_000);
    await e.sql(1, start);
    const back = await waitFor(`${e.pod(1)} back in the read Service`, async () => (await readEndpoints(e)).includes(e.pod(1)) || undefined, {
      timeoutMs: TIMEOUTS.readiness,
      intervalMs: 500,
    });
    e.record("SQL thread started -> back in the read Service", back.ms);
  });

  it("a replica whose volume is replaced by an empty one is not Ready until it has cloned again", async () => {
    const e = ctx();
    const last = e.replicas - 1;
    await e.sql(0, "CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE IF NOT EXISTS appdb.pains (id INT PRIMARY KEY, v VARCHAR(64)); REPLACE INTO appdb.pains VALUES (1, 'before the volume was lost');");
    await e.waitSql(last, "SELECT v FROM appdb.pains WHERE id = 1", "before the volume was lost");
    await kubectl(e.k, ["delete", "pvc", "-n", e.namespace, `data-${e.pod(last)}`, "--wait=false"]);
    await kubectl(e.k, ["delete", "pod", "-n", e.namespace, e.pod(last), "--wait=true"]);
    const t0 = Date.now();
    let sawReadyWithoutData = false;
    await waitFor(`${e.pod(last)} Ready after a new clone`, async () => {
      const pod = await e.k.core.readNamespacedPod({ name: e.pod(last), namespace: e.namespace }).catch(() => undefined);
      if (!pod || !isReady(pod)) return undefined;
      const logs = await kubectl(e.k, ["logs", "-n", e.namespace, e.pod(last), "-c", "prepare-data"], { allowFailure: true });
      if (!/clone completed/.test(logs.stdout + logs.stderr)) sawReadyWithoutData = true;
      return true;
    }, { timeoutMs: TIMEOUTS.allReady });
    e.record(`${e.pod(last)} re-cloned onto an empty volume`, Date.now() - t0);
    expect(sawReadyWithoutData).toBe(false);
    await e.waitSql(last, "SELECT v FROM appdb.pains WHERE id = 1", "before the volume was lost");
  });
}
