// npm run verify's own promises that need no cluster: its arguments, values the chart refuses
// reported before anything is installed, and the rule a rollout is held to.
import { execa } from "execa";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseArgs, primaryRolledLast } from "../../scripts/verify.js";

const values = (text: string) => {
  const f = join(mkdtempSync(join(tmpdir(), "verify-")), "values.yaml");
  writeFileSync(f, text);
  return f;
};
/** Run the command as a user would; a kubeconfig that does not exist proves nothing reached a cluster. */
const verify = (...args: string[]) => execa("npx", ["tsx", "scripts/verify.ts", ...args, "--kubeconfig", "/nonexistent/kubeconfig"], { reject: false });

describe("npm run verify", () => {
  it("refuses values the schema refuses before anything is installed, naming the field, with exit status 2", async () => {
    const r = await verify("-f", values("replicas: 2\nreplicaz: 3\n"));
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/VERDICT: REFUSED before install/);
    expect(r.stdout).toMatch(/additional properties 'replicaz' not allowed/);
    expect(r.stdout).not.toMatch(/installing release/);
  });

  it("refuses values the chart's own checks refuse, and an --upgrade-to file they refuse, before installing", async () => {
    const good = values("replicas: 2\n");
    const r = await verify("-f", values("flavor: mariadb\nbootstrap:\n  cloneFrom:\n    host: old\n    user: m\n    passwordSecret:\n      name: p\n"));
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toMatch(/bootstrap.cloneFrom is for flavor mysql/);
    const up = await verify("-f", good, "--upgrade-to", values("persistence:\n  size: 8\n"));
    expect(up.exitCode).toBe(2);
    expect(up.stdout).toMatch(/persistence.size/);
    expect(up.stdout).not.toMatch(/installing release/);
  });

  it("takes -f (repeatable), --flavor, --kubeconfig, --upgrade-to, --keep, --timeout and --local-images; refuses anything else", () => {
    const a = parseArgs(["-f", "a.yaml", "--values", "b.yaml", "--flavor", "mariadb", "--upgrade-to", "c.yaml", "--keep", "--timeout", "60", "--local-images"]);
    expect(a.values.map((f) => f.split("/").pop())).toEqual(["a.yaml", "b.yaml"]);
    expect([a.flavor, a.upgradeTo?.split("/").pop(), a.keep, a.timeoutSeconds, a.localImages]).toEqual(["mariadb", "c.yaml", true, 60, true]);
    expect(() => parseArgs([])).toThrow(/no values file/);
    expect(() => parseArgs(["-f"])).toThrow(/-f needs a value/);
    expect(() => parseArgs(["-f", "a.yaml", "--flavor", "postgres"])).toThrow(/--flavor must be mysql or mariadb/);
    expect(() => parseArgs(["-f", "a.yaml", "--replicas", "3"])).toThrow(/unknown argument --replicas/);
  });

  it("holds a rollout to replicas before the primary", () => {
    expect(primaryRolledLast("db", ["db-2", "db-1", "db-0"])).toBe("");
    expect(primaryRolledLast("db", ["db-2"])).toBe("");
    expect(primaryRolledLast("db", [])).toBe("");
    expect(primaryRolledLast("db", ["db-2", "db-0", "db-1"])).toBe("pod 0 was recreated before db-1");
  });
});
