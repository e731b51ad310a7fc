// The in-pod scripts' decisions, run for real in bash with the server-touching functions replaced:
// which config a pod gets, whether it initialises, clones or keeps its data, what it replicates
// from, and when a probe says Ready.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox, testPasswords } from "../helpers/pod-scripts.js";

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
    expect(readFileSync(join(s.confDir, "role"), "utf8")).toBe("primary\n");
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

describe("lib.sh", () => {
  it("reads the ordinal from the pod name and refuses names without one", async () => {
    const s = sandbox("mysql");
    expect((await runBash(s, null, "pod_ordinal my-db-12; pod_ordinal x-007")).stdout).toBe("12\n7");
    const bad = await runBash(s, null, "pod_ordinal mydb");
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/does not end in -<ordinal>/);
  });

  it("picks pod N-1 as the donor of pod N, and refuses one for the primary", async () => {
    const s = sandbox("mysql");
    expect((await runBash(s, null, "peer_host $(donor_ordinal 1); peer_host $(donor_ordinal 4)")).stdout).toBe("db-0.db\ndb-3.db");
    expect((await runBash(s, null, "donor_ordinal 0")).exitCode).not.toBe(0);
  });

  it("quotes SQL strings, identifiers and option-file values so passwords cannot break out", async () => {
    const s = sandbox("mysql");
    const v = "a'b\\c\"d`e";
    const r = await runBash(s, null, 'sql_string "$V"; echo; sql_ident "$V"; echo; cnf_string "$V"', { V: v });
    expect(r.stdout.split("\n")).toEqual([
      "'" + v.replace(/\\/g, "\\\\").replace(/'/g, "''") + "'",
      "`" + v.replace(/`/g, "``") + "`",
      '"' + v.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"',
    ]);
  });

  it("writes client option files readable by the owner only, with no password on any command line", async () => {
    const s = sandbox("mysql");
    await runBash(s, null, `write_client_cnf "$RUN_DIR/x.cnf" root 'se"cret'`);
    const f = join(s.run, "x.cnf");
    expect(readFileSync(f, "utf8")).toContain('password="se\\"cret"');
    const { statSync } = await import("node:fs");
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it("builds accounts with a password each, the application user only when asked", async () => {
    const s = sandbox("mysql", "db-0");
    const plain = (await runBash(s, null, "account_sql")).stdout;
    expect(plain).toContain("ALTER USER 'root'@'localhost' IDENTIFIED BY 'r00t''pa\"ss\\\\word';");
    expect(plain).toContain("CREATE USER 'replicator'@'%' IDENTIFIED BY 'repl-pass';");
    expect(plain).toContain("GRANT REPLICATION SLAVE ON *.* TO 'replicator'@'%';");
    expect(plain).toContain("GRANT BACKUP_ADMIN ON *.* TO 'clone'@'%';");
    expect(plain).not.toMatch(/app-pass|CREATE DATABASE/);
    for (const line of plain.split("\n").filter((l) => l.startsWith("CREATE USER"))) expect(line).toMatch(/IDENTIFIED BY '.+'/);
    const app = (await runBash(s, null, "account_sql", { APP_USER: "app", APP_DATABASE: "appdb" })).stdout;
    expect(app).toContain("CREATE DATABASE IF NOT EXISTS `appdb`;");
    expect(app).toContain("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pass';");
    expect(app).toContain("GRANT ALL PRIVILEGES ON `appdb`.* TO 'app'@'%';");
  });

  it("gives the MariaDB backup account only what a backup needs, on localhost", async () => {
    const s = sandbox("mariadb", "db-0");
    const sql = (await runBash(s, null, "account_sql")).stdout;
    expect(sql).toContain("CREATE USER 'clone'@'localhost' IDENTIFIED BY 'clone-pass';");
    expect(sql).toContain("GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'clone'@'localhost';");
    expect((await runBash(s, null, "flavor_pre_account_sql")).stdout).toMatch(/User = ''/);
    expect((await runBash(s, null, "flavor_post_account_sql")).stdout).toBe("REVOKE READ_ONLY ADMIN ON *.* FROM 'root'@'%';");
  });
});

describe("prepare-data.sh", () => {
  const stubs = `
    flavor_initialize_datadir() { echo "initialize $1" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }
    start_temp_server() { echo "start $1" >>"$RUN_DIR/calls"; }
    wait_for_server() { :; }
    stop_temp_server() { echo "stop" >>"$RUN_DIR/calls"; }
    sql() { cat >>"$RUN_DIR/sql"; }
  `;
  const calls = (s: ReturnType<typeof sandbox>) => (existsSync(join(s.run, "calls")) ? readFileSync(join(s.run, "calls"), "utf8") : "");

  it("keeps an existing data directory untouched (restart, or a volume reused after scale-in)", async () => {
    const s = sandbox("mysql", "db-2");
    mkdirSync(join(s.dataRoot, "data/mysql"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data/keep.me"), "x");
    const r = await runBash(s, "prepare-data.sh", `${stubs}\nflavor_clone_into() { echo clone >>"$RUN_DIR/calls"; }\nmain`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/exists: keeping it/);
    expect(calls(s)).toBe("");
    expect(readFileSync(join(s.dataRoot, "data/keep.me"), "utf8")).toBe("x");
  });

  it("initialises pod 0 once: accounts and init SQL in a staging directory, then renamed into place", async () => {
    const s = sandbox("mysql", "db-0");
    writeFileSync(join(s.confSrc, "init.sql"), "CREATE DATABASE seeded;\n");
    const sqlStub = `sql() { cat >>"$RUN_DIR/sql"; }`;
    const r = await runBash(s, "prepare-data.sh", `${stubs}\n${sqlStub}\nmain`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(calls(s)).toMatch(/^initialize .*data\.staging\nstart .*data\.staging\nstop\n$/);
    const sql = readFileSync(join(s.run, "sql"), "utf8");
    expect(sql).toContain("CREATE USER 'replicator'@'%'");
    expect(sql).toContain("CREATE DATABASE seeded;");
    expect(existsSync(join(s.dataRoot, "data/mysql"))).toBe(true);
    expect(existsSync(join(s.dataRoot, "data.staging"))).toBe(false);
  });

  it("clones pod N-1 into a new replica (pod 1 clones the primary)", async () => {
    for (const [pod, donor] of [["db-1", "db-0.db"], ["db-4", "db-3.db"]]) {
      const s = sandbox("mysql", pod);
      const r = await runBash(s, "prepare-data.sh", `flavor_clone_into() { echo "clone $2 into $1" >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }\nmain`);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(calls(s)).toBe(`clone ${donor} into ${s.dataRoot}/data.staging\n`);
      expect(existsSync(join(s.dataRoot, "data/mysql"))).toBe(true);
    }
  });

  it("discards a half-finished attempt before starting again, never starting from it", async () => {
    const s = sandbox("mariadb", "db-1");
    mkdirSync(join(s.dataRoot, "data.staging"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data.staging/partial.ibd"), "half");
    const r = await runBash(s, "prepare-data.sh", `flavor_clone_into() { if [[ -e "$1/partial.ibd" ]]; then echo present; else echo gone; fi >>"$RUN_DIR/calls"; mkdir -p "$1/mysql"; }\nmain`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/discarding a half-finished attempt/);
    expect(calls(s)).toBe("gone\n");
    expect(existsSync(join(s.dataRoot, "data/partial.ibd"))).toBe(false);
  });

  it("retries a failed clone and discards each failed attempt", async () => {
    const s = sandbox("mysql", "db-1");
    // Each attempt leaves junk behind; the next attempt must not find it.
    const body = `flavor_clone_into() {
      n=$(( $(cat "$RUN_DIR/n" 2>/dev/null || echo 0) + 1 )); echo $n >"$RUN_DIR/n"
      if [[ -e "$1/junk" ]]; then echo "leftover before attempt $n" >>"$RUN_DIR/calls"; fi
      mkdir -p "$1"; echo junk >"$1/junk"
      if (( n < 3 )); then return 1; fi
      mkdir -p "$1/mysql"
    }
    main`;
    const r = await runBash(s, "prepare-data.sh", body);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(join(s.run, "n"), "utf8")).toBe("3\n");
    expect(existsSync(join(s.run, "calls")) ? readFileSync(join(s.run, "calls"), "utf8") : "").toBe("");
    expect(r.stderr).toMatch(/clone attempt 3\/3/);
  });

  it("gives up after the last attempt without creating a data directory", async () => {
    const s = sandbox("mysql", "db-1");
    const r = await runBash(s, "prepare-data.sh", `flavor_clone_into() { mkdir -p "$1/mysql"; return 1; }\nmain`);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/could not clone from db-0\.db after 3 attempts/);
    expect(existsSync(join(s.dataRoot, "data"))).toBe(false);
    expect(existsSync(join(s.dataRoot, "data.staging"))).toBe(false);
  });
});

describe("run-server.sh", () => {
  it("refuses to start a server on an empty data directory", async () => {
    const s = sandbox("mysql", "db-1");
    writeFileSync(join(s.confDir, "my.cnf"), "[mysqld]\n");
    const r = await runBash(s, "run-server.sh", "main");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/holds no database/);
  });
});

describe("MariaDB backup metadata", () => {
  const backup = (files: Record<string, string>) => {
    const s = sandbox("mariadb");
    const dir = join(s.root, "backup");
    mkdirSync(dir, { recursive: true });
    for (const [k, v] of Object.entries(files)) writeFileSync(join(dir, k), v);
    return { s, dir };
  };

  it("reads the donor replica's position from 11.x's mariadb_backup_slave_info", async () => {
    const { s, dir } = backup({
      mariadb_backup_slave_info: "SET GLOBAL gtid_slave_pos = '0-100-42';\nCHANGE MASTER TO master_use_gtid = slave_pos;\n",
      mariadb_backup_binlog_info: "mysql-bin.000003\t812\t0-101-7\n",
    });
    expect((await runBash(s, null, `backup_gtid ${dir}`)).stdout).toBe("0-100-42");
  });

  it("reads the primary's own GTID from 10.11's xtrabackup_binlog_info when there is no slave_info", async () => {
    const { s, dir } = backup({ xtrabackup_binlog_info: "mysql-bin.000001\t2354\t0-100-12\n" });
    expect((await runBash(s, null, `backup_gtid ${dir}`)).stdout).toBe("0-100-12");
  });

  it("reads a multi-domain GTID list", async () => {
    const { s, dir } = backup({ mariadb_backup_binlog_info: "mysql-bin.000001\t2354\t0-100-12,1-100-3\n" });
    expect((await runBash(s, null, `backup_gtid ${dir}`)).stdout).toBe("0-100-12,1-100-3");
  });

  it("calls a backup complete only with its final info file and full checkpoints, in either naming", async () => {
    const full = "backup_type = full-backuped\nfrom_lsn = 0\n";
    for (const prefix of ["mariadb_backup_", "xtrabackup_"]) {
      const ok = backup({ [`${prefix}info`]: "uuid = x\n", [`${prefix}checkpoints`]: full });
      expect((await runBash(ok.s, null, `backup_complete ${ok.dir}`)).exitCode).toBe(0);
    }
    const cut = backup({ mariadb_backup_checkpoints: full });
    expect((await runBash(cut.s, null, `backup_complete ${cut.dir}`)).exitCode).not.toBe(0);
    const partial = backup({ mariadb_backup_info: "x\n", mariadb_backup_checkpoints: "backup_type = incremental\n" });
    expect((await runBash(partial.s, null, `backup_complete ${partial.dir}`)).exitCode).not.toBe(0);
  });

  it("answers the backup server's challenge without sending the secret", async () => {
    const s = sandbox("mariadb");
    const a = (await runBash(s, null, "stream_answer 00112233445566778899aabbccddeeff s3cret")).stdout;
    const { createHash } = await import("node:crypto");
    expect(a).toBe(createHash("sha256").update("00112233445566778899aabbccddeeff:s3cret").digest("hex"));
    expect(a).not.toContain("s3cret");
  });
});

describe("replication set-up", () => {
  const sqlCapture = `sql() { cat >>"$RUN_DIR/sql"; }`;

  it("MySQL: points a new replica at the primary by GTID auto-position over TLS, and starts it", async () => {
    const s = sandbox("mysql", "db-2");
    const r = await runBash(s, null, `${sqlCapture}\nstatus_fields() { printf '\\t\\t\\n'; }\nensure_root_cnf\nflavor_configure_replication`);
    expect(r.exitCode, r.stderr).toBe(0);
    const sql = readFileSync(join(s.run, "sql"), "utf8");
    expect(sql).toMatch(/STOP REPLICA;\s+CHANGE REPLICATION SOURCE TO/);
    expect(sql).toContain("SOURCE_HOST = 'db-0.db'");
    expect(sql).toContain("SOURCE_USER = 'replicator'");
    expect(sql).toContain(`SOURCE_PASSWORD = '${testPasswords["mysql-replication-password"]}'`);
    expect(sql).toContain("SOURCE_AUTO_POSITION = 1");
    expect(sql).toContain("SOURCE_SSL = 1");
    expect(sql).toMatch(/START REPLICA;\s*$/);
  });

  it("MySQL: leaves a replica that already replicates from the primary alone (restart at any step)", async () => {
    const s = sandbox("mysql", "db-2");
    const r = await runBash(s, null, `${sqlCapture}\nstatus_fields() { printf 'db-0.db\\treplicator\\t1\\n'; }\nflavor_configure_replication`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(existsSync(join(s.run, "sql"))).toBe(false);
    expect(r.stderr).toMatch(/already points at db-0\.db/);
  });

  it("MariaDB: starts from the GTID the clone recorded, with MASTER_USE_GTID=slave_pos", async () => {
    const s = sandbox("mariadb", "db-1");
    mkdirSync(join(s.dataRoot, "data"), { recursive: true });
    writeFileSync(join(s.dataRoot, "data/mysql-chart-clone.info"), "donor=db-0.db\ngtid=0-100-57\nbytes=1\n");
    const r = await runBash(s, null, `${sqlCapture}\nstatus_fields() { printf '\\t\\t\\n'; }\nflavor_configure_replication`);
    expect(r.exitCode, r.stderr).toBe(0);
    const sql = readFileSync(join(s.run, "sql"), "utf8");
    expect(sql).toMatch(/STOP SLAVE;\s+SET GLOBAL gtid_slave_pos = '0-100-57';\s+CHANGE MASTER TO/);
    expect(sql).toContain("MASTER_USE_GTID = slave_pos");
    expect(sql).toContain("MASTER_HOST = 'db-0.db'");
    expect(sql).toMatch(/START SLAVE;\s*$/);
  });

  it("MariaDB: refuses to guess a position when the clone left no record", async () => {
    const s = sandbox("mariadb", "db-1");
    const r = await runBash(s, null, `${sqlCapture}\nstatus_fields() { printf '\\t\\t\\n'; }\nflavor_configure_replication`);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/no clone record/);
  });
});

describe("probe.sh readiness", () => {
  const probe = async (flavor: "mysql" | "mariadb", pod: string, status: string, lag = "60") => {
    const s = sandbox(flavor, pod);
    return runBash(s, "probe.sh", `sql() { cat >/dev/null; }\nstatus_fields() { printf '${status}\\n'; }\nmain readiness`, { MAX_LAG_SECONDS: lag });
  };

  it("is Ready on the primary whenever the server answers", async () => {
    expect((await probe("mysql", "db-0", "\\t\\t")).exitCode).toBe(0);
  });

  it("is Ready on a replica only with both threads running and lag within the bound", async () => {
    expect((await probe("mysql", "db-1", "Yes\\tYes\\t0")).exitCode).toBe(0);
    expect((await probe("mariadb", "db-1", "Yes\\tYes\\t60")).exitCode).toBe(0);
    const stopped = await probe("mysql", "db-1", "Yes\\tNo\\t0");
    expect(stopped.exitCode).not.toBe(0);
    expect(stopped.stdout).toMatch(/replication not running \(io=Yes sql=No\)/);
    expect((await probe("mysql", "db-1", "Connecting\\tYes\\tNULL")).exitCode).not.toBe(0);
    const lagging = await probe("mariadb", "db-2", "Yes\\tYes\\t61");
    expect(lagging.exitCode).not.toBe(0);
    expect(lagging.stdout).toMatch(/lag 61s is over 60s/);
    expect((await probe("mysql", "db-1", "\\t\\t")).exitCode).not.toBe(0);
  });

  it("never looks at replication for liveness", async () => {
    const s = sandbox("mysql", "db-1");
    const r = await runBash(s, "probe.sh", `sql() { cat >/dev/null; }\nstatus_fields() { echo called >&2; return 1; }\nmain liveness`);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/called/);
  });
});
