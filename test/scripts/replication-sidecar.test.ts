// The sidecar's replication set-up: what a new replica replicates from, once.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { apiCalls, runBash, sandbox, testPasswords } from "../helpers/pod-scripts.js";

describe("replication set-up", () => {
  const sqlCapture = `sql() { cat >>"$RUN_DIR/sql"; }`;

  it("MySQL: points a new replica at the primary by GTID auto-position over TLS, and starts it", async () => {
    const s = sandbox("mysql", "db-2");
    const r = await runBash(s, "replication-sidecar.sh", `${sqlCapture}\nstatus_fields() { printf '\\t\\t\\n'; }\nensure_root_cnf\nconfigure_replication`);
    expect(r.exitCode, r.stderr).toBe(0);
    const sql = readFileSync(join(s.run, "sql"), "utf8");
    expect(sql).toMatch(/STOP REPLICA;\s+CHANGE REPLICATION SOURCE TO/);
    expect(sql).toContain("SOURCE_HOST = 'db-0.db.ns'");
    expect(sql).toContain("SOURCE_USER = 'replicator'");
    expect(sql).toContain(`SOURCE_PASSWORD = '${testPasswords["mysql-replication-password"]}'`);
    expect(sql).toContain("SOURCE_AUTO_POSITION = 1");
    expect(sql).toContain("SOURCE_SSL = 1");
    expect(sql).toMatch(/START REPLICA;\s*$/);
  });

  // A restart at any step (MariaDB: even without a clone record) must not re-point replication,
  // whether the primary is named as now or as chart versions before 0.3.0 named it (tls.sh
  // re-points those).
  for (const [flavor, byGtid] of [["mysql", "1"], ["mariadb", "Slave_Pos"]] as const) {
    it(`${flavor}: leaves a replica that already replicates from the primary by GTID alone (under either of its names)`, async () => {
      for (const host of ["db-0.db.ns", "db-0.db"]) {
        const s = sandbox(flavor, "db-2");
        const r = await runBash(s, "replication-sidecar.sh", `${sqlCapture}\nstatus_fields() { printf '${host}\\treplicator\\t${byGtid}\\n'; }\nconfigure_replication`);
        expect(r.exitCode, r.stderr).toBe(0);
        expect(existsSync(join(s.run, "sql"))).toBe(false);
        expect(r.stderr).toContain(`already points at ${host} as replicator`);
      }
    });
  }

  it("MariaDB: starts from the GTID the clone recorded, with MASTER_USE_GTID=slave_pos", async () => {
    const s = sandbox("mariadb", "db-1");
    mkdirSync(join(s.dataRoot, "data"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data/mysql-chart-clone.info"), "donor=db-0.db\ngtid=0-100-57\nbytes=1\n");
    const r = await runBash(s, "replication-sidecar.sh", `${sqlCapture}\nstatus_fields() { printf '\\t\\t\\n'; }\nconfigure_replication`);
    expect(r.exitCode, r.stderr).toBe(0);
    const sql = readFileSync(join(s.run, "sql"), "utf8");
    expect(sql).toMatch(/STOP SLAVE;\s+SET GLOBAL gtid_slave_pos = '0-100-57';\s+CHANGE MASTER TO/);
    expect(sql).toContain("MASTER_USE_GTID = slave_pos");
    expect(sql).toContain("MASTER_HOST = 'db-0.db.ns'");
    expect(sql).toMatch(/START SLAVE;\s*$/);
  });

  it("removes the first-start SQL once the server answers (it ran before the first connection), so later starts are ordinary", async () => {
    const s = sandbox("mariadb", "db-0");
    mkdirSync(join(s.dataRoot, "data"), { recursive: true });
    const file = join(s.dataRoot, "data/mysql-chart-first-start.sql");
    writeFileSync(file, "SELECT 1;\n");
    const r = await runBash(s, "replication-sidecar.sh", "sql_value() { echo 0; }\nforget_first_start_sql\nforget_first_start_sql");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(r.stderr.match(/ran mysql-chart-first-start.sql on its first start; removed it/g)).toHaveLength(1);
  });

  it("keeps the first-start SQL and stops when the server is still read-only (the SQL failed; writes stay refused)", async () => {
    const s = sandbox("mariadb", "db-0");
    mkdirSync(join(s.dataRoot, "data"), { recursive: true });
    const file = join(s.dataRoot, "data/mysql-chart-first-start.sql");
    writeFileSync(file, "SELECT 1;\n");
    const r = await runBash(s, "replication-sidecar.sh", "sql_value() { echo 1; }\nforget_first_start_sql");
    expect(r.exitCode).not.toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(r.stderr).toMatch(/failed mysql-chart-first-start.sql on its first start .* it stays read-only/);
  });

  it("MariaDB: refuses to guess a position when the clone left no record", async () => {
    const s = sandbox("mariadb", "db-1");
    const r = await runBash(s, "replication-sidecar.sh", `${sqlCapture}\nstatus_fields() { printf '\\t\\t\\n'; }\nconfigure_replication`);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/no clone record/);
  });

  describe("MariaDB: system tables after a server version change", () => {
    const upgrade = (out: string, rc: number) =>
      `mariadb-upgrade() { echo "$*" >"$RUN_DIR/upgrade-args"; printf '%s' "$MYSQL_PWD" >"$RUN_DIR/upgrade-pwd"; echo "${out}"; return ${rc}; }\nsql_value() { echo 11.8.9-MariaDB; }`;

    it("runs mariadb-upgrade as root on the local socket, the password in MYSQL_PWD (quotes and backslashes intact), without writing the binary log", async () => {
      const s = sandbox("mariadb", "db-1");
      const r = await runBash(s, "replication-sidecar.sh", `${upgrade("Phase 1/8: Checking and upgrading mysql database", 0)}\nflavor_upgrade_system_tables`);
      expect(r.exitCode, r.stderr).toBe(0);
      // Not --silent: it would hide the "already upgraded" answer.
      expect(readFileSync(join(s.run, "upgrade-args"), "utf8")).toBe(`--user=root --socket=${s.run}/mysqld.sock --skip-write-binlog\n`);
      expect(readFileSync(join(s.run, "upgrade-pwd"), "utf8")).toBe(testPasswords["mysql-root-password"]);
      expect(r.stderr).toMatch(/system tables upgraded to server version 11\.8\.9-MariaDB/);
    });

    it("says so when the tables already match the server (the upgrade runs once per version)", async () => {
      const s = sandbox("mariadb", "db-0");
      const r = await runBash(s, "replication-sidecar.sh", `${upgrade("This installation of MariaDB is already upgraded to 11.8.9-MariaDB.", 0)}\nflavor_upgrade_system_tables`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/system tables already match server version/);
    });

    it("a failure shows mariadb-upgrade's own words and is retried on the sidecar's next turn, never fatal", async () => {
      const s = sandbox("mariadb", "db-0");
      const r = await runBash(s, "replication-sidecar.sh", `${upgrade("ERROR 1045: Access denied", 1)}\nupgrade_system_tables; echo "pending=$SYSTEM_TABLES_PENDING"`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe("pending=1");
      expect(r.stderr).toContain("ERROR 1045: Access denied");
      expect(r.stderr).toMatch(/upgrading the system tables failed; trying again in 10s/);
    });

    it("MySQL has no such step: the server upgrades its own system tables at start", async () => {
      const r = await runBash(sandbox("mysql", "db-0"), "replication-sidecar.sh", "declare -F flavor_upgrade_system_tables || echo none");
      expect(r.stdout.trim()).toBe("none");
    });
  });
});

describe("role label (readService.includePrimary=false)", () => {
  const sources = (s: ReturnType<typeof sandbox>) => `. "${s.scripts}/kube-api.sh"`;

  it("labels the pod replica (ordinal > 0) or primary (ordinal 0) with a merge patch of its own pod", async () => {
    for (const [pod, role] of [["db-2", "replica"], ["db-0", "primary"]]) {
      const s = sandbox("mysql", pod);
      const r = await runBash(s, "replication-sidecar.sh", `${sources(s)}\nlabel_role ${pod.slice(3)}`, { ROLE_LABEL: "app.kubernetes.io/component" });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(apiCalls(s)).toBe(`PATCH https://api.test:443/api/v1/namespaces/ns/pods/${pod} {"metadata":{"labels":{"app.kubernetes.io/component":"${role}"}}}\n`);
      expect(r.stderr).toContain(`labelled this pod app.kubernetes.io/component=${role}`);
    }
  });

  it("does nothing without ROLE_LABEL, and retries later when the API refuses (never fatal)", async () => {
    const quiet = sandbox("mysql", "db-1");
    expect((await runBash(quiet, "replication-sidecar.sh", `${sources(quiet)}\nlabel_role 1`)).exitCode).toBe(0);
    expect(apiCalls(quiet)).toBe("");
    const s = sandbox("mysql", "db-1");
    writeFileSync(join(s.api.state, "down"), "");
    const r = await runBash(s, "replication-sidecar.sh", `${sources(s)}\nlabel_role 1; echo "pending=$ROLE_LABEL_PENDING"`, { ROLE_LABEL: "app.kubernetes.io/component" });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("pending=1");
    expect(r.stderr).toContain("failed; trying again in");
  });
});
