// Extension points and Service options, as the chart's scenario ci/10-extensions-values.yaml sets
// them: an extra environment variable and ConfigMap volume inside the server, a sidecar on the
// server's socket, an init container after the chart's, the write Service on a fixed node port,
// and a read Service without the primary. A release of its own ("ext", 2 pods), installed beside
// the main one (prepareExtensions starts it while the main release installs).
// Expects: the main release's client pod (for connections through the read Service).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { load } from "js-yaml";
import { afterAll, expect, it } from "vitest";
import { helm } from "../../../scripts/lib/helm.js";
import { keepNamespaces, kubectl } from "../../../scripts/lib/kube.js";
import { prove } from "../../../scripts/lib/proof.js";
import { chartDir } from "../../../scripts/lib/release.js";
import { CHART, E2e, SIDE_RELEASE } from "../context.js";

export const EXTENSIONS_VALUES = join(chartDir, "ci/10-extensions-values.yaml");
/** primaryService.nodePort in that file. */
const NODE_PORT = (load(readFileSync(EXTENSIONS_VALUES, "utf8")) as { primaryService: { nodePort: number } }).primaryService.nodePort;

/** Install release "ext" with the extensions scenario; resolves when both pods are Ready. */
export async function prepareExtensions(main: E2e): Promise<E2e> {
  const ext = new E2e(main.flavor, main.namespace, "ext");
  ext.replicas = 2;
  ext.valuesFiles = [EXTENSIONS_VALUES];
  ext.baseSet = { ...SIDE_RELEASE };
  await ext.upgrade();
  await ext.waitAllReady();
  return ext;
}

export function extensions(ctx: () => E2e, release: () => Promise<E2e>) {
  afterAll(async () => {
    const ext = await release().catch(() => undefined);
    if (!ext || keepNamespaces()) return;
    await helm(["uninstall", "ext", "--namespace", ext.namespace, "--kubeconfig", ext.k.kubeconfig, "--wait=false"], { allowFailure: true });
  });

  const inServer = async (ext: E2e, ordinal: number, cmd: string[]) =>
    (await kubectl(ext.k, ["exec", "-n", ext.namespace, ext.pod(ordinal), "-c", ext.container, "--", ...cmd])).stdout.trim();

  it("ci/10 passes the shared proof of every ci/ scenario (scripts/lib/proof.ts)", async () => {
    const ext = await release();
    const outcomes = await prove({ k: ext.k, namespace: ext.namespace, release: "ext", sts: ext.sts, flavor: ext.flavor, replicas: ext.replicas, helmTest: false }, { readyTimeoutMs: 60_000, progress: () => undefined });
    const failed = outcomes.find((o) => !o.ok);
    expect(failed, failed ? `${failed.promise}\n${failed.detail}` : "").toBeUndefined();
    expect(outcomes.map((o) => o.promise)).toContain("the row written on pod 0 is read back on every pod");
  });

  it("an extra environment variable reaches the server: with TZ=Europe/Paris its system time zone is CET", async () => {
    const ext = await release();
    for (let i = 0; i < ext.replicas; i++) expect(await ext.sql(i, "SELECT @@system_time_zone")).toMatch(/^CES?T$/);
  });

  it("extraEnvVarsCM's keys are environment variables of the server, and the extra ConfigMap volume is readable inside it", async () => {
    const ext = await release();
    expect(await inServer(ext, 0, ["printenv", "GREETING"])).toBe("hello");
    expect(await inServer(ext, 1, ["cat", "/etc/extra/greeting.txt"])).toBe("hello from a ConfigMap");
  });

  it("a sidecar sees the server's socket, and the extra init container ran after the chart's (the data directory was there)", async () => {
    const ext = await release();
    const logs = async (c: string) => (await kubectl(ext.k, ["logs", "-n", ext.namespace, ext.pod(1), "-c", c])).stdout;
    expect(await logs("socket-check")).toContain("socket present");
    expect((await logs("data-listing")).split("\n")).toContain("data");
  });

  it("the read Service without the primary: 50 connections through it all reach replicas", async () => {
    const ext = await release();
    const pw = Buffer.from((await kubectl(ext.k, ["get", "secret", "-n", ext.namespace, ext.sts, "-o", "jsonpath={.data.mysql-password}"])).stdout, "base64").toString();
    const body = `set -euo pipefail; . /opt/mysql-chart/scripts/lib.sh; . /opt/mysql-chart/scripts/flavor.sh; read -r pw
      f=$(mktemp -p /run/mysqld); write_client_cnf "$f" app "$pw" ${ext.sts}-read ${CHART.port}
      for i in $(seq 1 50); do sql "$f" --connect-timeout=5 <<<"SELECT @@hostname"; done; rm -f "$f"`;
    const r = await kubectl(ctx().k, ["exec", "-i", "-n", ext.namespace, "client", "--", "bash", "-c", body], { input: `${pw}\n`, timeoutMs: 120_000 });
    const hosts = r.stdout.trim().split("\n");
    expect(hosts).toHaveLength(50);
    expect(new Set(hosts)).toEqual(new Set([ext.pod(1)]));
  });

  it("the write Service on its fixed node port answers from the kind node with the primary's greeting", async () => {
    const ext = await release();
    const pod = await ext.k.core.readNamespacedPod({ namespace: ext.namespace, name: ext.pod(0) });
    const node = pod.spec?.nodeName;
    expect(node).toBeTruthy();
    // The server speaks first: its handshake carries its version. timeout ends the read (exit 124).
    const r = await execa("docker", ["exec", node!, "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${NODE_PORT}; timeout 2 cat <&3 | tr -c '[:print:]' ' '`], { reject: false });
    expect(r.stdout, r.stderr).toMatch(/\d+\.\d+\.\d+/);
    const version = (await ext.sql(0, "SELECT VERSION()")).split("-")[0];
    expect(r.stdout).toContain(version);
  });
}
