// The pods' Kubernetes API access: a ServiceAccount and a Role with exactly what the scripts use,
// and a token only in the two containers that call the API.
import { describe, expect, it } from "vitest";
import { container, envOf, findDoc, render } from "../helpers/render.js";

const docs = (set: Record<string, string | number | boolean> = {}) => render({ set });

describe("ServiceAccount and RBAC", () => {
  it("the Role grants get/list/patch on claims, list on pods (a new replica's donor) and create on Events, nothing else, bound to the pods' ServiceAccount", async () => {
    const d = await docs();
    expect(findDoc(d, "ServiceAccount", "mysql").automountServiceAccountToken).toBe(false);
    expect(findDoc(d, "Role", "mysql").rules).toEqual([
      { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "patch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create"] },
    ]);
    const binding = findDoc(d, "RoleBinding", "mysql");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "mysql" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "mysql", namespace: "default" }]);
    expect(findDoc(d, "StatefulSet").spec.template.spec.serviceAccountName).toBe("mysql");
  });

  it("mounts the API token into prepare-data and the sidecar only, never automatically", async () => {
    const pod = findDoc(await docs(), "StatefulSet").spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    const withToken = [...pod.initContainers, ...pod.containers]
      .filter((c: { volumeMounts?: { name: string }[] }) => (c.volumeMounts ?? []).some((m) => m.name === "kube-api"))
      .map((c: { name: string }) => c.name);
    expect(withToken).toEqual(["prepare-data", "replication"]);
    const volume = pod.volumes.find((v: { name: string }) => v.name === "kube-api");
    expect(volume.projected.sources[0].serviceAccountToken).toEqual({ path: "token", expirationSeconds: 3600 });
    for (const name of withToken) {
      expect(envOf(container(pod, name), "KUBE_API_DIR")).toBe("/var/run/secrets/mysql-chart/kube-api");
    }
  });

  it("serviceAccount.create=false and rbac.create=false render neither, and the pods use the named account", async () => {
    const d = await docs({ "serviceAccount.create": false, "serviceAccount.name": "db-runner", "rbac.create": false });
    expect(d.filter((x) => ["ServiceAccount", "Role", "RoleBinding"].includes(x.kind))).toEqual([]);
    expect(findDoc(d, "StatefulSet").spec.template.spec.serviceAccountName).toBe("db-runner");
  });

  it("passes the recovery values to the scripts that act on them", async () => {
    const pod = findDoc(await docs({ "recovery.allowEmptyPrimary": true, "recovery.replicaWaitSeconds": 7, "recovery.autoReclone": false }), "StatefulSet").spec.template.spec;
    expect(envOf(container(pod, "prepare-data"), "ALLOW_EMPTY_PRIMARY")).toBe("true");
    expect(envOf(container(pod, "prepare-data"), "REPLICA_WAIT_SECONDS")).toBe("7");
    expect(envOf(container(pod, "replication"), "AUTO_RECLONE")).toBe("false");
  });
});
