// persistence.existingClaim: pod 0's volume is the user's claim. One pod only: every pod of the
// StatefulSet would mount it, so more replicas are refused, naming the field.
import { describe, expect, it } from "vitest";
import { container, envOf, findDoc, refused, render } from "../helpers/render.js";

describe("persistence.existingClaim", () => {
  it("mounts the user's claim as the data volume, with no claim template, and tells prepare-data its name", async () => {
    const sts = findDoc(await render({ set: { replicas: 1, "persistence.existingClaim": "restored-data" } }), "StatefulSet");
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    const spec = sts.spec.template.spec;
    expect(spec.volumes.filter((v: { name: string }) => v.name === "data")).toEqual([{ name: "data", persistentVolumeClaim: { claimName: "restored-data" } }]);
    for (const c of ["prepare-data", "mysql", "replication"]) {
      expect(container(spec, c).volumeMounts).toContainEqual({ name: "data", mountPath: "/var/lib/mysql" });
    }
    expect(envOf(container(spec, "prepare-data"), "EXISTING_CLAIM")).toBe("restored-data");
  });

  it("leaves the claim template alone by default", async () => {
    const sts = findDoc(await render(), "StatefulSet");
    expect(sts.spec.volumeClaimTemplates.map((t: { metadata: { name: string } }) => t.metadata.name)).toEqual(["data"]);
    expect(sts.spec.template.spec.volumes.map((v: { name: string }) => v.name)).not.toContain("data");
  });

  it("refuses more than one pod, and a name that is not a Kubernetes object name", async () => {
    expect(await refused("persistence.existingClaim=restored-data")).toMatch(/persistence.existingClaim \(restored-data\) is pod 0's volume.*replicas: 1 \(replicas is 3\)/);
    expect(await refused("replicas=1", "persistence.existingClaim=Bad_Name")).toMatch(/persistence.existingClaim/);
  });
});
