// Bad values are refused by helm install/template/lint with Helm's message naming the field.
import { describe, expect, it } from "vitest";
import { helm } from "../../scripts/lib/helm.js";
import { chartDir, refused } from "../helpers/render.js";

describe("values.schema.json", () => {
  it("refuses an unknown flavor", async () => {
    expect(await refused("flavor=postgres")).toMatch(/at '\/flavor': value must be one of 'mysql', 'mariadb'/);
  });

  it("refuses replicas below 1 or not an integer", async () => {
    expect(await refused("replicas=0")).toMatch(/at '\/replicas': minimum: got 0, want 1/);
    expect(await refused("replicas=1.5")).toMatch(/at '\/replicas'/);
    expect(await refused("replicas=three")).toMatch(/at '\/replicas': got string, want integer/);
  });

  it("refuses a malformed storage size", async () => {
    expect(await refused("persistence.size=8GB")).toMatch(/at '\/persistence\/size'.*does not match pattern/);
    expect(await refused("persistence.size=lots")).toMatch(/at '\/persistence\/size'/);
  });

  it("refuses wrong types", async () => {
    expect(await refused("service.port=abc")).toMatch(/at '\/service\/port': got string, want integer/);
    expect(await refused("networkPolicy.enabled=maybe")).toMatch(/at '\/networkPolicy\/enabled': got string, want boolean/);
    expect(await refused("probes.startup.failureThreshold=0")).toMatch(/at '\/probes\/startup\/failureThreshold'/);
  });

  it("refuses unknown keys at every level where a typo is likely", async () => {
    expect(await refused("replica=3")).toMatch(/additional properties 'replica' not allowed/);
    expect(await refused("auth.rootPasword=x")).toMatch(/at '\/auth': additional properties 'rootPasword' not allowed/);
    expect(await refused("images.mysql.tags=1")).toMatch(/at '\/images\/mysql': additional properties 'tags' not allowed/);
    expect(await refused("persistence.storageclass=x")).toMatch(/at '\/persistence': additional properties 'storageclass' not allowed/);
    expect(await refused("config.replicas=x")).toMatch(/at '\/config': additional properties 'replicas' not allowed/);
    expect(await refused("resources.server.limit.cpu=1")).toMatch(/at '\/resources\/server': additional properties 'limit' not allowed/);
    expect(await refused("probes.readiness.period=1")).toMatch(/at '\/probes\/readiness': additional properties 'period' not allowed/);
  });

  it("refuses account names the server cannot take", async () => {
    expect(await refused("auth.replicationUser=bad'name")).toMatch(/at '\/auth\/replicationUser'/);
  });

  it("reports every broken cross-field rule at once", async () => {
    const err = await refused("auth.cloneUser=replicator", "auth.password=app-password-1");
    expect(err).toMatch(/auth\.cloneUser must differ from auth\.replicationUser/);
    expect(err).toMatch(/auth\.password is set but auth\.username is empty/);
  });

  it("accepts the defaults", async () => {
    const r = await helm(["template", "x", chartDir]);
    expect(r.exitCode).toBe(0);
  });
});
