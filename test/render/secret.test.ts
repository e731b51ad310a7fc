// The Secret: every account has a password, given or generated; with existingSecret, only the
// internal clone password the user's Secret may lack.
import { describe, expect, it } from "vitest";
import { envOf, findDoc, refused, render } from "../helpers/render.js";

const secretOf = async (set: Record<string, string | number | boolean> = {}) =>
  (await render({ set, showOnly: ["templates/secret.yaml"] }))[0];
const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

describe("Secret", () => {
  it("generates a root, replication, clone, probe (monitor) and helm test password when none is given (never empty)", async () => {
    const s = await secretOf();
    expect(Object.keys(s.data).sort()).toEqual(["mysql-clone-password", "mysql-metrics-password", "mysql-monitor-password", "mysql-replication-password", "mysql-root-password", "mysql-test-password"]);
    for (const v of Object.values(s.data) as string[]) expect(decode(v)).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it("uses the passwords given in values (a changed one is how a password is rotated)", async () => {
    const s = await secretOf({ "auth.rootPassword": "root-password-1", "auth.replicationPassword": "replication-pw-1", "auth.clonePassword": "clone-password-1" });
    expect(decode(s.data["mysql-root-password"])).toBe("root-password-1");
    expect(decode(s.data["mysql-replication-password"])).toBe("replication-pw-1");
    expect(decode(s.data["mysql-clone-password"])).toBe("clone-password-1");
  });

  it("adds the application user's password only when auth.username is set", async () => {
    expect((await secretOf()).data["mysql-password"]).toBeUndefined();
    const s = await secretOf({ "auth.username": "app" });
    expect(decode(s.data["mysql-password"])).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it("is kept when the release is deleted, since the volumes outlive it", async () => {
    expect((await secretOf()).metadata.annotations["helm.sh/resource-policy"]).toBe("keep");
  });

  it("with auth.existingSecret, renders only <fullname>-internal holding a generated clone, probe and helm test password", async () => {
    const secrets = (await render({ set: { "auth.existingSecret": "mine" } })).filter((d) => d.kind === "Secret" && d.type !== "kubernetes.io/tls");
    expect(secrets.map((d) => d.metadata.name)).toEqual(["mysql-internal"]);
    expect(Object.keys(secrets[0].data)).toEqual(["mysql-clone-password", "mysql-metrics-password", "mysql-monitor-password", "mysql-test-password"]);
    expect(decode(secrets[0].data["mysql-clone-password"])).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(secrets[0].metadata.annotations["helm.sh/resource-policy"]).toBe("keep");
  });

  it("with auth.existingSecret, pods mount the user's Secret and, as a fallback for the clone password, the internal one", async () => {
    const docs = await render({ set: { "auth.existingSecret": "mine" } });
    const sts = findDoc(docs, "StatefulSet");
    const vols = sts.spec.template.spec.volumes.filter((v: { name: string; secret?: unknown }) => v.secret && v.name !== "tls");
    expect(vols.map((v: { secret: { secretName: string } }) => v.secret.secretName)).toEqual(["mine", "mysql-internal"]);
    for (const c of [...sts.spec.template.spec.initContainers, ...sts.spec.template.spec.containers]) {
      expect(envOf(c, "INTERNAL_SECRETS_DIR"), c.name).toBe("/etc/mysql-chart/secrets-internal");
      expect(c.volumeMounts.map((m: { name: string }) => m.name)).toContain("secrets-internal");
    }
    const test = findDoc(docs, "Pod");
    expect(test.spec.volumes.map((v: { name: string }) => v.name)).toContain("secrets-internal");
  });

  it("without auth.existingSecret, pods mount only the chart's Secret", async () => {
    const sts = findDoc(await render(), "StatefulSet");
    expect(sts.spec.template.spec.volumes.map((v: { name: string }) => v.name)).not.toContain("secrets-internal");
    expect(envOf(sts.spec.template.spec.containers[0], "INTERNAL_SECRETS_DIR")).toBeUndefined();
  });

  it("refuses passwords in values together with existingSecret, naming the fields", async () => {
    expect(await refused("auth.existingSecret=mine", "auth.rootPassword=a-long-enough-password")).toMatch(/auth\.existingSecret is set: leave auth\.rootPassword/);
  });
});
