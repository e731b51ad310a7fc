// helm upgrade: a changed my.cnf setting rolls the pods and applies; data and passwords stay.
// Expects: the release installed (any size, OrderedReady); applies UPGRADED_CONFIG, which later upgrades repeat.
import { expect, it } from "vitest";
import { kubectl } from "../../../scripts/lib/kube.js";
import { type E2e, TIMEOUTS, UPGRADED_CONFIG } from "../context.js";

async function secretData(e: E2e, name = e.sts): Promise<string> {
  return (await kubectl(e.k, ["get", "secret", "-n", e.namespace, name, "-o", "jsonpath={.data}"])).stdout;
}

async function podUids(e: E2e): Promise<string[]> {
  const out = (await kubectl(e.k, ["get", "pods", "-n", e.namespace, "-l", "app.kubernetes.io/instance=mysql", "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.uid} {end}"])).stdout;
  return out.trim().split(" ").filter((x) => /^mysql-\d+=/.test(x)).sort();
}

export function upgrade(ctx: () => E2e) {
  it("helm upgrade with an extra my.cnf setting rolls every pod, applies it, and keeps data and passwords", async () => {
    const e = ctx();
    const secret = await secretData(e);
    const uids = await podUids(e);
    await e.sql(0, "CREATE DATABASE IF NOT EXISTS appdb; CREATE TABLE IF NOT EXISTS appdb.upgrade (id INT PRIMARY KEY); REPLACE INTO appdb.upgrade VALUES (1), (2), (3);");
    const rows = await e.sql(0, "SELECT COUNT(*) FROM appdb.upgrade");
    const t0 = Date.now();
    await e.upgrade(UPGRADED_CONFIG);
    await kubectl(e.k, ["rollout", "status", "-n", e.namespace, `statefulset/${e.sts}`, `--timeout=${TIMEOUTS.rollout / 1000 - 60}s`], { timeoutMs: TIMEOUTS.rollout });
    await e.waitAllReady();
    e.record("helm upgrade rolling all pods", Date.now() - t0);
    const after = await podUids(e);
    expect(after.filter((u) => uids.includes(u))).toEqual([]);
    for (let i = 0; i < e.replicas; i++) {
      expect(await e.sql(i, "SELECT @@max_connections")).toBe("345");
      await e.waitSql(i, "SELECT COUNT(*) FROM appdb.upgrade", rows);
    }
    expect(await secretData(e)).toBe(secret);
    const login = await e.clientSql(e.host(0), "SELECT 1", { user: "app" });
    expect(login.exitCode, login.err).toBe(0);
  });

  it("three helm upgrades without password values leave the Secret, the generated certificate and every login unchanged", async () => {
    const e = ctx();
    const secret = await secretData(e);
    const certificate = await secretData(e, `${e.sts}-tls`);
    expect(certificate).toContain("ca.key");
    for (let n = 0; n < 3; n++) await e.upgrade(UPGRADED_CONFIG);
    expect(await secretData(e)).toBe(secret);
    expect(await secretData(e, `${e.sts}-tls`)).toBe(certificate);
    for (let i = 0; i < e.replicas; i++) {
      const app = await e.clientSql(e.host(i), "SELECT CURRENT_USER()", { user: "app" });
      expect(app.exitCode, `app@${e.pod(i)}: ${app.err}`).toBe(0);
      const root = await e.memberSql((i + 1) % e.replicas, i, "SELECT CURRENT_USER()");
      expect(root.exitCode, `root@${e.pod(i)}: ${root.err}`).toBe(0);
    }
  });

  it("helm refuses to change the flavor or the pod management policy of an existing release, naming the field", async () => {
    const e = ctx();
    const other = e.flavor === "mysql" ? "mariadb" : "mysql";
    const flavor = await e.upgrade({ ...UPGRADED_CONFIG, flavor: other }).then(() => "accepted", (err: Error) => err.message);
    expect(flavor).toMatch(new RegExp(`flavor cannot change on an existing release \\("${e.flavor}" now, "${other}" asked\\)`));
    // A new release gets Parallel (the value left empty); asking for the other one is refused.
    const policy = await e.upgrade({ ...UPGRADED_CONFIG, podManagementPolicy: "OrderedReady" }).then(() => "accepted", (err: Error) => err.message);
    expect(policy).toMatch(/podManagementPolicy cannot change on an existing release \("Parallel" now, "OrderedReady" asked\)/);
  });
}
