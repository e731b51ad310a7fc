// run-server.sh never starts a server on an empty data directory, and runs a new data
// directory's first-start SQL before the server accepts connections.
import { mkdirSync, writeFileSync } from "node:fs";
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

  it("waits while the sidecar re-clones this replica, then starts the server on the new data", async () => {
    const s = sandbox("mysql", "db-1");
    writeFileSync(join(s.confDir, "my.cnf"), "[mysqld]\n");
    writeFileSync(join(s.dataRoot, "reclone.requested"), "purged binary logs\n");
    // The third wait finds the copy in place and the marker gone.
    const body = `sleep() { n=$(( $(cat "$RUN_DIR/n" 2>/dev/null || echo 0) + 1 )); echo $n >"$RUN_DIR/n"; if (( n == 3 )); then mkdir -p "$DATADIR/mysql"; rm "$RECLONE_MARKER"; fi; }
      SERVER_BIN=echo
      main`;
    const r = await runBash(s, "run-server.sh", body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/the sidecar is re-cloning this replica \(purged binary logs\); waiting/);
    expect(r.stdout.trim()).toBe(`--defaults-file=${s.confDir}/my.cnf`);
  });

  it("runs the data directory's first-start SQL before accepting connections, read-only and with replication not started", async () => {
    const s = sandbox("mariadb", "db-0");
    writeFileSync(join(s.confDir, "my.cnf"), "[mysqld]\n");
    mkdirSync(join(s.dataRoot, "data/mysql"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data/mysql-chart-first-start.sql"), "SELECT 1;\n");
    const r = await runBash(s, "run-server.sh", "SERVER_BIN=echo\nmain");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(
      `--defaults-file=${s.confDir}/my.cnf --init-file=${s.dataRoot}/data/mysql-chart-first-start.sql --skip-slave-start --read-only=ON`,
    );
  });
});
