// Install, roles, writes and reads: the basic promise of a primary/replica cluster.
// Expects: the release installed with at least 2 pods, auth.username app, auth.database appdb.
import { expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import type { E2e } from "../context.js";
import { proveInstalled } from "./scenarios.js";

export function replication(ctx: () => E2e) {
  it("the release, installed from its flavor's ci/ scenario (ci/01, ci/03), passes the shared proof of every scenario (helm test: below)", async () => {
    expect(await proveInstalled(ctx(), false)).toBeUndefined();
  });

  it("pod 0 is a writable primary; every other pod is a read-only replica with both threads running", async () => {
    const e = ctx();
    const readOnly = FLAVORS[e.flavor].readOnlyQuery;
    expect(await e.sql(0, readOnly)).toBe("0\t0");
    for (let i = 1; i < e.replicas; i++) {
      // MariaDB has no super_read_only (the query answers 0 for it).
      expect(await e.sql(i, readOnly)).toBe(e.flavor === "mysql" ? "1\t1" : "1\t0");
      expect(await e.replicaStatus(i)).toMatchObject({ io: "Yes", sql: "Yes", lastErrno: "0", source: e.peerHost(0) });
    }
  });

  it("a row written on the primary through its stable DNS name is readable on every replica", async () => {
    const e = ctx();
    const w = await e.clientSql(e.host(0), "CREATE TABLE IF NOT EXISTS appdb.notes (id INT PRIMARY KEY, v VARCHAR(64)); INSERT INTO appdb.notes VALUES (1, 'written on the primary');", { user: "app" });
    expect(w.exitCode, w.err).toBe(0);
    for (let i = 1; i < e.replicas; i++) {
      const { ms } = await e.waitSql(i, "SELECT v FROM appdb.notes WHERE id = 1", "written on the primary");
      e.record(`row visible on replica ${i}`, ms);
    }
  });

  it("writes through the write Service <fullname>-primary reach the primary, every time", async () => {
    const e = ctx();
    for (let n = 1; n <= 5; n++) {
      const w = await e.clientSql(`${e.sts}-primary`, `INSERT INTO appdb.notes VALUES (${10 + n}, 'through the write Service'); SELECT @@hostname;`, { user: "app" });
      expect(w.exitCode, w.err).toBe(0);
      expect(w.out).toBe(e.pod(0));
    }
    await e.waitSql(e.replicas - 1, "SELECT COUNT(*) FROM appdb.notes WHERE v = 'through the write Service'", "5");
  });

  it("a write sent to any replica is refused", async () => {
    const e = ctx();
    for (let i = 1; i < e.replicas; i++) {
      const r = await e.clientSql(e.host(i), "INSERT INTO appdb.notes VALUES (100, 'on a replica');", { user: "app" });
      expect(r.exitCode, `write accepted by ${e.pod(i)}`).not.toBe(0);
      expect(r.err).toMatch(/read.only|1290/i);
      // Even root, over the network from the primary's pod (root@'%' is for the release's own pods).
      const asRoot = await e.memberSql(0, i, "INSERT INTO appdb.notes VALUES (101, 'root on a replica');");
      expect(asRoot.exitCode, `root's write accepted by ${e.pod(i)}`).not.toBe(0);
      expect(asRoot.err).toMatch(/read.only|1290|1836/i);
    }
    expect(await e.sql(0, "SELECT COUNT(*) FROM appdb.notes WHERE id >= 100")).toBe("0");
  });

  it("reads through the read Service reach more than one pod", async () => {
    const e = ctx();
    const ids = new Set<string>();
    for (let n = 0; n < 30 && ids.size < 2; n++) {
      const r = await e.clientSql(`${e.sts}-read`, "SELECT @@server_id", { user: "app" });
      expect(r.exitCode, r.err).toBe(0);
      ids.add(r.out);
    }
    expect(ids.size).toBeGreaterThan(1);
  });

  it("helm test passes", async () => {
    const r = await ctx().helmTest();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/every pod has the row written on the primary/);
  });
}
