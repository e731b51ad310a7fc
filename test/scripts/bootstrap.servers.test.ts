// bootstrap.cloneFrom between real servers (Docker containers, before any cluster exists): pod 0
// of a new release copies a plain MySQL server outside it (the database being migrated), adds the
// chart's accounts, replicates from it read-only while replicas seed from pod 0, and takes writes
// only at the cut-over, once it holds every transaction of that server.
import { chmodSync, chownSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { versions } from "../../scripts/lib/tools.js";
import { docker, dockerAvailable, imageExists, LocalPods } from "../helpers/docker-pods.js";
import { OUTSIDE_CA, OUTSIDE_PASSWORD, OUTSIDE_SQL, OUTSIDE_USER, type OutsideServer, outsideServerScript } from "../helpers/outside-server.js";

const image = process.env.MYSQL_IMAGE ?? versions().LOCAL_IMAGE_MYSQL_9_7;
// The old server has an account with one of the chart's names (an older release of this chart, say).
const ORDERS = "CREATE USER 'mysql_chart_monitor'@'localhost' IDENTIFIED BY 'old-monitor-pass-1';\nCREATE DATABASE legacy;\nCREATE TABLE legacy.orders (id INT PRIMARY KEY, note VARCHAR(64));\nINSERT INTO legacy.orders VALUES (1, 'first'), (2, 'second');";

/** LocalPods plus the outside server (network alias legacy.db) and bootstrap.cloneFrom's mounted files. */
class Migration {
  readonly pods = new LocalPods("mysql", image);
  readonly boot = join(this.pods.dir, "bootstrap");
  readonly source = `${this.pods.network}-legacy`;

  async start(server: OutsideServer) {
    await this.pods.createNetwork();
    mkdirSync(this.boot);
    chmodSync(this.boot, 0o755);
    this.file("password", OUTSIDE_PASSWORD);
    this.file("cut-over", "false");
    const r = await docker([
      "run", "-d", "--name", this.source, "--network", this.pods.network, "--network-alias", "legacy.db", "--user", "999:999",
      "--tmpfs", "/tmp:uid=999,gid=999,mode=1777", "--read-only", "--entrypoint", "bash", image, "-c", outsideServerScript(server),
    ]);
    if (r.exitCode !== 0) throw new Error(`the outside server did not start: ${r.stderr}`);
    for (let i = 0; i < 120 && !(await this.sql("SELECT 1").catch(() => "")); i++) await new Promise((res) => setTimeout(res, 500));
  }

  /** A file of the bootstrap volume, replaced at once as the kubelet does. */
  file(name: string, content: string) {
    const f = join(this.boot, name);
    writeFileSync(`${f}.new`, content);
    chownSync(`${f}.new`, 999, 999);
    chmodSync(`${f}.new`, 0o400);
    renameSync(`${f}.new`, f);
  }

  /** SQL as root on the outside server. */
  async sql(statements: string) {
    const r = await docker(["exec", "-i", this.source, ...OUTSIDE_SQL], statements);
    if (r.exitCode !== 0) throw new Error(`SQL on the outside server failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Start pod ORDINAL with bootstrap.cloneFrom pointing at the outside server. */
  startPod(ordinal: number) {
    return this.pods.start(ordinal, {
      env: { BOOTSTRAP_SOURCE_HOST: "legacy.db", BOOTSTRAP_SOURCE_PORT: "3306", BOOTSTRAP_SOURCE_USER: OUTSIDE_USER, BOOTSTRAP_SOURCE_TLS: "true" },
      mounts: { [this.boot]: "/etc/mysql-chart/bootstrap" },
    });
  }

  async destroy() {
    await docker(["rm", "-f", this.source]);
    await this.pods.destroy();
  }
}

describe("MySQL 9.7: bootstrap.cloneFrom between real servers", () => {
  const m = new Migration();
  const pods = m.pods;

  beforeAll(async () => {
    if (!(await dockerAvailable())) throw new Error("Docker is not running: run bash infra/docker/ensure-docker.sh");
    if (!(await imageExists(image))) throw new Error(`image ${image} is missing: run bash infra/images/db/build.sh`);
    await m.start({ serverId: 7, initSql: ORDERS });
    // The server's own CA (bootstrap.cloneFrom.tls.caSecret): the copy and replication verify it.
    const ca = await docker(["exec", m.source, "cat", OUTSIDE_CA]);
    m.file("ca.crt", ca.stdout);
  }, 120_000);

  afterAll(async () => {
    await m.destroy();
  });

  it("pod 0 copies the outside server before its first start and replicates from it, read-only, with the chart's accounts", async () => {
    await m.startPod(0);
    await pods.waitReady(0);
    expect(await pods.logs(0)).toMatch(/clone completed from legacy\.db:3306/);
    expect(await pods.sql(0, "SELECT COUNT(*) FROM legacy.orders")).toBe("2");
    expect(await pods.sql(0, "SELECT @@read_only, @@super_read_only")).toBe("1\t1");
    const status = await pods.bash(0, 'status_fields "$CLIENT_CNF" "SHOW REPLICA STATUS" Source_Host Source_User Replica_IO_Running Replica_SQL_Running Source_SSL_Allowed Source_SSL_CA_File');
    expect(status.stdout.trim()).toBe(`legacy.db\t${OUTSIDE_USER}\tYes\tYes\tYes\t/etc/mysql-chart/bootstrap/ca.crt`);
    // The application user exists on the copy, not on the old server, with the Secret's password.
    expect((await pods.appSql(0, "SELECT CURRENT_USER()")).stdout.trim()).toBe("app@%");
    expect(await m.sql("SELECT COUNT(*) FROM mysql.user WHERE user = 'app'")).toBe("0");
    // An account the old server had under a chart's name now has the Secret's password.
    const monitor = await pods.bash(0, 'pw=$(read_secret mysql-monitor-password); write_client_cnf /tmp/m.cnf mysql_chart_monitor "$pw"; sql /tmp/m.cnf <<<"SELECT CURRENT_USER()"');
    expect(monitor.stdout.trim()).toBe("mysql_chart_monitor@localhost");
    // The accounts were added outside the binary log: pod 0's GTID set is the old server's.
    expect(await pods.sql(0, "SELECT @@gtid_executed")).toBe(await m.sql("SELECT @@gtid_executed"));
  });

  it("pod 0 refuses writes before the cut-over", async () => {
    const r = await pods.appSql(0, "CREATE DATABASE written_too_early", "root");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/super-read-only/);
  });

  it("a write on the old server reaches pod 0, and a replica seeded from pod 0", async () => {
    await m.sql("INSERT INTO legacy.orders VALUES (3, 'while migrating')");
    await pods.waitFor(0, "SELECT COUNT(*) FROM legacy.orders", "3");
    await m.startPod(1);
    await pods.waitReady(1);
    expect(await pods.logs(1)).toMatch(/clone completed from db-0\.db/);
    await m.sql("INSERT INTO legacy.orders VALUES (4, 'after the replica')");
    await pods.waitFor(1, "SELECT COUNT(*) FROM legacy.orders", "4");
  });

  it("the cut-over waits for every transaction of the old server, then pod 0 takes writes and the replica follows it", async () => {
    // Pod 0's applier is held back: the cut-over must wait for the old server's last write.
    await pods.sql(0, "STOP REPLICA SQL_THREAD");
    await m.sql("INSERT INTO legacy.orders VALUES (5, 'last write before the cut-over')");
    m.file("cut-over", "true");
    await pods.waitLog(0, /cut-over: waiting for pod 0 to receive|cut-over: waiting until pod 0 has applied/, 30_000);
    expect(await pods.sql(0, "SELECT @@read_only")).toBe("1");
    await pods.sql(0, "START REPLICA SQL_THREAD");
    await pods.waitLog(0, /cut-over done/, 60_000);
    const checksum = "CHECKSUM TABLE legacy.orders";
    const theirs = await m.sql(checksum);
    expect(await pods.sql(0, checksum)).toBe(theirs);
    await pods.waitFor(1, checksum, theirs);
    expect(await pods.sql(0, "SELECT @@read_only, @@super_read_only")).toBe("0\t0");
    expect(await pods.sql(0, "SHOW REPLICA STATUS")).toBe("");
    await pods.sql(0, "INSERT INTO legacy.orders VALUES (6, 'on the new primary')");
    await pods.waitFor(1, "SELECT note FROM legacy.orders WHERE id = 6", "on the new primary");
    // The old server's writes no longer arrive.
    await m.sql("INSERT INTO legacy.orders VALUES (7, 'too late')");
    await new Promise((res) => setTimeout(res, 3000));
    expect(await pods.sql(0, "SELECT COUNT(*) FROM legacy.orders WHERE id = 7")).toBe("0");
  });

  it("after the cut-over a restarted pod 0 stays the writable primary", async () => {
    await pods.restart(0);
    await pods.waitReady(0);
    expect(await pods.sql(0, "SELECT @@read_only")).toBe("0");
    expect(await pods.sql(0, "SELECT COUNT(*) FROM legacy.orders WHERE id = 7")).toBe("0");
  });
});

describe("MySQL 9.7: bootstrap.cloneFrom refuses a server it cannot clone or replicate from", () => {
  const m = new Migration();

  beforeAll(async () => {
    if (!(await dockerAvailable())) throw new Error("Docker is not running: run bash infra/docker/ensure-docker.sh");
    // No GTIDs, no clone plugin, and a server_id a pod of the release takes (serverIdOffset 100).
    await m.start({ serverId: 101, gtid: false, clonePlugin: false });
  }, 120_000);

  afterAll(async () => {
    await m.destroy();
  });

  it("a certificate another CA signed (bootstrap.cloneFrom.tls.caSecret): pod 0 waits, saying why, and copies nothing", async () => {
    m.file("ca.crt", readFileSync(join(m.pods.dir, "tls", "ca.crt"), "utf8"));
    await m.startPod(0);
    await m.pods.waitLog(0, /does not answer as migrator \(\d+s\): ERROR 2026 .*certificate verify failed/, 90_000);
    expect(await m.pods.logs(0)).not.toMatch(/cloning from|initialising a new data directory/);
  });

  it("pod 0 stops before copying anything, naming every reason, and never initialises an empty database", async () => {
    rmSync(join(m.boot, "ca.crt"));
    await m.pods.restart(0);
    await m.pods.waitLog(0, /cannot be cloned/, 60_000);
    const logs = await m.pods.logs(0);
    expect(logs).toMatch(/the clone plugin is not installed on the source/);
    expect(logs).toMatch(/gtid_mode is OFF/);
    expect(logs).toMatch(/server_id \(101\) is at or above serverIdOffset \(100\)/);
    expect(logs).not.toMatch(/initialising a new data directory/);
    const listing = await docker(["run", "--rm", "-v", `${join(m.pods.dir, "data-0")}:/d`, "--entrypoint", "ls", image, "-A", "/d"]);
    expect(listing.stdout).not.toMatch(/^data$/m);
  });
});
