// The Services: headless for stable pod DNS, the write Service on the primary alone, the read
// Service over every Ready pod (or the replicas alone).
import { describe, expect, it } from "vitest";
import { findDoc, refusedWith, render } from "../helpers/render.js";

const services = async (set: Record<string, string | number | boolean> = {}) =>
  render({ set, showOnly: ["templates/service-headless.yaml", "templates/service-read.yaml", "templates/service-primary.yaml"] });

const releasePods = { "app.kubernetes.io/name": "mysql", "app.kubernetes.io/instance": "mysql" };

describe("headless Service", () => {
  it("is headless, publishes not-ready pods for peer discovery, and selects the release's pods", async () => {
    const svc = findDoc(await services(), "Service", "mysql");
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.selector).toEqual(releasePods);
    expect(svc.spec.ports).toEqual([{ name: "mysql", port: 3306, targetPort: "mysql" }]);
  });

  it("also exposes the backup port for MariaDB", async () => {
    const svc = findDoc(await services({ flavor: "mariadb" }), "Service", "mysql");
    expect(svc.spec.ports).toContainEqual({ name: "backup", port: 3307, targetPort: "backup" });
  });
});

describe("write Service", () => {
  it("is <fullname>-primary, a ClusterIP selecting pod 0 alone by its pod-name label", async () => {
    const svc = findDoc(await services(), "Service", "mysql-primary");
    expect(svc.spec.type).toBe("ClusterIP");
    expect(svc.spec.publishNotReadyAddresses).toBeUndefined();
    expect(svc.spec.selector).toEqual({ ...releasePods, "statefulset.kubernetes.io/pod-name": "mysql-0" });
    expect(svc.spec.ports).toEqual([{ name: "mysql", port: 3306, targetPort: "mysql" }]);
  });

  it("takes type, nodePort, externalTrafficPolicy, source ranges and annotations from primaryService", async () => {
    const svc = findDoc(
      await services({
        "primaryService.type": "LoadBalancer",
        "primaryService.nodePort": 30306,
        "primaryService.externalTrafficPolicy": "Local",
        "primaryService.loadBalancerSourceRanges[0]": "10.0.0.0/8",
        "primaryService.annotations.lb": "internal",
        "service.port": 3310,
      }),
      "Service",
      "mysql-primary",
    );
    expect(svc.spec.type).toBe("LoadBalancer");
    expect(svc.spec.externalTrafficPolicy).toBe("Local");
    expect(svc.spec.loadBalancerSourceRanges).toEqual(["10.0.0.0/8"]);
    expect(svc.spec.ports).toEqual([{ name: "mysql", port: 3310, targetPort: "mysql", nodePort: 30306 }]);
    expect(svc.metadata.annotations).toEqual({ lb: "internal" });
  });
});

describe("read Service", () => {
  it("is <fullname>-read, a ClusterIP over every Ready pod, primary included (it does not publish not-ready ones)", async () => {
    const svc = findDoc(await services(), "Service", "mysql-read");
    expect(svc.spec.type).toBe("ClusterIP");
    expect(svc.spec.publishNotReadyAddresses).toBeUndefined();
    expect(svc.spec.selector).toEqual(releasePods);
  });

  it("takes type, port, nodePort and annotations from values", async () => {
    const svc = findDoc(
      await services({ "readService.type": "NodePort", "readService.nodePort": 30307, "service.port": 3307, "readService.annotations.lb": "internal", "clone.backupPort": 3308 }),
      "Service",
      "mysql-read",
    );
    expect(svc.spec.type).toBe("NodePort");
    expect(svc.spec.ports).toEqual([{ name: "mysql", port: 3307, targetPort: "mysql", nodePort: 30307 }]);
    expect(svc.metadata.annotations).toEqual({ lb: "internal" });
  });

  it("with includePrimary=false selects the pods labelled replica, and each pod's sidecar is told to set that label", async () => {
    const set = { "readService.includePrimary": false };
    const svc = findDoc(await services(set), "Service", "mysql-read");
    expect(svc.spec.selector).toEqual({ ...releasePods, "app.kubernetes.io/component": "replica" });
    const docs = await render({ set, showOnly: ["templates/statefulset.yaml", "templates/rbac.yaml"] });
    const sidecar = findDoc(docs, "StatefulSet").spec.template.spec.containers.find((c: { name: string }) => c.name === "replication");
    expect(sidecar.env).toContainEqual({ name: "ROLE_LABEL", value: "app.kubernetes.io/component" });
    expect(findDoc(docs, "Role").rules).toContainEqual({ apiGroups: [""], resources: ["pods"], verbs: ["list", "patch"] });
  });

  it("by default the pods cannot patch pods and are not told to label themselves", async () => {
    const docs = await render({ showOnly: ["templates/statefulset.yaml", "templates/rbac.yaml"] });
    const sidecar = findDoc(docs, "StatefulSet").spec.template.spec.containers.find((c: { name: string }) => c.name === "replication");
    expect(sidecar.env.map((e: { name: string }) => e.name)).not.toContain("ROLE_LABEL");
    expect(findDoc(docs, "Role").rules).toContainEqual({ apiGroups: [""], resources: ["pods"], verbs: ["list"] });
  });
});

describe("Service fields a type does not take are refused, naming the field", () => {
  it.each([
    [["--set", "primaryService.nodePort=30306"], "primaryService.nodePort is set but primaryService.type is ClusterIP"],
    [["--set", "readService.externalTrafficPolicy=Local"], "readService.externalTrafficPolicy is set but readService.type is ClusterIP"],
    [["--set", "readService.type=NodePort", "--set", "readService.loadBalancerSourceRanges[0]=10.0.0.0/8"], "readService.loadBalancerSourceRanges is set but readService.type is NodePort"],
    [["--set", "readService.type=NodePort", "--set", "primaryService.type=NodePort", "--set", "readService.nodePort=30306", "--set", "primaryService.nodePort=30306"], "primaryService.nodePort and readService.nodePort are both 30306"],
  ])("%j", async (args, message) => {
    expect(await refusedWith(args)).toContain(message);
  });
});
