// run-server.sh never starts a server on an empty data directory.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

describe("run-server.sh", () => {
  it("refuses to start a server on an empty data directory", async () => {
    const s = sandbox("mysql", "db-1");
    writeFileSync(join(s.confDir, "my.cnf"), "[mysqld]\n");
    const r = await runBash(s, "run-server.sh", "main");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/holds no database/);
  });
});
