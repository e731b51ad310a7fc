// lib.sh's building blocks: ordinals and donors, quoting, option files, the accounts' SQL.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBash, sandbox } from "../helpers/pod-scripts.js";

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
    expect((await runBash(s, null, "peer_host $(donor_ordinal 1); peer_host $(donor_ordinal 4)")).stdout).toBe("db-0.db.ns\ndb-3.db.ns");
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
        expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it("builds accounts with a password each, the application user only when asked; replication, clone and network root need the release's certificate", async () => {
    const s = sandbox("mysql", "db-0");
    const plain = (await runBash(s, null, "account_sql")).stdout;
    expect(plain).toContain("ALTER USER 'root'@'localhost' IDENTIFIED BY 'r00t''pa\"ss\\\\word';");
    // Members only: the replication and clone accounts require the release's certificate.
    expect(plain).toContain("CREATE USER 'replicator'@'%' IDENTIFIED BY 'repl-pass' REQUIRE SUBJECT '/CN=db' AND ISSUER '/CN=db-ca';");
    expect(plain).toContain("CREATE USER 'clone'@'%' IDENTIFIED BY 'clone-pass' REQUIRE SUBJECT '/CN=db' AND ISSUER '/CN=db-ca';");
    // Root over the network: members only, unless auth.remoteRoot.
    expect(plain).toContain("CREATE USER 'root'@'%' IDENTIFIED BY 'r00t''pa\"ss\\\\word' REQUIRE SUBJECT '/CN=db' AND ISSUER '/CN=db-ca';");
    const remote = (await runBash(s, null, "account_sql", { REMOTE_ROOT: "true" })).stdout;
    expect(remote).toContain("CREATE USER 'root'@'%' IDENTIFIED BY 'r00t''pa\"ss\\\\word' REQUIRE NONE;");
    // The helm test's account owns its database and nothing else.
    expect(plain).toContain("CREATE USER IF NOT EXISTS 'mysql_chart_test'@'%' IDENTIFIED BY 'test-pass';");
    expect(plain).toContain("GRANT ALL PRIVILEGES ON `mysql_chart_test`.* TO 'mysql_chart_test'@'%';");
    expect(plain).toContain("GRANT REPLICATION SLAVE ON *.* TO 'replicator'@'%';");
    expect(plain).toContain("GRANT BACKUP_ADMIN ON *.* TO 'clone'@'%';");
    expect(plain).not.toMatch(/app-pass|CREATE DATABASE/);
    for (const line of plain.split("\n").filter((l) => l.startsWith("CREATE USER"))) expect(line).toMatch(/IDENTIFIED BY '.+'/);
    const app = (await runBash(s, null, "account_sql", { APP_USER: "app", APP_DATABASE: "appdb" })).stdout;
    expect(app).toContain("CREATE DATABASE IF NOT EXISTS `appdb`;");
    expect(app).toContain("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pass';");
    expect(app).toContain("GRANT ALL PRIVILEGES ON `appdb`.* TO 'app'@'%';");
  });

  it("gives the MariaDB backup account only what a backup needs, on localhost (no certificate: only the pod itself reaches it)", async () => {
    const s = sandbox("mariadb", "db-0");
    const sql = (await runBash(s, null, "account_sql")).stdout;
    expect(sql).toContain("CREATE USER 'clone'@'localhost' IDENTIFIED BY 'clone-pass';");
    expect(sql).toContain("GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'clone'@'localhost';");
    expect((await runBash(s, null, "flavor_pre_account_sql")).stdout).toMatch(/User = ''/);
    expect((await runBash(s, null, "flavor_post_account_sql")).stdout).toBe("REVOKE READ_ONLY ADMIN ON *.* FROM 'root'@'%';");
  });
});
