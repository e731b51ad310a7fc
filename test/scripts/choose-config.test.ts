// choose-config.sh decides each pod's my.cnf: the role by ordinal, server_id = offset + ordinal, the
// user's extra lines after the chart's.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

describe("choose-config.sh", () => {
  it("gives pod 0 the primary's my.cnf and server_id = offset", async () => {
    const s = sandbox("mysql", "db-0");
    const r = await runBash(s, "choose-config.sh", "main");
    expect(r.exitCode, r.stderr).toBe(0);
    const cnf = readFileSync(join(s.confDir, "my.cnf"), "utf8");
    expect(cnf).toMatch(/^super_read_only=OFF$/m);
    expect(cnf).not.toMatch(/^super_read_only=ON$/m);
    expect(cnf).toMatch(/^server_id=100$/m);
    expect(cnf).toMatch(/^report_host=db-0\.db$/m);
  });

  it("gives pod 3 the replica's my.cnf and server_id = offset + 3, the same on every restart", async () => {
    const s = sandbox("mariadb", "db-3");
    await runBash(s, "choose-config.sh", "main");
    const first = readFileSync(join(s.confDir, "my.cnf"), "utf8");
    expect(first).toMatch(/^read_only=ON$/m);
    expect(first).toMatch(/^server_id=103$/m);
    await runBash(s, "choose-config.sh", "main");
    expect(readFileSync(join(s.confDir, "my.cnf"), "utf8")).toBe(first);
  });

  it("appends the user's extra lines for the pod's role only, after the chart's", async () => {
    const s = sandbox("mysql", "db-2");
    writeFileSync(join(s.confSrc, "extra-common.cnf"), "max_connections=300\n");
    writeFileSync(join(s.confSrc, "extra-replica.cnf"), "replica_parallel_workers=4\n");
    writeFileSync(join(s.confSrc, "extra-primary.cnf"), "innodb_log_buffer_size=32M\n");
    await runBash(s, "choose-config.sh", "main");
    const cnf = readFileSync(join(s.confDir, "my.cnf"), "utf8");
    expect(cnf).toMatch(/max_connections=300/);
    expect(cnf).toMatch(/replica_parallel_workers=4/);
    expect(cnf).not.toMatch(/innodb_log_buffer_size/);
    expect(cnf.indexOf("replica_parallel_workers")).toBeGreaterThan(cnf.indexOf("server_id="));
  });

  it("fails, naming it, when a required variable is missing", async () => {
    const s = sandbox("mysql", "db-0");
    const r = await runBash(s, "choose-config.sh", "main", { SERVER_ID_OFFSET: "" });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/missing environment variable\(s\): SERVER_ID_OFFSET/);
  });
});
