// flavor_gtid_subset decides which replica is the most advanced when pod 0 recovers its lost
// volume, and when a lagging replica has caught up: one GTID state within another, per flavor.
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

async function subset(flavor: "mysql" | "mariadb", a: string, b: string) {
  const r = await runBash(sandbox(flavor), null, `if flavor_gtid_subset '${a}' '${b}'; then echo yes; else echo no; fi`);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe("flavor_gtid_subset", () => {
  const u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
  const v = "4f22ab58-82db-22f2-af44-d91bba530673";
  it.each([
    ["", "", "yes"],
    ["", `${u}:1-5`, "yes"],
    [`${u}:1-5`, "", "no"],
    [`${u}:1-5`, `${u}:1-5`, "yes"],
    [`${u}:1-5`, `${u}:1-7`, "yes"],
    [`${u}:1-7`, `${u}:1-5`, "no"],
    [`${u}:3`, `${u}:1-5`, "yes"],
    [`${u}:1-5:8`, `${u}:1-5:7-9`, "yes"],
    [`${u}:1-6`, `${u}:1-5:7-9`, "no"],
    [`${u}:1-5,${v}:1-2`, `${v}:1-3,\n${u}:1-9`, "yes"],
    [`${u}:1-5,${v}:1`, `${u}:1-9`, "no"],
    [`${u}:1-5:tag:1-2`, `${u}:1-5:tag:1-3`, "yes"],
    [`${u}:tag:1-4`, `${u}:1-5:tag:1-3`, "no"],
  ])("MySQL: %j within %j: %s", async (a, b, want) => {
    expect(await subset("mysql", a, b)).toBe(want);
  });

  it.each([
    ["", "", "yes"],
    ["", "0-100-5", "yes"],
    ["0-100-5", "", "no"],
    ["0-100-5", "0-100-5", "yes"],
    ["0-100-5", "0-100-7", "yes"],
    ["0-100-7", "0-100-5", "no"],
    // Sequence numbers grow within a domain whichever server wrote them (gtid_strict_mode).
    ["0-100-5", "0-101-6", "yes"],
    ["0-100-5,1-200-3", "1-200-3,0-100-9", "yes"],
    ["0-100-5,1-200-3", "0-100-9", "no"],
  ])("MariaDB: %j within %j: %s", async (a, b, want) => {
    expect(await subset("mariadb", a, b)).toBe(want);
  });
});
