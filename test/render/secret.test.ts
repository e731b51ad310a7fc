// The Secret: every account has a password, given or generated; none with existingSecret.
import { describe, expect, it } from "vitest";
import { render } from "../helpers/render.js";
import { helm } from "../../scripts/lib/helm.js";
import { chartDir } from "../helpers/render.js";

const secretOf = async (set: Record<string, string | number | boolean> = {}) =>
  (await render({ set, showOnly: ["templates/secret.yaml"] }))[0];
const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

describe("Secret", () => {
  it("generates a root, replication and clone password when none is given (never empty)", async () => {
    const s = await secretOf();
    expect(Object.keys(s.data).sort()).toEqual(["mysql-clone-password", "mysql-replication-password", "mysql-root-password"]);
    for (const v of Object.values(s.data) as string[]) expect(decode(v)).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it("uses the passwords given in values", async () => {
    const s = await secretOf({ "auth.rootPassword": "r00t", "auth.replicationPassword": "repl", "auth.clonePassword": "cl" });
    expect(decode(s.data["mysql-root-password"])).toBe("r00t");
    expect(decode(s.data["mysql-replication-password"])).toBe("repl");
    expect(decode(s.data["mysql-clone-password"])).toBe("cl");
  });

  it("adds the application user's password only when auth.username is set", async () => {
    expect((await secretOf()).data["mysql-password"]).toBeUndefined();
    const s = await secretOf({ "auth.username": "app" });
    expect(decode(s.data["mysql-password"])).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it("is kept when the release is deleted, since the volumes outlive it", async () => {
    expect((await secretOf()).metadata.annotations["helm.sh/resource-policy"]).toBe("keep");
  });

  it("is not rendered when auth.existingSecret names the user's own", async () => {
    const docs = await render({ set: { "auth.existingSecret": "mine" } });
    expect(docs.filter((d) => d.kind === "Secret")).toEqual([]);
  });

  it("refuses passwords in values together with existingSecret, naming the fields", async () => {
    const r = await helm(["template", "x", chartDir, "--set", "auth.existingSecret=mine", "--set", "auth.rootPassword=x"], { allowFailure: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/auth\.existingSecret is set: leave auth\.rootPassword/);
  });
});
