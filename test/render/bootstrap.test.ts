// bootstrap.cloneFrom: a new release seeded from a MySQL server outside it. What the pods get (the
// source's coordinates, its password and CA, the cut-over switch), that the cut-over restarts no
// pod, the egress it needs, and the combinations refused, naming the field.
import { describe, expect, it } from "vitest";
import { container, envOf, findDoc, refused, render } from "../helpers/render.js";

const SOURCE = {
  "bootstrap.cloneFrom.host": "old-db.legacy.svc",
  "bootstrap.cloneFrom.port": "3307",
  "bootstrap.cloneFrom.user": "migrator",
  "bootstrap.cloneFrom.passwordSecret.name": "old-db-migrator",
};
const withSource = (extra: Record<string, string> = {}) => render({ set: { ...SOURCE, ...extra } });
const podSpec = async (extra: Record<string, string> = {}) => findDoc(await withSource(extra), "StatefulSet").spec.template.spec;
const mounted = (c: { volumeMounts?: { name: string; mountPath: string }[] }) => c.volumeMounts?.find((m) => m.name === "bootstrap")?.mountPath;

describe("bootstrap.cloneFrom", () => {
  it("is off by default: no bootstrap volume, variable or ConfigMap", async () => {
    const docs = await render();
    const spec = findDoc(docs, "StatefulSet").spec.template.spec;
    expect(spec.volumes.map((v: { name: string }) => v.name)).not.toContain("bootstrap");
    expect(JSON.stringify(spec)).not.toContain("BOOTSTRAP_");
    expect(docs.filter((d) => d.metadata.name.endsWith("-bootstrap"))).toEqual([]);
  });

  it("gives prepare-data (the copy) and the sidecar (the cut-over) the source's coordinates; the helm test pod gets nothing of it", async () => {
    const docs = await withSource({ "bootstrap.cloneFrom.tls.enabled": "false" });
    const spec = findDoc(docs, "StatefulSet").spec.template.spec;
    for (const name of ["prepare-data", "replication"]) {
      const c = container(spec, name);
      expect([envOf(c, "BOOTSTRAP_SOURCE_HOST"), envOf(c, "BOOTSTRAP_SOURCE_PORT"), envOf(c, "BOOTSTRAP_SOURCE_USER"), envOf(c, "BOOTSTRAP_SOURCE_TLS")]).toEqual(["old-db.legacy.svc", "3307", "migrator", "false"]);
    }
    expect(envOf(container(spec, "mysql"), "BOOTSTRAP_SOURCE_HOST")).toBeUndefined();
    const testPod = docs.find((d) => d.kind === "Pod")!;
    expect(JSON.stringify(testPod)).not.toMatch(/BOOTSTRAP_|"bootstrap"/);
  });

  it("mounts the password, the CA and the cut-over switch in one projected volume, in prepare-data, the server (its replication reads the CA) and the sidecar", async () => {
    const spec = await podSpec({ "bootstrap.cloneFrom.passwordSecret.key": "pw", "bootstrap.cloneFrom.tls.caSecret": "old-db-ca" });
    for (const name of ["prepare-data", "mysql", "replication"]) expect(mounted(container(spec, name))).toBe("/etc/mysql-chart/bootstrap");
    expect(mounted(container(spec, "choose-config"))).toBeUndefined();
    const volume = spec.volumes.find((v: { name: string }) => v.name === "bootstrap");
    expect(volume.projected.sources).toEqual([
      { secret: { name: "old-db-migrator", items: [{ key: "pw", path: "password" }] } },
      { secret: { name: "old-db-ca", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      { configMap: { name: "mysql-bootstrap", items: [{ key: "cut-over", path: "cut-over" }] } },
    ]);
  });

  it("the cut-over changes the ConfigMap only: the pod template stays the same, so no pod restarts", async () => {
    const before = await withSource();
    const after = await withSource({ "bootstrap.cloneFrom.cutOver": "true" });
    expect(findDoc(before, "ConfigMap", "mysql-bootstrap").data).toEqual({ "cut-over": "false" });
    expect(findDoc(after, "ConfigMap", "mysql-bootstrap").data).toEqual({ "cut-over": "true" });
    expect(findDoc(after, "StatefulSet").spec.template).toEqual(findDoc(before, "StatefulSet").spec.template);
  });

  it("with egress restricted, the NetworkPolicy lets the pods reach the source's port", async () => {
    const docs = await withSource({ "networkPolicy.egress.enabled": "true" });
    const egress = findDoc(docs, "NetworkPolicy").spec.egress;
    expect(egress).toContainEqual({ ports: [{ port: 3307, protocol: "TCP" }] });
    const plain = findDoc(await render({ set: { "networkPolicy.egress.enabled": "true" } }), "NetworkPolicy").spec.egress;
    expect(plain).not.toContainEqual({ ports: [{ port: 3306, protocol: "TCP" }] });
  });

  it("refuses it on MariaDB, without user or password Secret, with init SQL, a CA without TLS, and fields without a host", async () => {
    const sets = Object.entries(SOURCE).map(([k, v]) => `${k}=${v}`);
    expect(await refused(...sets, "flavor=mariadb")).toMatch(/bootstrap.cloneFrom is for flavor mysql/);
    expect(await refused("bootstrap.cloneFrom.host=old", "bootstrap.cloneFrom.passwordSecret.name=p")).toMatch(/bootstrap.cloneFrom.user is empty/);
    expect(await refused("bootstrap.cloneFrom.host=old", "bootstrap.cloneFrom.user=m")).toMatch(/bootstrap.cloneFrom.passwordSecret.name is empty/);
    expect(await refused(...sets, "initSql=SELECT 1")).toMatch(/initSql\/initSqlSecret are set with bootstrap.cloneFrom.host/);
    expect(await refused(...sets, "bootstrap.cloneFrom.tls.enabled=false", "bootstrap.cloneFrom.tls.caSecret=ca")).toMatch(/bootstrap.cloneFrom.tls.caSecret is set but bootstrap.cloneFrom.tls.enabled is false/);
    expect(await refused("bootstrap.cloneFrom.cutOver=true")).toMatch(/bootstrap.cloneFrom.host is empty while other bootstrap.cloneFrom fields are set/);
    expect(await refused(...sets, "bootstrap.cloneFrom.port=0")).toMatch(/bootstrap.cloneFrom.port/);
  });
});
