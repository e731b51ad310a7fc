// From pods outside the release, the ports refuse what the chart promises they refuse; and with
// egress limited, the release's pods reach nothing but DNS, the Kubernetes API and each other.
// Expects: the release installed with at least 3 pods, networkPolicy.egress.enabled, and the
// client pod; leaves allowExternal on. Creates a namespace of its own for an outside client.
import { afterAll, expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { createNamespace, deleteNamespaces, enforceRestricted, execScript, kubectl } from "../../../scripts/lib/kube.js";
import type { Flavor } from "../../../scripts/lib/release.js";
import { CHART, type E2e, UPGRADED_CONFIG } from "../context.js";

/** From pod FROM (container CONTAINER, namespace NS): can a TCP connection to HOST:PORT be opened? */
async function canConnect(e: E2e, from: string, host: string, port: number, opts: { namespace?: string; container?: string } = {}): Promise<boolean> {
  // execScript: a lost answer must not read as "closed".
  const r = await execScript(e.k, opts.namespace ?? e.namespace, from, opts.container, `if timeout 5 bash -c 'exec 3<>/dev/tcp/${host}/${port}'; then echo open; else echo closed; fi`);
  if (r.exitCode !== 0) throw new Error(`the connection test from ${from} did not run: ${r.stderr}`);
  return r.stdout.trim() === "open";
}

async function podIp(e: E2e, pod: string): Promise<string> {
  return (await kubectl(e.k, ["get", "pod", "-n", e.namespace, pod, "-o", "jsonpath={.status.podIP}"])).stdout.trim();
}

export function networkPolicy(ctx: () => E2e, flavor: Flavor) {
  const outside: string[] = [];
  afterAll(async () => {
    await deleteNamespaces(ctx().k, outside);
  });

  it("with egress limited, the release's pods open no connection to a pod outside the release", async () => {
    const e = ctx();
    // A listener outside the release, answering anyone (no policy selects it).
    await e.startPod("listener", { command: ["socat", "TCP-LISTEN:8080,fork,reuseaddr", "SYSTEM:echo hello"] });
    const ip = await podIp(e, "listener");
    expect(await canConnect(e, "client", ip, 8080), "the listener answers a pod without an egress policy").toBe(true);
    for (const container of [e.container, "replication"]) {
      expect(await canConnect(e, e.pod(1), ip, 8080, { container }), `${e.pod(1)}/${container} reaches the listener`).toBe(false);
    }
    // What they need still works: the release is Ready (DNS, replication, clone), and the claims
    // are labelled (the Kubernetes API).
    const labels = (await kubectl(e.k, ["get", "pvc", "-n", e.namespace, `data-${e.sts}-1`, "-o", "jsonpath={.metadata.labels}"])).stdout;
    expect(labels).toContain("mysql-chart.io/holds-data");
    expect(await canConnect(e, e.pod(1), e.host(0), CHART.port, { container: "replication" })).toBe(true);
  });

  it("with allowExternal (the default) any pod reaches the database port, but the clone account needs its password", async () => {
    const e = ctx();
    expect(await canConnect(e, "client", e.host(0), CHART.port)).toBe(true);
    const r = await e.clientSql(e.host(0), "SELECT 1", { user: "clone", password: "not-the-password" });
    expect(r.exitCode).not.toBe(0);
    expect(r.err).toMatch(/Access denied/);
  });

  it.runIf(FLAVORS[flavor].backupPort)("the MariaDB backup port is open to the release's pods and closed to every other pod", async () => {
    const e = ctx();
    expect(await canConnect(e, "client", e.host(1), CHART.backupPort)).toBe(false);
    const fromPeer = await kubectl(e.k, ["exec", "-n", e.namespace, e.pod(2), "-c", "replication", "--", "bash", "-c", `timeout 5 bash -c 'exec 3<>/dev/tcp/${e.host(1)}/${CHART.backupPort}' && echo open`], { allowFailure: true });
    expect(fromPeer.stdout.trim()).toBe("open");
  });

  it("with allowExternal=false only pods labelled <fullname>-client and the listed clients (here: another namespace's) reach the database port", async () => {
    const e = ctx();
    const other = await createNamespace(e.k, "e2e-np-clients");
    outside.push(other);
    await enforceRestricted(e.k, other);
    await e.startPod("outside-client", { namespace: other, labels: { role: "app" } });
    await e.startPod("outside-unlisted", { namespace: other, labels: { role: "other" } });
    await e.upgrade({
      ...UPGRADED_CONFIG,
      "networkPolicy.allowExternal": false,
      "networkPolicy.clients[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name": other,
      "networkPolicy.clients[0].podSelector.matchLabels.role": "app",
    });
    await e.startClient("labelled-client", { [`${e.sts}-client`]: "true" });
    const fqdn = `${e.host(0)}.${e.namespace}.svc.cluster.local`;
    expect(await canConnect(e, "client", e.host(0), CHART.port), "an unlabelled pod of the namespace").toBe(false);
    expect(await canConnect(e, "labelled-client", e.host(0), CHART.port), "a labelled pod of the namespace").toBe(true);
    expect(await canConnect(e, "outside-client", fqdn, CHART.port, { namespace: other }), "a listed client in another namespace").toBe(true);
    expect(await canConnect(e, "outside-unlisted", fqdn, CHART.port, { namespace: other }), "an unlisted pod of that namespace").toBe(false);
    const r = await e.clientSql(e.host(0), "SELECT 1", { client: "labelled-client", user: "app" });
    expect(r.exitCode, r.err).toBe(0);
    await e.upgrade({ ...UPGRADED_CONFIG, "networkPolicy.allowExternal": true });
    expect(await canConnect(e, "client", e.host(0), CHART.port)).toBe(true);
  });
}
