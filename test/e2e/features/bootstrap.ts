// Migrating an existing MySQL into a release (bootstrap.cloneFrom): a plain MySQL server that is not
// part of any release ("legacy-db", a bare pod with a Service) stands in for the old database. The
// new release ("moved", 2 pods, egress restricted) copies it into pod 0, replicates from it
// read-only while its replica seeds from pod 0, and after the cut-over (a helm upgrade that restarts
// no pod) takes writes with the old server's rows and checksums. Installed beside the main release
// (prepareBootstrap starts it while the main release installs). Expects: nothing of the main release.
import { afterAll, expect, it } from "vitest";
import { helm } from "../../../scripts/lib/helm.js";
import { apply, keepNamespaces, kubectl } from "../../../scripts/lib/kube.js";
import { waitFor } from "../../../scripts/lib/wait.js";
import { OUTSIDE_CA, OUTSIDE_PASSWORD, OUTSIDE_SQL, OUTSIDE_USER, outsideServerScript } from "../../helpers/outside-server.js";
import { E2e, SIDE_RELEASE, TIMEOUTS } from "../context.js";

const OLD = "legacy-db";
/** 500 orders on the old server, written before the release exists. */
const ORDERS = [
  "CREATE DATABASE shop;",
  "CREATE TABLE shop.orders (id INT PRIMARY KEY, customer VARCHAR(32), total DECIMAL(10,2), at DATETIME);",
  "SET SESSION cte_max_recursion_depth = 1000;",
  "INSERT INTO shop.orders WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)",
  "  SELECT i, CONCAT('customer-', i % 37), i * 1.25, '2026-01-01' + INTERVAL i MINUTE FROM n;",
].join("\n");

export interface Migration {
  moved: E2e;
  /** SQL as root on the old server. */
  oldSql(q: string): Promise<string>;
}

/** Start the old server, then install release "moved" from it; resolves when both pods are Ready. */
export async function prepareBootstrap(main: E2e): Promise<Migration> {
  const ns = main.namespace;
  const oldSql = async (q: string) => (await kubectl(main.k, ["exec", "-i", "-n", ns, OLD, "--", ...OUTSIDE_SQL], { input: q })).stdout.trim();
  await main.startPod(OLD, { labels: { app: OLD }, command: ["bash", "-c", outsideServerScript({ serverId: 7, initSql: ORDERS })] });
  await apply(main.k, ns, JSON.stringify({
    apiVersion: "v1", kind: "Service", metadata: { name: OLD, namespace: ns },
    spec: { selector: { app: OLD }, ports: [{ port: 3306, targetPort: 3306 }] },
  }));
  await waitFor("the old server to answer", async () => ((await oldSql("SELECT COUNT(*) FROM shop.orders").catch(() => "")) === "500") || undefined, { timeoutMs: TIMEOUTS.allReady, intervalMs: TIMEOUTS.poll });
  // Its own CA (it generated it at initialisation): the release verifies the old server with it.
  const ca = (await kubectl(main.k, ["exec", "-n", ns, OLD, "--", "cat", OUTSIDE_CA])).stdout;
  for (const [name, key, value] of [[`${OLD}-migrator`, "password", OUTSIDE_PASSWORD], [`${OLD}-ca`, "ca.crt", ca]]) {
    await apply(main.k, ns, JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: ns }, stringData: { [key]: value } }));
  }
  const moved = new E2e(main.flavor, ns, "moved");
  moved.replicas = 2;
  moved.baseSet = {
    ...SIDE_RELEASE,
    "networkPolicy.egress.enabled": true,
    "bootstrap.cloneFrom.host": `${OLD}.${ns}.svc`,
    "bootstrap.cloneFrom.user": OUTSIDE_USER,
    "bootstrap.cloneFrom.passwordSecret.name": `${OLD}-migrator`,
    "bootstrap.cloneFrom.tls.caSecret": `${OLD}-ca`,
  };
  await moved.upgrade();
  await moved.waitAllReady();
  return { moved, oldSql };
}

export function bootstrap(migration: () => Promise<Migration>) {
  afterAll(async () => {
    const m = await migration().catch(() => undefined);
    if (!m || keepNamespaces()) return;
    await helm(["uninstall", "moved", "--namespace", m.moved.namespace, "--kubeconfig", m.moved.k.kubeconfig, "--wait=false"], { allowFailure: true });
  });

  it("pod 0 copies the old server and replicates from it, read-only; the replica seeds from pod 0 and follows", async () => {
    const { moved, oldSql } = await migration();
    expect(await moved.sql(0, "SELECT COUNT(*) FROM shop.orders")).toBe("500");
    expect(await moved.sql(0, "SELECT @@super_read_only")).toBe("1");
    const status = await moved.replicaStatus(0);
    expect([status.source, status.io, status.sql]).toEqual([`${OLD}.${moved.namespace}.svc`, "Yes", "Yes"]);
    await oldSql("INSERT INTO shop.orders VALUES (501, 'during the migration', 9.99, NOW())");
    await moved.waitSql(1, "SELECT customer FROM shop.orders WHERE id = 501", "during the migration");
    expect((await moved.trySql(0, "INSERT INTO shop.orders VALUES (502, 'too early', 1, NOW())")).exitCode).not.toBe(0);
  });

  it("the cut-over (helm upgrade --set bootstrap.cloneFrom.cutOver=true) restarts no pod; pod 0 then takes writes, with the old server's rows and checksums", async () => {
    const { moved, oldSql } = await migration();
    const uids = async () => (await moved.k.core.listNamespacedPod({ namespace: moved.namespace, labelSelector: "app.kubernetes.io/instance=moved" })).items.map((p) => p.metadata?.uid).sort();
    const before = await uids();
    await oldSql("INSERT INTO shop.orders VALUES (503, 'last write on the old server', 5, NOW())");
    const t0 = Date.now();
    await moved.upgrade({ "bootstrap.cloneFrom.cutOver": true });
    await moved.waitSql(0, "SELECT @@read_only", "0", 180_000);
    moved.record("migration: cut-over asked to pod 0 writable", Date.now() - t0);
    expect(await uids()).toEqual(before);
    const events = await kubectl(moved.k, ["get", "events", "-n", moved.namespace, "--field-selector", `reason=CutOver,involvedObject.name=${moved.pod(0)}`, "-o", "name"]);
    expect(events.stdout.trim()).not.toBe("");
    const checksum = "CHECKSUM TABLE shop.orders";
    const theirs = await oldSql(checksum);
    expect(await oldSql("SELECT COUNT(*) FROM shop.orders")).toBe("502");
    expect(await moved.sql(0, checksum)).toBe(theirs);
    await moved.waitSql(1, checksum, theirs);
    expect(await moved.sql(0, "SHOW REPLICA STATUS")).toBe("");
    await moved.sql(0, "INSERT INTO shop.orders VALUES (600, 'on the new primary', 1, NOW())");
    await moved.waitSql(1, "SELECT customer FROM shop.orders WHERE id = 600", "on the new primary");
  });
}
