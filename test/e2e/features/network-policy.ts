// From a pod outside the release, the ports refuse what the chart promises they refuse.
// Expects: the release installed with at least 3 pods and the client pod; leaves allowExternal on.
import { expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { kubectl } from "../../../scripts/lib/kube.js";
import type { Flavor } from "../../../scripts/lib/release.js";
import { CHART, type E2e, UPGRADED_CONFIG } from "../context.js";

/** From the client pod: can a TCP connection to HOST:PORT be opened? */
async function canConnect(e: E2e, client: string, host: string, port: number): Promise<boolean> {
  const r = await kubectl(e.k, ["exec", "-n", e.namespace, client, "--", "bash", "-c", `timeout 5 bash -c 'exec 3<>/dev/tcp/${host}/${port}' && echo open || echo closed`], {
    allowFailure: true,
  });
  return r.stdout.trim() === "open";
}

export function networkPolicy(ctx: () => E2e, flavor: Flavor) {
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

  it("with allowExternal=false only pods labelled <fullname>-client reach the database port", async () => {
    const e = ctx();
    await e.upgrade({ ...UPGRADED_CONFIG, "networkPolicy.allowExternal": false });
    await e.startClient("labelled-client", { [`${e.sts}-client`]: "true" });
    expect(await canConnect(e, "client", e.host(0), CHART.port)).toBe(false);
    expect(await canConnect(e, "labelled-client", e.host(0), CHART.port)).toBe(true);
    const r = await e.clientSql(e.host(0), "SELECT 1", { client: "labelled-client" });
    expect(r.exitCode, r.err).toBe(0);
    await e.upgrade({ ...UPGRADED_CONFIG, "networkPolicy.allowExternal": true });
    expect(await canConnect(e, "client", e.host(0), CHART.port)).toBe(true);
  });
}
