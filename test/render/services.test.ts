// The two Services: headless for stable pod DNS (writes go to pod 0), read for every Ready pod.
import { describe, expect, it } from "vitest";
import { findDoc, render } from "../helpers/render.js";

const services = async (set: Record<string, string | number | boolean> = {}) =>
  render({ set, showOnly: ["templates/service-headless.yaml", "templates/service-read.yaml"] });

describe("headless Service", () => {
  it("is headless, publishes not-ready pods for peer discovery, and selects the release's pods", async () => {
    const svc = findDoc(await services(), "Service", "mysql");
    expect(svc.spec.clusterIP).toBe("None");
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.selector).toEqual({ "app.kubernetes.io/name": "mysql", "app.kubernetes.io/instance": "mysql" });
    expect(svc.spec.ports).toEqual([{ name: "mysql", port: 3306, targetPort: "mysql" }]);
  });

  it("also exposes the backup port for MariaDB", async () => {
    const svc = findDoc(await services({ flavor: "mariadb" }), "Service", "mysql");
    expect(svc.spec.ports).toContainEqual({ name: "backup", port: 3307, targetPort: "backup" });
  });
});

describe("read Service", () => {
  it("is <fullname>-read, a ClusterIP over every Ready pod (it does not publish not-ready ones)", async () => {
    const svc = findDoc(await services(), "Service", "mysql-read");
    expect(svc.spec.type).toBe("ClusterIP");
    expect(svc.spec.publishNotReadyAddresses).toBeUndefined();
    expect(svc.spec.selector).toEqual({ "app.kubernetes.io/name": "mysql", "app.kubernetes.io/instance": "mysql" });
  });

  it("takes type, port and annotations from values", async () => {
    const svc = findDoc(
      await services({ "service.type": "LoadBalancer", "service.port": 3307, "service.annotations.lb": "internal", "clone.backupPort": 3308 }),
      "Service",
      "mysql-read",
    );
    expect(svc.spec.type).toBe("LoadBalancer");
    expect(svc.spec.ports).toEqual([{ name: "mysql", port: 3307, targetPort: "mysql" }]);
    expect(svc.metadata.annotations).toEqual({ lb: "internal" });
  });
});
