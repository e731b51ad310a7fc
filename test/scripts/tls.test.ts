// tls.sh: the sidecar keeps the pod's use of the release's certificate current: a changed
// certificate is reloaded without a restart; on the primary the members-only accounts require the
// certificate; on a replica of an older release, replication switches to verified TLS (and the
// primary's current name) only once the primary accepts it.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, type Sandbox, sandbox } from "../helpers/pod-scripts.js";

const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");

/** A sandbox with a certificate directory of its own (the shared one must not change). */
function withOwnTls(flavor: "mysql" | "mariadb", pod: string): Sandbox {
  const s = sandbox(flavor, pod);
  const dir = mkdtempSync(join(tmpdir(), "tls-"));
  cpSync(s.env.TLS_DIR, dir, { recursive: true });
  s.env.TLS_DIR = dir;
  return s;
}

/** sql() stub: SQL on root's socket is recorded; the member login to the primary succeeds only when RUN_DIR/primary-accepts exists. */
const sqlStub = `sql() {
  if [[ "$1" == *replication-tls-check.cnf ]]; then cat >/dev/null; [[ -e "$RUN_DIR/primary-accepts" ]]; return; fi
  cat >>"$RUN_DIR/sql"
}`;

describe("tls.sh", () => {
  it("reloads the certificate files when they change (first sight only records them), and says so", async () => {
    const s = withOwnTls("mysql", "db-1");
    const step = () => runBash(s, "tls.sh", `${sqlStub}\nreload_tls_if_changed; echo "reloaded=\${TLS_RELOADED:-no}"`);
    expect((await step()).stdout.trim()).toBe("reloaded=no");
    expect(read(join(s.run, "sql"))).toBe("");
    expect((await step()).stdout.trim()).toBe("reloaded=no");
    writeFileSync(join(s.env.TLS_DIR, "tls.crt"), readFileSync(join(s.env.TLS_DIR, "tls.crt"), "utf8") + "\n");
    const r = await step();
    expect(r.stdout.trim()).toBe("reloaded=1");
    expect(r.stderr).toMatch(/certificate files .* changed/);
    expect(read(join(s.run, "sql"))).toBe("ALTER INSTANCE RELOAD TLS;\n");
    const m = withOwnTls("mariadb", "db-0");
    await runBash(m, "tls.sh", `${sqlStub}\nreload_tls_if_changed`);
    writeFileSync(join(m.env.TLS_DIR, "ca.crt"), "changed");
    await runBash(m, "tls.sh", `${sqlStub}\nreload_tls_if_changed`);
    // Never binary-logged: on a replica that would be a transaction the primary lacks.
    expect(read(join(m.run, "sql"))).toBe("FLUSH NO_WRITE_TO_BINLOG SSL;\n");
  });

  for (const [flavor, accounts] of [["mysql", ["'replicator'@'%'", "'clone'@'%'", "'root'@'%'"]], ["mariadb", ["'replicator'@'%'", "'root'@'%'"]]] as const) {
    it(`${flavor}: on the primary, makes ${accounts.join(" and ")} require the release's certificate, once`, async () => {
      const s = sandbox(flavor, "db-0");
      const shown = join(s.run, "shown");
      writeFileSync(shown, "CREATE USER `replicator`@`%` IDENTIFIED BY PASSWORD 'x'");
      const step = () => runBash(s, "tls.sh", `${sqlStub}\nsql_value() { echo "$2" >>"$RUN_DIR/asked"; cat "${shown}"; }\nreconcile_tls 0; echo "done=$MEMBER_TLS_DONE"`);
      const r = await step();
      expect(r.stdout.trim(), r.stderr).toBe("done=1");
      const require = "REQUIRE SUBJECT '/CN=db' AND ISSUER '/CN=db-ca'";
      expect(read(join(s.run, "sql"))).toBe(accounts.map((a) => `ALTER USER ${a} ${require};\n`).join(""));
      // Already required (as SHOW CREATE USER prints it): nothing to do.
      writeFileSync(shown, "CREATE USER `replicator`@`%` IDENTIFIED BY PASSWORD 'x' REQUIRE ISSUER '/CN=db-ca' SUBJECT '/CN=db'");
      writeFileSync(join(s.run, "sql"), "");
      expect((await step()).stdout.trim()).toBe("done=1");
      expect(read(join(s.run, "sql"))).toBe("");
    });
  }

  it("with auth.remoteRoot root@'%' requires no certificate (made so if it did), the internal accounts still do", async () => {
    const s = sandbox("mysql", "db-0");
    const shown = "CREATE USER `x`@`%` IDENTIFIED BY PASSWORD 'x' REQUIRE SUBJECT '/CN=db' AND ISSUER '/CN=db-ca'";
    const r = await runBash(s, "tls.sh", `${sqlStub}\nsql_value() { echo "${shown}"; }\nensure_member_accounts`, { REMOTE_ROOT: "true" });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(read(join(s.run, "sql"))).toBe("ALTER USER 'root'@'%' REQUIRE NONE;\n");
    expect(r.stderr).toMatch(/auth\.remoteRoot is on/);
  });

  it("on a replica of an older release, waits until the primary accepts the release's certificate, then re-points replication with verified TLS at the primary's current name", async () => {
    const s = sandbox("mysql", "db-2");
    const status = join(s.run, "status");
    // An older release's replica: the primary's short name, TLS unverified.
    writeFileSync(status, "\t\tNo\tdb-0.db\n");
    const step = () =>
      runBash(s, "tls.sh", `${sqlStub}\nstatus_fields() { cat "${status}"; }\nwait_replication_running() { :; }\nensure_replication_tls; echo "done=\${MEMBER_TLS_DONE:-no}"`);
    let r = await step();
    expect(r.stdout.trim(), r.stderr).toBe("done=no");
    expect(r.stderr).toMatch(/waiting for the primary to accept a connection with the release's certificate/);
    expect(read(join(s.run, "sql"))).toBe("");
    writeFileSync(join(s.run, "primary-accepts"), "");
    r = await step();
    expect(r.stdout.trim(), r.stderr).toBe("done=1");
    const sql = read(join(s.run, "sql"));
    expect(sql).toMatch(/^STOP REPLICA;\nCHANGE REPLICATION SOURCE TO SOURCE_HOST = 'db-0\.db\.ns',\n/);
    expect(sql).toContain(`SOURCE_SSL_CA = '${s.env.TLS_DIR}/ca.crt'`);
    expect(sql).toContain(`SOURCE_SSL_CERT = '${s.env.TLS_DIR}/tls.crt'`);
    expect(sql).toContain("SOURCE_SSL_VERIFY_SERVER_CERT = 1");
    expect(sql).toMatch(/START REPLICA;\n$/);
    // A replica that already verifies the primary under its current name is left alone.
    writeFileSync(status, `${s.env.TLS_DIR}/ca.crt\t${s.env.TLS_DIR}/tls.crt\tYes\tdb-0.db.ns\n`);
    writeFileSync(join(s.run, "sql"), "");
    expect((await step()).stdout.trim()).toBe("done=1");
    expect(read(join(s.run, "sql"))).toBe("");
  });
});
