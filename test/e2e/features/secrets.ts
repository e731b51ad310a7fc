// Passwords and Secrets: a Secret made for another popular MySQL chart works as it is; a Secret
// with an empty password never gives a passwordless server; a rotated password reaches every
// server with every pod staying Ready. Two small releases of their own, installed beside the
// main one (prepareSecrets starts them while the main release installs).
// Expects: the main release (at least 2 pods) and the client pod.
import { afterAll, expect, it } from "vitest";
import { FLAVORS } from "../../../scripts/lib/flavors.js";
import { helm } from "../../../scripts/lib/helm.js";
import { apply, isReady, keepNamespaces, kubectl, waitFor } from "../../../scripts/lib/kube.js";
import { E2e, SIDE_RELEASE, TIMEOUTS } from "../context.js";

/** The keys (and only those) another popular MySQL chart's Secret holds: no clone password. */
const otherChartSecret = {
  "mysql-root-password": "root-from-the-other-chart",
  "mysql-replication-password": "repl-from-the-other-chart",
  "mysql-password": "app-from-the-other-chart",
};
const rotated = { "mysql-root-password": "root-after-rotation", "mysql-replication-password": "repl-after-rotation" };

export interface SecretReleases {
  /** Release "other", 2 pods, auth.existingSecret = a Secret with the three keys above. */
  other: E2e;
  /** Release "empty", 1 pod, whose Secret (created after the install) has an empty root password. */
  empty: E2e;
}

async function applySecret(e: E2e, name: string, data: Record<string, string>) {
  await apply(e.k, e.namespace, JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: data }));
}

/** Create the Secrets and install both releases; resolves when "other" is Ready. */
export async function prepareSecrets(main: E2e): Promise<SecretReleases> {
  const other = new E2e(main.flavor, main.namespace, "other");
  other.replicas = 2;
  other.baseSet = { ...SIDE_RELEASE, "auth.existingSecret": "other-chart-secret" };
  const empty = new E2e(main.flavor, main.namespace, "empty");
  empty.replicas = 1;
  empty.baseSet = { ...SIDE_RELEASE, "auth.existingSecret": "empty-root-secret" };
  await applySecret(other, "other-chart-secret", otherChartSecret);
  await other.upgrade();
  // Installed before its Secret exists (as GitOps tools may order it): Helm's lookup finds
  // nothing to check, so the pod itself must refuse the empty password.
  await empty.upgrade();
  await applySecret(empty, "empty-root-secret", { ...otherChartSecret, "mysql-root-password": "" });
  await other.waitAllReady();
  return { other, empty };
}

export function secrets(ctx: () => E2e, releases: () => Promise<SecretReleases>) {
  afterAll(async () => {
    // Free the node for the features that follow; the namespace goes at the end of the suite.
    const e = ctx();
    if (keepNamespaces()) return;
    for (const r of ["other", "empty"]) await helm(["uninstall", r, "--namespace", e.namespace, "--kubeconfig", e.k.kubeconfig, "--wait=false"], { allowFailure: true });
  });

  it("a Secret holding only another chart's three keys installs: the chart generates the clone password, pods are Ready and replicate", async () => {
    const { other } = await releases();
    const internal = await kubectl(other.k, ["get", "secret", "-n", other.namespace, `${other.sts}-internal`, "-o", "jsonpath={.data.mysql-clone-password}"]);
    expect(Buffer.from(internal.stdout, "base64").toString()).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(await other.replicaStatus(1)).toMatchObject({ io: "Yes", sql: "Yes", source: other.peerHost(0) });
    const w = await ctx().clientSql(other.host(0), "CREATE TABLE appdb.t (id INT PRIMARY KEY); INSERT INTO appdb.t VALUES (1);", { user: "app", password: otherChartSecret["mysql-password"] });
    expect(w.exitCode, w.err).toBe(0);
    await other.waitSql(1, "SELECT COUNT(*) FROM appdb.t", "1");
  });

  it("helm refuses an existing Secret with an empty mysql-root-password, naming the key and the Secret", async () => {
    const e = ctx();
    const bad = new E2e(e.flavor, e.namespace, "refused");
    bad.baseSet = { ...SIDE_RELEASE, "auth.existingSecret": "empty-root-secret" };
    const r = await bad.upgrade().then(() => ({ exitCode: 0, stderr: "" }), (err: Error) => ({ exitCode: 1, stderr: err.message }));
    expect(r.exitCode, "helm install accepted the Secret").not.toBe(0);
    expect(r.stderr).toMatch(/Secret empty-root-secret has no non-empty key mysql-root-password/);
  });

  it("helm refuses to rename an account on an existing release, naming the field", async () => {
    const { other } = await releases();
    const r = await other.upgrade({ "auth.replicationUser": "renamed" }).then(() => "accepted", (err: Error) => err.message);
    expect(r).toMatch(/auth\.replicationUser cannot change on an existing release/);
  });

  it("a pod whose Secret has an empty mysql-root-password never becomes Ready, and says which key", async () => {
    const { empty } = await releases();
    const pod = empty.pod(0);
    const { value: logs } = await waitFor(`${pod} to refuse its Secret`, async () => {
      const r = await kubectl(empty.k, ["logs", "-n", empty.namespace, pod, "-c", "prepare-data"], { allowFailure: true });
      return /mysql-root-password/.test(r.stdout + r.stderr) ? r.stdout + r.stderr : undefined;
    }, { timeoutMs: TIMEOUTS.readiness * 3 });
    expect(logs).toMatch(/lacks a non-empty value for: mysql-root-password/);
    const p = await empty.k.core.readNamespacedPod({ name: pod, namespace: empty.namespace });
    expect(isReady(p)).toBe(false);
    expect(p.status?.containerStatuses?.every((c) => !c.started)).toBe(true);
  });

  it("no account logs in without a password: root and the clone account with an empty one are refused on every pod", async () => {
    const e = ctx();
    const { other, empty } = await releases();
    for (const host of [e.host(0), e.host(1), other.host(0), other.host(1), empty.host(0)]) {
      for (const user of ["root", "clone"] as const) {
        const r = await e.clientSql(host, "SELECT CURRENT_USER()", { user, password: "" });
        expect(r.exitCode, `${user} with no password on ${host}: ${r.out}`).not.toBe(0);
        expect(r.out).toBe("");
      }
    }
  });

  it("rotating the root and replication passwords in the Secret keeps every pod Ready and replication running", async () => {
    const { other } = await releases();
    const e = ctx();
    const t0 = Date.now();
    const notReady = await other.notReadyDuring(async () => {
      await applySecret(other, "other-chart-secret", { ...otherChartSecret, ...rotated });
      // A pod update makes the kubelet refresh Secret volumes now rather than at its next sync.
      await kubectl(other.k, ["annotate", "pod", "-n", other.namespace, other.pod(0), other.pod(1), `e2e/rotated=${Date.now()}`, "--overwrite"]);
      for (let i = 0; i < other.replicas; i++) {
        await waitFor(`root's new password accepted by ${other.pod(i)}`, async () => (await other.socketLogin(i, "root", rotated["mysql-root-password"])) || undefined, {
          timeoutMs: TIMEOUTS.readiness * 3,
        });
      }
      await waitFor(`${other.pod(1)} replicating with the new replication password`, async () => {
        const applied = await kubectl(other.k, ["logs", "-n", other.namespace, other.pod(1), "-c", "replication"], { allowFailure: true });
        return /re-pointing replication with it/.test(applied.stdout + applied.stderr) || undefined;
      }, { timeoutMs: TIMEOUTS.readiness * 3 });
    });
    other.record("password rotation applied on every pod", Date.now() - t0);
    expect(notReady, "pods seen not Ready during the rotation").toEqual([]);
    expect(await other.socketLogin(0, "root", otherChartSecret["mysql-root-password"]), "the old root password still works").toBe(false);
    // A fresh replication connection authenticates with the new password.
    const word = FLAVORS[e.flavor].replica;
    const restart = `STOP ${word} IO_THREAD; START ${word} IO_THREAD;`;
    await other.sql(1, restart);
    await other.sql(0, "INSERT INTO appdb.t VALUES (2);");
    await other.waitSql(1, "SELECT COUNT(*) FROM appdb.t", "2");
    expect(await other.replicaStatus(1)).toMatchObject({ io: "Yes", sql: "Yes", lastErrno: "0" });
  });
}
