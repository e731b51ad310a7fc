// A password changed in the Secret reaches the servers without locking anyone out: the primary
// runs ALTER USER once per change (replicas receive it by replication), a replica re-points its
// replication only once the primary accepts the new password, and root's login in the pods
// switches only when the new password works.
import { existsSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox, testPasswords } from "../helpers/pod-scripts.js";

const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
/** sql() stub: the primary-login check succeeds only when RUN_DIR/primary-accepts exists; every other call's SQL is recorded. */
const sqlStub = `sql() {
  if [[ "$1" == *replication-check.cnf ]]; then cat >/dev/null; [[ -e "$RUN_DIR/primary-accepts" ]]; return; fi
  if [[ "$1" == *client-root.cnf.new.* ]]; then cat >/dev/null; [[ -e "$RUN_DIR/root-accepts-new" ]]; return; fi
  cat >>"$RUN_DIR/sql"
}`;

/** The primary's step without the creation of the chart's own accounts (its own test below). */
const skipTestAccount = "ensure_chart_accounts() { :; }\n";

describe("passwords.sh on the primary", () => {
  it("creates the helm test's, the probes' and the exporter's accounts once per sidecar start (older releases lack them), each with only what it needs", async () => {
    const s = sandbox("mysql", "db-0");
    const r = await runBash(s, null, `${sqlStub}\nreconcile_passwords 0; reconcile_passwords 0`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(read(join(s.run, "sql"))).toBe(
      "CREATE USER IF NOT EXISTS 'mysql_chart_test'@'%' IDENTIFIED BY 'test-pass';\nGRANT ALL PRIVILEGES ON `mysql_chart_test`.* TO 'mysql_chart_test'@'%';\n" +
        "CREATE USER IF NOT EXISTS 'mysql_chart_monitor'@'localhost' IDENTIFIED BY 'monitor-pass';\nGRANT REPLICATION CLIENT ON *.* TO 'mysql_chart_monitor'@'localhost';\n" +
        "CREATE USER IF NOT EXISTS 'mysql_chart_metrics'@'localhost' IDENTIFIED BY 'metrics-pass' WITH MAX_USER_CONNECTIONS 3;\nGRANT PROCESS, REPLICATION CLIENT ON *.* TO 'mysql_chart_metrics'@'localhost';\n",
    );
  });

  it("takes the Secret's passwords as applied on first sight, then ALTERs root (both hosts) once when it changes", async () => {
    const s = sandbox("mysql", "db-0");
    const step = () => runBash(s, null, `${sqlStub}\n${skipTestAccount}reconcile_passwords 0`);
    expect((await step()).exitCode).toBe(0);
    expect(read(join(s.run, "sql"))).toBe("");
    expect(read(join(s.dataRoot, "passwords.applied"))).not.toContain(testPasswords["mysql-root-password"]);
    writeFileSync(join(s.secrets, "mysql-root-password"), "a-new-root-password");
    const r = await step();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(read(join(s.run, "sql"))).toBe("ALTER USER 'root'@'localhost' IDENTIFIED BY 'a-new-root-password', 'root'@'%' IDENTIFIED BY 'a-new-root-password';\n");
    rmSync(join(s.run, "sql"));
    expect((await step()).exitCode).toBe(0);
    expect(read(join(s.run, "sql")), "applied once, not on every step").toBe("");
  });

  it("ALTERs the replication, clone and application accounts at the hosts the flavor creates them on", async () => {
    for (const [flavor, cloneHost] of [["mysql", "%"], ["mariadb", "localhost"]] as const) {
      const s = sandbox(flavor, "db-0");
      const env = { APP_USER: "app" };
      await runBash(s, null, `${sqlStub}\n${skipTestAccount}reconcile_passwords 0`, env);
      for (const k of ["mysql-replication-password", "mysql-clone-password", "mysql-password"]) writeFileSync(join(s.secrets, k), `new-${k}`);
      const r = await runBash(s, null, `${sqlStub}\n${skipTestAccount}reconcile_passwords 0`, env);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(read(join(s.run, "sql")).split("\n").filter(Boolean)).toEqual([
        "ALTER USER 'replicator'@'%' IDENTIFIED BY 'new-mysql-replication-password';",
        `ALTER USER 'clone'@'${cloneHost}' IDENTIFIED BY 'new-mysql-clone-password';`,
        "ALTER USER 'app'@'%' IDENTIFIED BY 'new-mysql-password';",
      ]);
    }
  });

  it("retries a failed ALTER USER on the next step instead of recording it as applied", async () => {
    const s = sandbox("mariadb", "db-0");
    await runBash(s, null, `${sqlStub}\n${skipTestAccount}reconcile_passwords 0`);
    writeFileSync(join(s.secrets, "mysql-replication-password"), "rotated-replication-pw");
    const failing = await runBash(s, null, `sql() { cat >/dev/null; return 1; }\n${skipTestAccount}reconcile_passwords 0 || echo "step failed" >&2`);
    expect(failing.stderr).toMatch(/ALTER USER for mysql-replication-password failed/);
    const r = await runBash(s, null, `${sqlStub}\n${skipTestAccount}reconcile_passwords 0`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(read(join(s.run, "sql"))).toContain("ALTER USER 'replicator'@'%' IDENTIFIED BY 'rotated-replication-pw';");
  });
});

describe("passwords.sh on a replica", () => {
  for (const flavor of ["mysql", "mariadb"] as const) {
    it(`${flavor}: re-points replication with a changed password only once the primary accepts it`, async () => {
      const s = sandbox(flavor, "db-2");
      // The stub's replica never reports running threads: without this, each re-pointing waits out 30 s.
      const running = "wait_replication_running() { :; }\n";
      const step = () => runBash(s, null, `${sqlStub}\n${running}reconcile_passwords 2`);
      await step();
      writeFileSync(join(s.secrets, "mysql-replication-password"), "rotated-replication-pw");
      const waiting = await step();
      expect(waiting.exitCode, waiting.stderr).toBe(0);
      expect(waiting.stderr).toMatch(/waiting for the primary to accept it/);
      expect(read(join(s.run, "sql"))).toBe("");
      writeFileSync(join(s.run, "primary-accepts"), "");
      const r = await step();
      expect(r.exitCode, r.stderr).toBe(0);
      const sql = read(join(s.run, "sql"));
      if (flavor === "mysql") {
        expect(sql).toBe("STOP REPLICA IO_THREAD;\nCHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = 'rotated-replication-pw';\nSTART REPLICA IO_THREAD;\n");
      } else {
        expect(sql).toBe("STOP SLAVE;\nCHANGE MASTER TO MASTER_PASSWORD = 'rotated-replication-pw';\nSTART SLAVE;\n");
      }
      rmSync(join(s.run, "sql"));
      await step();
      expect(read(join(s.run, "sql"))).toBe("");
      expect(existsSync(join(s.run, "replication-check.cnf")), "the check's option file is removed").toBe(false);
    });
  }

  it("never ALTERs accounts on a replica (they arrive by replication)", async () => {
    const s = sandbox("mysql", "db-1");
    await runBash(s, null, `${sqlStub}\nreconcile_passwords 1`);
    writeFileSync(join(s.secrets, "mysql-root-password"), "a-new-root-password");
    await runBash(s, null, `${sqlStub}\nreconcile_passwords 1`);
    expect(read(join(s.run, "sql"))).not.toMatch(/ALTER USER/);
  });
});

describe("readiness while the sidecar re-points replication", () => {
  const probe = (s: ReturnType<typeof sandbox>) => runBash(s, "probe.sh", `sql() { cat >/dev/null; }\nstatus_fields() { printf 'Connecting\\tYes\\t\\n'; }\nmain readiness`);

  it("stays Ready during a deliberate reconnection (a fresh marker), not otherwise", async () => {
    const s = sandbox("mysql", "db-1");
    expect((await probe(s)).exitCode).not.toBe(0);
    writeFileSync(join(s.run, "replication-repointing"), "");
    const r = await probe(s);
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/being re-pointed by the sidecar/);
  });

  it("a marker older than a minute (a sidecar killed mid-way) no longer counts", async () => {
    const s = sandbox("mariadb", "db-1");
    writeFileSync(join(s.run, "replication-repointing"), "");
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(s.run, "replication-repointing"), old, old);
    expect((await probe(s)).exitCode).not.toBe(0);
  });

  it("the sidecar removes the marker once replication runs again", async () => {
    const s = sandbox("mysql", "db-2");
    await runBash(s, null, `${sqlStub}\nreconcile_passwords 2`);
    writeFileSync(join(s.secrets, "mysql-replication-password"), "rotated-replication-pw");
    writeFileSync(join(s.run, "primary-accepts"), "");
    const r = await runBash(s, null, `${sqlStub}\nstatus_fields() { [[ -e "$REPOINTING_MARKER" ]] && echo marker-seen >>"$RUN_DIR/calls"; printf 'Yes\\tYes\\n'; }\nreconcile_passwords 2`);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(read(join(s.run, "calls"))).toBe("marker-seen\n");
    expect(existsSync(join(s.run, "replication-repointing"))).toBe(false);
  });
});

describe("root's login in the pods", () => {
  it("keeps the working password until the server takes the Secret's new one, then switches", async () => {
    const s = sandbox("mysql", "db-1");
    const cnf = join(s.run, "client-root.cnf");
    await runBash(s, null, `${sqlStub}\nensure_root_cnf`);
    expect(read(cnf)).toContain("r00t");
    writeFileSync(join(s.secrets, "mysql-root-password"), "a-new-root-password");
    await runBash(s, null, `${sqlStub}\nensure_root_cnf`);
    expect(read(cnf), "the new password does not work yet").toContain("r00t");
    writeFileSync(join(s.run, "root-accepts-new"), "");
    const r = await runBash(s, null, `${sqlStub}\nensure_root_cnf`);
    expect(r.stderr).toMatch(/using root's new password/);
    expect(read(cnf)).toContain('password="a-new-root-password"');
  });
});
