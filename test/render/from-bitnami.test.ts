// "Coming from Bitnami": the README's mapping of Bitnami's commonly used keys, applied by
// ci/11-from-bitnami-values.yaml, renders what the Bitnami values meant.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartDir, container, findDoc, render } from "../helpers/render.js";

describe("Bitnami's values, mapped (ci/11-from-bitnami-values.yaml)", () => {
  it("renders a primary and two replicas with the mapped settings", async () => {
    const docs = await render({ release: "shop", valuesFiles: [join(chartDir, "ci/11-from-bitnami-values.yaml")] });
    const sts = findDoc(docs, "StatefulSet");
    // architecture: replication, secondary.replicaCount: 2
    expect(sts.spec.replicas).toBe(3);
    // primary.persistence.*
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("20Gi");
    expect(sts.spec.volumeClaimTemplates[0].metadata.annotations).toEqual({ "backup.example.com/policy": "daily" });
    // primary.resources
    expect(container(sts.spec.template.spec, "mysql").resources).toEqual({ requests: { cpu: "250m", memory: "1Gi" }, limits: { memory: "2Gi" } });
    // primary.configuration / secondary.configuration
    const config = findDoc(docs, "ConfigMap", "shop-mysql-config").data;
    expect(config["extra-primary.cnf"]).toContain("max_connections=500");
    expect(config["extra-replica.cnf"]).toContain("max_connections=800");
    // primary.service.* and secondary.service.*
    expect(findDoc(docs, "Service", "shop-mysql-primary").metadata.annotations).toEqual({ "example.com/owner": "shop" });
    expect(findDoc(docs, "Service", "shop-mysql-read").spec.selector["app.kubernetes.io/component"]).toBe("replica");
    // commonLabels, rendered as a template
    expect(sts.metadata.labels["app.example.com/part-of"]).toBe("shop");
  });
});
