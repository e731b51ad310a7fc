// NetworkPolicy, PodDisruptionBudget and the helm test pod: each on by default and switchable.
import { describe, expect, it } from "vitest";
import { findDoc, render } from "../helpers/render.js";

const kinds = async (set: Record<string, string | number | boolean> = {}) => (await render({ set })).map((d) => d.kind);

describe("NetworkPolicy", () => {
  it("is on by default: the release's pods reach every port, anyone reaches the database port", async () => {
    const np = findDoc(await render({ showOnly: ["templates/networkpolicy.yaml"] }), "NetworkPolicy");
    expect(np.spec.policyTypes).toEqual(["Ingress"]);
    expect(np.spec.podSelector.matchLabels).toEqual({ "app.kubernetes.io/name": "mysql", "app.kubernetes.io/instance": "mysql" });
    expect(np.spec.ingress[0]).toEqual({ from: [{ podSelector: { matchLabels: np.spec.podSelector.matchLabels } }] });
    expect(np.spec.ingress[1]).toEqual({ ports: [{ port: 3306, protocol: "TCP" }] });
  });

  it("limits the database port to labelled client pods when allowExternal is false; the backup port stays release-only", async () => {
    const np = findDoc(await render({ set: { flavor: "mariadb", "networkPolicy.allowExternal": false }, showOnly: ["templates/networkpolicy.yaml"] }), "NetworkPolicy");
    expect(np.spec.ingress[1]).toEqual({ ports: [{ port: 3306, protocol: "TCP" }], from: [{ podSelector: { matchLabels: { "mysql-client": "true" } } }] });
    expect(JSON.stringify(np.spec.ingress)).not.toMatch(/3307/);
  });

  it("can be turned off", async () => {
    expect(await kinds({ "networkPolicy.enabled": false })).not.toContain("NetworkPolicy");
  });
});

describe("PodDisruptionBudget", () => {
  it("is on by default and lets voluntary evictions take one pod at a time", async () => {
    const pdb = findDoc(await render({ showOnly: ["templates/pdb.yaml"] }), "PodDisruptionBudget");
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "mysql", "app.kubernetes.io/instance": "mysql" });
  });

  it("can be turned off", async () => {
    expect(await kinds({ "podDisruptionBudget.enabled": false })).not.toContain("PodDisruptionBudget");
  });
});

describe("helm test pod", () => {
  it("is a test hook that checks every pod, and may pass a restrictive NetworkPolicy", async () => {
    const pod = findDoc(await render({ set: { replicas: 4 }, showOnly: ["templates/tests/test-replication.yaml"] }), "Pod");
    expect(pod.metadata.annotations["helm.sh/hook"]).toBe("test");
    expect(pod.metadata.labels["mysql-client"]).toBe("true");
    const c = pod.spec.containers[0];
    expect(c.command).toEqual(["/opt/mysql-chart/scripts/helm-test.sh"]);
    expect(c.env).toContainEqual({ name: "REPLICAS", value: "4" });
    expect(c.env).toContainEqual({ name: "PRIMARY_HOST", value: "mysql-0.mysql" });
  });

  it("can be turned off", async () => {
    expect(await kinds({ "tests.enabled": false })).not.toContain("Pod");
  });
});

describe("every resource", () => {
  it("carries the standard app.kubernetes.io labels and the release namespace", async () => {
    const docs = await render({ namespace: "db" });
    for (const d of docs) {
      expect(d.metadata.labels, `${d.kind}/${d.metadata.name}`).toMatchObject({
        "app.kubernetes.io/name": "mysql",
        "app.kubernetes.io/instance": "mysql",
        "app.kubernetes.io/managed-by": "Helm",
      });
      expect(d.metadata.namespace, `${d.kind}/${d.metadata.name}`).toBe("db");
    }
  });
});
