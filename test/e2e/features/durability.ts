// Acknowledged writes survive a crashed server and lost volumes: after each failure, every
// acknowledged key is on every pod, the GTID states converge, the table checksums agree, and no
// replica was re-cloned except the one whose own volume was lost. A replica that can never
// continue (its binary logs purged on the primary) repairs itself.
// Expects: the release installed (any size, at least 2 pods), the client pod, and a kind cluster
// (SIGKILL is sent from the kind node, the only place outside the server's PID namespace).
// Writes its own appdb.acked.
import { execa } from "execa";
import { expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { deletePodAndClaim, isReady, kubectl, sleep, waitFor } from "../../../scripts/lib/kube.js";
import { type E2e, TIMEOUTS } from "../context.js";

const TABLE = "appdb.acked";

/**
 * Delete pod ORDINAL and its claim, as a runbook does after losing a node with local storage;
 * returns when the old pod is gone (Date.now()), so recovery is timed without its shutdown.
 */
async function loseVolume(e: E2e, ordinal: number): Promise<number> {
  return deletePodAndClaim(e.k, e.namespace, e.pod(ordinal), `data-${e.sts}-${ordinal}`, TIMEOUTS.settle);
}

interface Recovery {
  /** From the old pod gone to the lost pod Ready again (for pod 0: writes work). */
  podMs: number;
  /** From the new pod scheduled (its new volume provisioned and bound) to Ready: the chart's own work. */
  chartMs: number;
  /** From the old pod gone to every pod Ready. */
  allMs: number;
}

/**
 * Lose pod ORDINAL's volume and time its recovery (see Recovery). The pod is polled every 250 ms:
 * the storage provisioner's share varies by seconds from one claim to the next on kind, so the
 * comparison of recoveries uses the chart's own share.
 */
async function recoverFromLostVolume(e: E2e, ordinal: number): Promise<Recovery> {
  const gone = await loseVolume(e, ordinal);
  let scheduledAt = 0;
  const { value: readyAt } = await waitFor(`${e.pod(ordinal)} Ready on its new volume`, async () => {
    const p = await e.k.core.readNamespacedPod({ name: e.pod(ordinal), namespace: e.namespace }).catch(() => undefined);
    if (!p) return undefined;
    if (!scheduledAt && p.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "True")) scheduledAt = Date.now();
    return isReady(p) ? Date.now() : undefined;
  }, { timeoutMs: TIMEOUTS.allReady, intervalMs: 250, quiet: true });
  await e.waitAllReady();
  return { podMs: readyAt - gone, chartMs: readyAt - scheduledAt, allMs: Date.now() - gone };
}

/** A recovery's timings for the report, in seconds. */
function timings(r: Recovery) {
  return { "scheduled -> Ready (chart's share)": (r.chartMs / 1000).toFixed(1), "all Ready": (r.allMs / 1000).toFixed(1) };
}

/** SIGKILL the database server of pod ORDINAL from the kind node (not a graceful stop). */
async function killServer(e: E2e, ordinal: number) {
  const pod = JSON.parse((await kubectl(e.k, ["get", "pod", "-n", e.namespace, e.pod(ordinal), "-o", "json"])).stdout);
  const status = pod.status.containerStatuses.find((c: { name: string }) => c.name === e.container);
  const id = String(status.containerID).replace(/^[a-z]+:\/\//, "");
  const info = JSON.parse((await execa("docker", ["exec", pod.spec.nodeName, "crictl", "inspect", id])).stdout);
  const pid = Number(info.info.pid);
  expect(pid, "the server's PID on the node").toBeGreaterThan(1);
  await execa("docker", ["exec", pod.spec.nodeName, "kill", "-9", String(pid)]);
  await waitFor(`${e.pod(ordinal)}'s server restarted after SIGKILL`, async () => {
    const p = JSON.parse((await kubectl(e.k, ["get", "pod", "-n", e.namespace, e.pod(ordinal), "-o", "json"])).stdout);
    const s = p.status.containerStatuses.find((c: { name: string }) => c.name === e.container);
    return s.restartCount > status.restartCount || undefined;
  }, { timeoutMs: TIMEOUTS.settle });
}

/** Every acknowledged key on every pod, GTID states converged, equal checksums, and only RECLONED re-cloned. */
async function nothingLost(e: E2e, acked: number[], before: string[], recloned: number[]) {
  await e.everyPodHas(acked, TABLE);
  const target = await e.sql(0, FLAVORS[e.flavor].gtidQuery);
  const checksum = await e.sql(0, `CHECKSUM TABLE ${TABLE}`);
  for (let i = 1; i < e.replicas; i++) {
    await e.waitSql(i, FLAVORS[e.flavor].hasGtidsQuery(target), "1");
    expect(await e.sql(i, `CHECKSUM TABLE ${TABLE}`), `checksum on ${e.pod(i)}`).toBe(checksum);
  }
  const after = await e.dataDirs();
  for (let i = 1; i < e.replicas; i++) {
    if (recloned.includes(i)) expect(after[i], `${e.pod(i)} has a new data directory`).not.toBe(before[i]);
    else expect(after[i], `${e.pod(i)} kept its data directory (not re-cloned)`).toBe(before[i]);
  }
  console.log(`${e.suite}: ${acked.length} writes acknowledged, ${acked.length} found on each of ${e.replicas} pods`);
}

export function durability(ctx: () => E2e) {
  /** Pod 0's recovery, compared with a replica's re-clone (the bound: at most 1.2 times). */
  let pod0Recovery: Recovery | undefined;

  it("a primary killed with SIGKILL loses no acknowledged write, and no replica is re-cloned", async () => {
    const e = ctx();
    const before = await e.dataDirs();
    const { acked, ms } = await e.underWrites(60, TABLE, async () => {
      await killServer(e, 0);
      await e.waitAllReady();
    });
    e.record("primary SIGKILL -> all Ready", ms, { acknowledged: acked.length });
    expect(acked.length).toBe(60);
    await nothingLost(e, acked, before, []);
  });

  it("pod 0 with its volume lost copies the most advanced replica, serves as primary, and the replicas continue without a re-clone, serving reads all along", async () => {
    const e = ctx();
    const before = await e.dataDirs();
    let recovery: Recovery = { podMs: 0, chartMs: 0, allMs: 0 };
    let replicasNotReady: string[] = [];
    const { acked, ms } = await e.underWrites(60, TABLE, async () => {
      const replicas = [...Array(e.replicas).keys()].slice(1);
      replicasNotReady = await e.notReadyDuring(async () => {
        recovery = await recoverFromLostVolume(e, 0);
      }, replicas);
    });
    e.record("pod 0 volume lost: pod gone -> pod 0 Ready (seeded from a replica)", recovery.podMs, {
      acknowledged: acked.length,
      ...timings(recovery),
      "with the deletion": (ms / 1000).toFixed(1),
    });
    pod0Recovery = recovery;
    expect(acked.length).toBe(60);
    // Their data was at most seconds old (well within replication.maxLagSeconds): they stayed in the read Service.
    expect(replicasNotReady, "replicas seen not Ready while pod 0 recovered").toEqual([]);
    // Every write from before the loss is there: pod 0 never started empty.
    await nothingLost(e, acked, before, []);
    const log = (await kubectl(e.k, ["logs", "-n", e.namespace, e.pod(0), "-c", "prepare-data"])).stdout;
    expect(log).toMatch(/seeded from .* in \d+s/);
    const events = (await kubectl(e.k, ["get", "events", "-n", e.namespace, "--field-selector", `involvedObject.name=${e.pod(0)},reason=SeededFromReplica`, "-o", "name"])).stdout;
    expect(events.trim(), "a SeededFromReplica Event on pod 0").not.toBe("");
  });

  it("pod 0 lost while a replica lags: pod 0 copies the most advanced replica, and the lagging one catches up from it without a re-clone", async () => {
    const e = ctx();
    const lagging = e.replicas - 1;
    const flavor = FLAVORS[e.flavor];
    await e.sql(0, `CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE IF NOT EXISTS ${TABLE} (id INT PRIMARY KEY, at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)); DELETE FROM ${TABLE};`);
    await e.waitSql(lagging, `SELECT COUNT(*) FROM ${TABLE}`, "0");
    const before = await e.dataDirs();
    // The lagging replica stops receiving; the others get ten more rows.
    await e.sql(lagging, `STOP ${flavor.replica} IO_THREAD`);
    const ids = Array.from({ length: 10 }, (_, i) => 2001 + i);
    await e.sql(0, `INSERT INTO ${TABLE} (id) VALUES ${ids.map((id) => `(${id})`).join(", ")}`);
    for (let i = 1; i < lagging; i++) await e.waitSql(i, `SELECT COUNT(*) FROM ${TABLE}`, "10");
    expect(await e.sql(lagging, `SELECT COUNT(*) FROM ${TABLE}`)).toBe("0");
    const recovery = await recoverFromLostVolume(e, 0);
    e.record("pod 0 volume lost with a lagging replica: pod gone -> pod 0 Ready", recovery.podMs, timings(recovery));
    await e.everyPodHas(ids, TABLE);
    const log = (await kubectl(e.k, ["logs", "-n", e.namespace, e.pod(0), "-c", "prepare-data"])).stdout;
    expect(log).toContain(`copying the most advanced replica, ${e.peerHost(1)}`);
    expect(log).toMatch(new RegExp(`${e.peerHost(lagging).replace(/\./g, "\\.")} lags behind ${e.peerHost(1).replace(/\./g, "\\.")}`));
    expect(log).toMatch(/caught up in \d+s and points at/);
    const after = await e.dataDirs();
    for (let i = 1; i < e.replicas; i++) expect(after[i], `${e.pod(i)} kept its data directory (not re-cloned)`).toBe(before[i]);
    const s = await e.replicaStatus(lagging);
    expect([s.io, s.sql, s.source], `${e.pod(lagging)} replicates from pod 0 again`).toEqual(["Yes", "Yes", e.peerHost(0)]);
  });

  it("a replica with its volume lost re-clones and catches up, alone", async () => {
    const e = ctx();
    const victim = e.replicas - 1;
    const before = await e.dataDirs();
    let recovery: Recovery = { podMs: 0, chartMs: 0, allMs: 0 };
    const { acked, ms } = await e.underWrites(60, TABLE, async () => {
      recovery = await recoverFromLostVolume(e, victim);
    });
    e.record("replica volume lost: pod gone -> that replica Ready (re-cloned)", recovery.podMs, {
      acknowledged: acked.length,
      ...timings(recovery),
      "with the deletion": (ms / 1000).toFixed(1),
      ...(pod0Recovery
        ? {
            "pod 0 recovery / this (chart's share)": (pod0Recovery.chartMs / recovery.chartMs).toFixed(2),
            "pod 0 recovery / this (wall)": (pod0Recovery.podMs / recovery.podMs).toFixed(2),
          }
        : {}),
    });
    expect(acked.length).toBe(60);
    await nothingLost(e, acked, before, [victim]);
  });

  it("a replica whose binary logs were purged on the primary while it was scaled in re-clones itself and is Ready with every row", async () => {
    const e = ctx();
    const victim = e.replicas - 1;
    const sts = `statefulset/${e.sts}`;
    const before = await e.dataDirs();
    await kubectl(e.k, ["scale", "-n", e.namespace, sts, `--replicas=${e.replicas - 1}`]);
    await kubectl(e.k, ["wait", "-n", e.namespace, "--for=delete", `pod/${e.pod(victim)}`, "--timeout=120s"], { timeoutMs: 150_000 });
    await e.sql(0, `CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE IF NOT EXISTS ${TABLE} (id INT PRIMARY KEY, at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3)); DELETE FROM ${TABLE}; INSERT INTO ${TABLE} (id) VALUES (1001), (1002), (1003); FLUSH BINARY LOGS;`);
    await sleep(2000); // the closed logs' times must be before NOW()
    await e.sql(0, "PURGE BINARY LOGS BEFORE NOW()");
    const t0 = Date.now();
    await kubectl(e.k, ["scale", "-n", e.namespace, sts, `--replicas=${e.replicas}`]);
    await e.waitAllReady();
    e.record("stale replica (purged binlogs) scaled out -> re-cloned itself, Ready", Date.now() - t0);
    await e.everyPodHas([1001, 1002, 1003], TABLE);
    const after = await e.dataDirs();
    expect(after[victim], `${e.pod(victim)} has a new data directory`).not.toBe(before[victim]);
    const events = (await kubectl(e.k, ["get", "events", "-n", e.namespace, "--field-selector", `involvedObject.name=${e.pod(victim)},reason=RecloningReplica`, "-o", "jsonpath={.items[*].message}"])).stdout;
    expect(events, "a RecloningReplica Event naming the reason").toMatch(/cannot continue: the primary refuses to send what this replica needs/);
  });
}
