// TLS (tls.*): the release's certificate, where it comes from, what it names, and who mounts
// which part of it. What the servers and the scripts do with it is tested in test/scripts and
// the e2e suite.
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { container, envOf, findDoc, type K8sObject, refused, render } from "../helpers/render.js";

const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
type Volume = { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] } };
const tlsVolume = (podSpec: K8sObject["spec"]) => (podSpec.volumes as Volume[]).find((v) => v.name === "tls");

describe("TLS certificate", () => {
  it("by default the chart generates a CA and a server certificate it signed, in a kept Secret <fullname>-tls", async () => {
    const docs = await render({ release: "db", namespace: "shop" });
    const s = findDoc(docs, "Secret", "db-mysql-tls");
    expect(s.type).toBe("kubernetes.io/tls");
    expect(Object.keys(s.data).sort()).toEqual(["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    expect(s.metadata.annotations["helm.sh/resource-policy"]).toBe("keep");
    const ca = new X509Certificate(decode(s.data["ca.crt"]));
    const cert = new X509Certificate(decode(s.data["tls.crt"]));
    expect(ca.ca).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subject).toBe("CN=db-mysql");
    expect(cert.issuer).toBe("CN=db-mysql-ca");
    // Members present it to each other as their client certificate too.
    expect(cert.keyUsage).toEqual(expect.arrayContaining(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]));
  });

  it("names every pod (including pods added later) in the form the scripts connect to, and the Services", async () => {
    const s = findDoc(await render({ release: "db", namespace: "shop" }), "Secret", "db-mysql-tls");
    const cert = new X509Certificate(decode(s.data["tls.crt"]));
    for (const host of ["db-mysql-0.db-mysql.shop", "db-mysql-7.db-mysql.shop.svc.cluster.local", "db-mysql-read", "db-mysql-read.shop.svc"]) {
      expect(cert.checkHost(host), host).toBeTruthy();
    }
    // OpenSSL takes no wildcard over a single label: this is why the pods use <pod>.<headless>.<namespace>.
    expect(cert.checkHost("db-mysql-0.db-mysql")).toBeUndefined();
    expect(envOf(container(findDoc(await render({ release: "db", namespace: "shop" }), "StatefulSet").spec.template.spec, "replication"), "PRIMARY_HOST")).toBe("db-mysql-0.db-mysql.shop");
  });

  it("adds tls.certificates.extraDnsNames and follows clusterDomain", async () => {
    const s = findDoc(await render({ set: { "tls.certificates.extraDnsNames[0]": "db.example.com", clusterDomain: "corp.local" } }), "Secret", "mysql-tls");
    const cert = new X509Certificate(decode(s.data["tls.crt"]));
    expect(cert.checkHost("db.example.com")).toBeTruthy();
    expect(cert.checkHost("mysql-read.default.svc.corp.local")).toBeTruthy();
    expect(cert.checkHost("mysql-read.default.svc.cluster.local")).toBeUndefined();
  });

  it("the database pods mount the CA, certificate and key, never the CA's key; the test pod only the CA", async () => {
    const docs = await render();
    const sts = findDoc(docs, "StatefulSet");
    const v = tlsVolume(sts.spec.template.spec);
    expect(v?.secret?.secretName).toBe("mysql-tls");
    expect(v?.secret?.items?.map((i) => i.key)).toEqual(["ca.crt", "tls.crt", "tls.key"]);
    for (const c of [...sts.spec.template.spec.initContainers, ...sts.spec.template.spec.containers]) {
      expect(c.volumeMounts.find((m: { name: string }) => m.name === "tls")?.mountPath, c.name).toBe("/etc/mysql-chart/tls");
    }
    expect(tlsVolume(findDoc(docs, "Pod").spec)?.secret?.items?.map((i) => i.key)).toEqual(["ca.crt"]);
  });

  it("with source=existingSecret renders no certificate and mounts the user's Secret", async () => {
    const docs = await render({ set: { "tls.certificates.source": "existingSecret", "tls.certificates.existingSecret": "my-tls" } });
    expect(docs.filter((d) => d.kind === "Certificate" || d.metadata.name === "mysql-tls")).toEqual([]);
    expect(tlsVolume(findDoc(docs, "StatefulSet").spec.template.spec)?.secret?.secretName).toBe("my-tls");
  });

  it("with source=certManager renders a Certificate for the issuer, for servers and clients, into <fullname>-tls", async () => {
    const docs = await render({
      set: { "tls.certificates.source": "certManager", "tls.certificates.certManager.issuerRef.name": "team-ca", "tls.certificates.certManager.issuerRef.kind": "ClusterIssuer" },
    });
    const c = findDoc(docs, "Certificate", "mysql-tls");
    expect(c.apiVersion).toBe("cert-manager.io/v1");
    expect(c.spec.secretName).toBe("mysql-tls");
    expect(c.spec.issuerRef).toEqual({ name: "team-ca", kind: "ClusterIssuer", group: "cert-manager.io" });
    expect(c.spec.usages).toEqual(expect.arrayContaining(["server auth", "client auth"]));
    expect(c.spec.dnsNames).toContain("*.mysql.default");
    expect(c.spec.dnsNames).toContain("mysql-read.default.svc.cluster.local");
    expect(docs.filter((d) => d.kind === "Secret" && d.metadata.name === "mysql-tls")).toEqual([]);
    expect(tlsVolume(findDoc(docs, "StatefulSet").spec.template.spec)?.secret?.secretName).toBe("mysql-tls");
  });

  it("refuses a certificate source without what it needs, naming the field", async () => {
    expect(await refused("tls.certificates.source=existingSecret")).toMatch(/tls\.certificates\.existingSecret is empty/);
    expect(await refused("tls.certificates.existingSecret=my-tls")).toMatch(/tls\.certificates\.existingSecret is set but tls\.certificates\.source is generate/);
    expect(await refused("tls.certificates.source=certManager")).toMatch(/tls\.certificates\.certManager\.issuerRef\.name is empty/);
    expect(await refused("tls.certificates.source=existingSecret", "tls.certificates.existingSecret=x", "tls.certificates.extraDnsNames[0]=a.b")).toMatch(/tls\.certificates\.extraDnsNames has no effect/);
    expect(await refused("tls.certificates.source=selfSigned")).toMatch(/tls\/certificates\/source/);
  });

  it("root over the network is for the release's own pods unless auth.remoteRoot: the value reaches every script", async () => {
    for (const [set, want] of [[{}, "false"], [{ "auth.remoteRoot": true }, "true"]] as const) {
      const sts = findDoc(await render({ set }), "StatefulSet").spec.template.spec;
      for (const c of [...sts.initContainers, ...sts.containers]) expect(envOf(c, "REMOTE_ROOT"), c.name).toBe(want);
    }
  });

  it("tls.requireSecureTransport reaches the server's config step", async () => {
    const off = findDoc(await render(), "StatefulSet").spec.template.spec;
    expect(envOf(container(off, "choose-config"), "REQUIRE_SECURE_TRANSPORT")).toBe("false");
    const on = findDoc(await render({ set: { "tls.requireSecureTransport": true } }), "StatefulSet").spec.template.spec;
    expect(envOf(container(on, "choose-config"), "REQUIRE_SECURE_TRANSPORT")).toBe("true");
  });
});
