// NetworkPolicy, PodDisruptionBudget and the helm test pod: each on by default and switchable.
import { describe, expect, it } from "vitest";
import { findDoc, refused, render } from "../helpers/render.js";

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

  it("admits the listed clients (namespace and pod selectors) to the database port besides labelled pods", async () => {
    const np = findDoc(
      await render({
        set: {
          "networkPolicy.allowExternal": false,
          "networkPolicy.clients[0].namespaceSelector.matchLabels.team": "shop",
          "networkPolicy.clients[1].podSelector.matchLabels.app": "api",
        },
        showOnly: ["templates/networkpolicy.yaml"],
      }),
      "NetworkPolicy",
    );
    expect(np.spec.ingress[1].from).toEqual([
      { podSelector: { matchLabels: { "mysql-client": "true" } } },
      { namespaceSelector: { matchLabels: { team: "shop" } } },
      { podSelector: { matchLabels: { app: "api" } } },
    ]);
  });

  it("refuses clients while allowExternal is true, where they would have no effect", async () => {
    expect(await refused("networkPolicy.clients[0].podSelector.matchLabels.app=api")).toMatch(/networkPolicy\.clients has no effect while networkPolicy\.allowExternal is true/);
  });

  it("refuses a client entry without a selector, and an unknown key in one", async () => {
    expect(await refused("networkPolicy.allowExternal=false", "networkPolicy.clients[0].podSelector=null")).toMatch(/\/networkPolicy\/clients\/0/);
    expect(await refused("networkPolicy.allowExternal=false", "networkPolicy.clients[0].namespaceSelectr.matchLabels.a=b")).toMatch(/namespaceSelectr/);
  });

  it("appends extraIngress rules as written", async () => {
    const rule = { from: [{ namespaceSelector: { matchLabels: { team: "monitoring" } } }], ports: [{ port: 9104, protocol: "TCP" }] };
    const np = findDoc(await render({ set: { "networkPolicy.extraIngress[0].from[0].namespaceSelector.matchLabels.team": "monitoring", "networkPolicy.extraIngress[0].ports[0].port": 9104, "networkPolicy.extraIngress[0].ports[0].protocol": "TCP" }, showOnly: ["templates/networkpolicy.yaml"] }), "NetworkPolicy");
    expect(np.spec.ingress).toHaveLength(3);
    expect(np.spec.ingress[2]).toEqual(rule);
  });

  it("leaves egress open by default; egress.enabled allows only the release's pods, DNS, the Kubernetes API and egress.extra", async () => {
    const open = findDoc(await render({ showOnly: ["templates/networkpolicy.yaml"] }), "NetworkPolicy");
    expect(open.spec.egress).toBeUndefined();
    const np = findDoc(
      await render({ set: { "networkPolicy.egress.enabled": true, "networkPolicy.egress.kubeApi.cidrs[0]": "10.0.0.1/32", "networkPolicy.egress.extra[0].ports[0].port": 5432 }, showOnly: ["templates/networkpolicy.yaml"] }),
      "NetworkPolicy",
    );
    expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.spec.egress).toEqual([
      { to: [{ podSelector: { matchLabels: np.spec.podSelector.matchLabels } }] },
      { ports: [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }] },
      { to: [{ ipBlock: { cidr: "10.0.0.1/32" } }], ports: [{ port: 443, protocol: "TCP" }, { port: 6443, protocol: "TCP" }] },
      { ports: [{ port: 5432 }] },
    ]);
    expect(await refused("networkPolicy.egress.kubeApi.cidrs[0]=10.0.0.1")).toMatch(/\/networkPolicy\/egress\/kubeApi\/cidrs\/0/);
  });

  it("keeps the client label key a valid label key (at most 63 characters) at the longest allowed name", async () => {
    const name = `m${"y".repeat(51)}`;
    const np = findDoc(await render({ set: { fullnameOverride: name, "networkPolicy.allowExternal": false }, showOnly: ["templates/networkpolicy.yaml"] }), "NetworkPolicy");
    const key = Object.keys(np.spec.ingress[1].from[0].podSelector.matchLabels)[0];
    expect(key).toBe(`${name}-client`);
    expect(key.length).toBeLessThanOrEqual(63);
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
    expect(c.env).toContainEqual({ name: "PRIMARY_HOST", value: "mysql-0.mysql.default" });
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
