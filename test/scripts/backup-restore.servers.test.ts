// Backups that restore (issue 15), between real servers in Docker: the backup Job's script copies a
// Ready replica into a destination directory (archive, sha256, manifest), and a new release whose
// pod 0 is given that destination (restore.from) starts from it with its own passwords, takes
// writes and seeds its replicas; a truncated or corrupt backup is refused before anything starts.
// Then the same through an S3 bucket.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, chownSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerAvailable, imageExists, LocalPods, type PodOptions } from "../helpers/docker-pods.js";
import { fakeApiCalls } from "../helpers/fake-kube-api.js";
import { LocalObjectStore } from "../helpers/object-store.js";
import { versions } from "../../scripts/lib/tools.js";
import type { Flavor } from "../helpers/pod-scripts.js";

const pins = versions();
const flavors: { name: string; flavor: Flavor; image: string }[] = [
  { name: "MySQL 9.7", flavor: "mysql", image: process.env.MYSQL_IMAGE ?? pins.LOCAL_IMAGE_MYSQL_9_7 },
  { name: "MariaDB 11.8", flavor: "mariadb", image: process.env.MARIADB_IMAGE ?? pins.LOCAL_IMAGE_MARIADB_11_8 },
  { name: "MariaDB 10.11", flavor: "mariadb", image: process.env.MARIADB_10_IMAGE ?? pins.LOCAL_IMAGE_MARIADB_10_11 },
];
const DEST = "/backups";
const ROWS = 1000;
/** The restored release's passwords: none is the backed-up release's. */
const OTHER_PASSWORDS = { "mysql-root-password": "restored-root-0123", "mysql-replication-password": "restored-repl", "mysql-clone-password": "restored-clone", "mysql-password": "restored-app" };

/** The release backed up: a primary with ROWS rows in appdb.t and a replica that holds them. */
async function startSource(source: LocalPods, primary: PodOptions = {}) {
  await source.start(0, primary);
  await source.waitReady(0);
  await source.sql(0, `CREATE TABLE appdb.t (id INT PRIMARY KEY, v VARCHAR(100)); INSERT INTO appdb.t WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${ROWS}) SELECT n, REPEAT('x', 100) FROM s;`);
  await source.start(1);
  await source.waitReady(1);
  await source.waitFor(1, "SELECT COUNT(*) FROM appdb.t", String(ROWS));
}

const manifestOf = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name, "manifest.json"), "utf8"));

for (const f of flavors) {
  describe(`${f.name}: backup and restore`, () => {
    const source = new LocalPods(f.flavor, f.image);
    const restored = new LocalPods(f.flavor, f.image);
    const refused = new LocalPods(f.flavor, f.image);
    const dest = mkdtempSync(join(tmpdir(), "backups-"));
    chownSync(dest, 999, 999);
    let name = "";
    let sourceSums = "";

    beforeAll(async () => {
      if (!(await dockerAvailable())) throw new Error("Docker is not running: run bash infra/docker/ensure-docker.sh");
      if (!(await imageExists(f.image))) throw new Error(`image ${f.image} is missing: run bash infra/images/db/build.sh`);
      for (const p of [source, restored, refused]) await p.createNetwork();
      for (const [k, v] of Object.entries(OTHER_PASSWORDS)) restored.setSecret(k, v);
      await startSource(source);
    });

    afterAll(async () => {
      for (const p of [source, restored, refused]) await p.destroy();
    });

    it("the backup Job copies a Ready replica, never the primary, into one complete backup: archive, sha256 and a manifest with its GTID position", async () => {
      const job = await source.runJob("backup", "/opt/mysql-chart/scripts/backup.sh", { env: { BACKUP_DEST: DEST, REPLICAS: "2", CHART_VERSION: "test" }, writable: { [dest]: DEST } });
      expect(job.exitCode, job.logs).toBe(0);
      const names = readdirSync(dest);
      expect(names, "one backup, nothing partial left").toHaveLength(1);
      name = names[0];
      expect(name).toMatch(/^\d{8}T\d{6}Z$/);
      const m = manifestOf(dest, name);
      expect(m.source).toBe("db-1.db.local");
      expect(m.flavor).toBe(f.flavor);
      const archive = readFileSync(join(dest, name, m.archive));
      expect(m.size).toBe(archive.length);
      expect(m.sha256).toBe(createHash("sha256").update(archive).digest("hex"));
      const position = f.flavor === "mysql" ? "SELECT @@GLOBAL.gtid_executed" : "SELECT @@GLOBAL.gtid_slave_pos";
      expect(m.gtid).toBe(await source.sql(1, position));
      expect(m.serverVersion).toBe((await source.sql(0, "SELECT VERSION()")).match(/^\d+\.\d+\.\d+/)![0]);
      sourceSums = await source.sql(0, "CHECKSUM TABLE appdb.t");
    });

    it("a new release restored from the latest backup holds its rows, answers to its own passwords, takes writes and seeds a replica", async () => {
      expect(name, "the backup above").not.toBe("");
      await restored.start(0, { env: { RESTORE_DEST: DEST, RESTORE_BACKUP: "latest" }, mounts: { [dest]: DEST } });
      await restored.waitReady(0);
      expect(await restored.logs(0)).toMatch(new RegExp(`restored from backup ${name}`));
      // restored.sql logs in as root with this release's password (OTHER_PASSWORDS).
      expect(await restored.sql(0, "CHECKSUM TABLE appdb.t")).toBe(sourceSums);
      const app = await restored.appSql(0, "SELECT CURRENT_USER()");
      expect(app.exitCode, app.stderr).toBe(0);
      await restored.sql(0, "INSERT INTO appdb.t VALUES (0, 'after the restore')");
      await restored.start(1);
      await restored.waitReady(1);
      await restored.waitFor(1, "SELECT v FROM appdb.t WHERE id = 0", "after the restore");
      expect(await restored.sql(1, "SELECT COUNT(*) FROM appdb.t")).toBe(String(ROWS + 1));
    });

    it("a truncated backup, and one whose checksum does not match, are refused before anything starts, naming why", async () => {
      expect(name, "the backup above").not.toBe("");
      const archive = manifestOf(dest, name).archive as string;
      const truncated = "20000101T000000Z";
      const corrupt = "20000101T000001Z";
      for (const copy of [truncated, corrupt]) cpSync(join(dest, name), join(dest, copy), { recursive: true });
      truncateSync(join(dest, truncated, archive), 1000);
      const bytes = readFileSync(join(dest, corrupt, archive));
      bytes[bytes.length >> 1] ^= 0xff;
      writeFileSync(join(dest, corrupt, archive), bytes);
      for (const [copy, why] of [[truncated, /is 1000 bytes, the manifest says \d+: truncated/], [corrupt, /sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}: corrupt/]] as const) {
        await refused.start(0, { env: { RESTORE_DEST: DEST, RESTORE_BACKUP: copy }, mounts: { [dest]: DEST } });
        await expect(refused.waitReady(0, 60_000)).rejects.toThrow(/the container exited/);
        expect(await refused.logs(0)).toMatch(why);
        expect(existsSync(join(refused.dir, "data-0", "data")), "no data directory").toBe(false);
      }
    });
  });
}

// The same through an S3 bucket (backup.s3, restore.from.s3, backup.binlogs, restore.pointInTime):
// a real S3 server (versitygw, HTTPS, a private CA) beside the pods, the S3 client copied out of its
// image as the chart's init container does. The e2e's ci/14 takes MySQL 9.7 through it in kind.
for (const f of flavors.slice(0, 2)) describe(`${f.name}: backup into an S3 bucket and restore from it`, () => {
  const source = new LocalPods(f.flavor, f.image);
  const restored = new LocalPods(f.flavor, f.image);
  const pitr = new LocalPods(f.flavor, f.image);
  const store = new LocalObjectStore();
  const dest = `:s3:db-backups/local/${f.flavor}`;
  const inBucket = (...p: string[]) => join(store.data, LocalObjectStore.BUCKET, "local", f.flavor, ...p);
  let name = "";
  let sourceSums = "";

  beforeAll(async () => {
    if (!(await dockerAvailable())) throw new Error("Docker is not running: run bash infra/docker/ensure-docker.sh");
    for (const p of [source, restored, pitr]) await p.createNetwork();
    await store.start([source.network, restored.network, pitr.network]);
    // backup.binlogs: the primary's sidecar archives its binary logs into the same bucket.
    await startSource(source, { env: { BINLOG_ARCHIVE_DEST: dest, BINLOG_ARCHIVE_SECONDS: "10", ...store.env() }, mounts: store.mounts() });
  });

  afterAll(async () => {
    await store.destroy();
    for (const p of [source, restored, pitr]) await p.destroy();
  });

  it("the backup Job streams the replica's copy into the bucket: archive and manifest under PREFIX/NAME, the manifest's sha256 that of the object", async () => {
    const job = await source.runJob("backup", "/opt/mysql-chart/scripts/backup.sh", { env: { BACKUP_DEST: dest, REPLICAS: "2", CHART_VERSION: "test", ...store.env() }, mounts: store.mounts() });
    expect(job.exitCode, job.logs).toBe(0);
    const names = readdirSync(inBucket()).filter((n) => /^\d{8}T\d{6}Z$/.test(n));
    expect(names, "one backup in the bucket (beside binlogs/)").toHaveLength(1);
    name = names[0];
    expect(name).toMatch(/^\d{8}T\d{6}Z$/);
    const m = JSON.parse(readFileSync(inBucket(name, "manifest.json"), "utf8"));
    const archive = readFileSync(inBucket(name, m.archive));
    expect(m.size).toBe(archive.length);
    expect(m.sha256).toBe(createHash("sha256").update(archive).digest("hex"));
    expect(m.source).toBe("db-1.db.local");
    expect(job.logs).toMatch(new RegExp(`^${name}  ${m.size} bytes  from db-1.db.local  at `, "m"));
    sourceSums = await source.sql(0, "CHECKSUM TABLE appdb.t");
  });

  it("the primary archives its closed binary logs into the bucket with their sha256, the table's creation among them (the turn after a write closes its binary log)", async () => {
    const deadline = Date.now() + 90_000;
    let archived: string[] = [];
    let complete: string[] = [];
    let history = "";
    for (;;) {
      const ids = existsSync(inBucket("binlogs")) ? readdirSync(inBucket("binlogs")) : [];
      if (ids.length === 1) {
        history = ids[0];
        archived = readdirSync(inBucket("binlogs", history)).filter((f) => !f.startsWith(".")).sort();
        // A binary log is archived once its sha256 is beside it (uploaded second): one being uploaded is not yet.
        complete = archived.filter((f) => !f.endsWith(".sha256") && archived.includes(`${f}.sha256`));
        if (complete.some((f) => readFileSync(inBucket("binlogs", history, f)).includes("CREATE TABLE appdb.t"))) break;
      }
      if (Date.now() > deadline) throw new Error(`no archived binary log holds the table's creation within 90 s: ${ids.join(", ")} / ${archived.join(", ")}\n${await source.logs(0)}`);
      await new Promise((done) => setTimeout(done, 2000));
    }
    expect(history).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    for (const f of complete) {
      const sum = readFileSync(inBucket("binlogs", history, `${f}.sha256`), "utf8");
      expect(sum).toBe(`${createHash("sha256").update(readFileSync(inBucket("binlogs", history, f))).digest("hex")}  ${f}\n`);
    }
    // The open binary log is never uploaded: every archived one is closed on the server.
    const open = (await source.sql(0, "SHOW BINARY LOGS")).trim().split("\n").at(-1)!.split("\t")[0];
    expect(archived).not.toContain(open);
    expect(await source.logs(0)).toMatch(new RegExp(`archived binary log \\S+ \\(\\d+ bytes, sha256 [0-9a-f]{64}\\) into :s3:db-backups/local/${f.flavor}/binlogs/`));
  });

  it("refused credentials fail the backup Job at once, naming the destination", async () => {
    const job = await source.runJob("backup-bad-key", "/opt/mysql-chart/scripts/backup.sh", { env: { BACKUP_DEST: dest, REPLICAS: "2", ...store.env({ secret: "not-the-key" }) }, mounts: store.mounts() });
    expect(job.exitCode).not.toBe(0);
    expect(job.logs).toMatch(new RegExp(`cannot reach the backup destination :s3:db-backups/local/${f.flavor}: .*SignatureDoesNotMatch`, "s"));
    // The outcome is an Event on the Job's pod, each time: complete (the backup above), then failed with the reason.
    const reasons = [...fakeApiCalls(source.api).matchAll(/"reason":"(Backup\w+)","message":"([^"]*)"/g)].map((m) => `${m[1]}: ${m[2]}`);
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toMatch(new RegExp(`^BackupComplete: backup ${name} of db is complete in :s3:db-backups/local/${f.flavor}$`));
    expect(reasons[1]).toMatch(new RegExp(`^BackupFailed: backup of db into :s3:db-backups/local/${f.flavor} failed: cannot reach the backup destination .*SignatureDoesNotMatch`));
  });

  it("a new release restored from the bucket's latest backup holds its rows and seeds a replica; a copy whose object was altered is refused by its checksum", async () => {
    expect(name, "the backup above").not.toBe("");
    // An older copy of the backup whose archive lost a byte's worth of truth: the checksum refuses it.
    const altered = "20000101T000000Z";
    cpSync(inBucket(name), inBucket(altered), { recursive: true });
    const bytes = readFileSync(inBucket(altered, "data.tar.gz"));
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(inBucket(altered, "data.tar.gz"), bytes);
    chownSync(inBucket(altered), 65534, 65534);
    await restored.start(0, { env: { RESTORE_DEST: dest, RESTORE_BACKUP: altered, ...store.env() }, mounts: store.mounts() });
    await expect(restored.waitReady(0, 60_000)).rejects.toThrow(/the container exited/);
    expect(await restored.logs(0)).toMatch(/sha256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}: corrupt/);
    expect(existsSync(join(restored.dir, "data-0", "data")), "no data directory").toBe(false);

    await restored.start(0, { env: { RESTORE_DEST: dest, RESTORE_BACKUP: "latest", ...store.env() }, mounts: store.mounts() });
    await restored.waitReady(0);
    expect(await restored.logs(0)).toMatch(new RegExp(`restored from backup ${name}`));
    expect(await restored.sql(0, "CHECKSUM TABLE appdb.t")).toBe(sourceSums);
    await restored.sql(0, "INSERT INTO appdb.t VALUES (0, 'after the restore')");
    await restored.start(1);
    await restored.waitReady(1);
    await restored.waitFor(1, "SELECT COUNT(*) FROM appdb.t", String(ROWS + 1));
  });
  it("restore.pointInTime: a release restored at T holds exactly the rows written before T (the backup, then the archived binary logs replayed), none after", async () => {
    expect(name, "the backup above").not.toBe("");
    const sql = (q: string) => source.sql(0, q);
    for (let i = 1; i <= 10; i++) await sql(`INSERT INTO appdb.t VALUES (${2000 + i}, 'before T')`);
    // T: the next whole second after those writes; the later writes start over a second after it
    // (binary log events are timestamped to the second).
    const tMs = Math.ceil((Date.now() + 1) / 1000) * 1000;
    const T = new Date(tMs).toISOString().replace(/\.\d{3}Z$/, "Z");
    await new Promise((done) => setTimeout(done, tMs + 1200 - Date.now()));
    for (let i = 1; i <= 10; i++) await sql(`INSERT INTO appdb.t VALUES (${3000 + i}, 'after T')`);
    const wroteAfter = Date.now();
    // Archived once a binary log closed after those writes is in the bucket (the next turn, 10 s at most, closes it).
    const deadline = Date.now() + 90_000;
    for (;;) {
      const dir = readdirSync(inBucket("binlogs")).map((id) => inBucket("binlogs", id));
      const newest = Math.max(...dir.flatMap((d) => readdirSync(d).filter((x) => x.endsWith(".sha256")).map((x) => statSync(join(d, x)).mtimeMs)));
      if (newest > wroteAfter + 500) break;
      if (Date.now() > deadline) throw new Error(`no binary log archived after the writes within 90 s\n${await source.logs(0)}`);
      await new Promise((done) => setTimeout(done, 2000));
    }
    await pitr.start(0, { env: { RESTORE_DEST: dest, RESTORE_BACKUP: "latest", RESTORE_POINT_IN_TIME: T, ...store.env() }, mounts: store.mounts() });
    await pitr.waitReady(0);
    const log = await pitr.logs(0);
    expect(log).toMatch(new RegExp(`restored from backup ${name} and its binary logs up to ${T}`));
    expect(log).toMatch(/replaying \d+ archived binary log\(s\) after GTID/);
    expect(await pitr.sql(0, "SELECT GROUP_CONCAT(id ORDER BY id) FROM appdb.t WHERE id > 1000")).toBe(Array.from({ length: 10 }, (_, i) => 2001 + i).join(","));
    expect(await pitr.sql(0, "SELECT COUNT(*) FROM appdb.t")).toBe(String(ROWS + 10));
    // This release's own accounts, after the replay; it takes writes and seeds a replica.
    await pitr.sql(0, "INSERT INTO appdb.t VALUES (0, 'after the restore')");
    await pitr.start(1);
    await pitr.waitReady(1);
    await pitr.waitFor(1, "SELECT COUNT(*) FROM appdb.t", String(ROWS + 11));
  });

  it("retention (keep.count 1): a new backup removes the older ones from the bucket, and the archived binary logs uploaded before it began", async () => {
    expect(name, "the backup above").not.toBe("");
    const logs = () => (existsSync(inBucket("binlogs")) ? readdirSync(inBucket("binlogs")) : []).flatMap((id) => readdirSync(inBucket("binlogs", id)).filter((x) => !x.startsWith(".")).map((x) => inBucket("binlogs", id, x)));
    const archivedBefore = logs().filter((f) => !f.endsWith(".sha256")).map((f) => ({ f, at: statSync(f).mtimeMs }));
    // No clock slack: the Job and the archiver share this machine's clock.
    const job = await source.runJob("backup-keep-1", "/opt/mysql-chart/scripts/backup.sh", { env: { BACKUP_DEST: dest, REPLICAS: "2", CHART_VERSION: "test", BACKUP_KEEP_COUNT: "1", BINLOG_CLOCK_SLACK_SECONDS: "0", ...store.env() }, mounts: store.mounts() });
    expect(job.exitCode, job.logs).toBe(0);
    const names = readdirSync(inBucket()).filter((n) => /^\d{8}T\d{6}Z$/.test(n));
    expect(names, "only the new backup is kept").toHaveLength(1);
    expect(names[0]).not.toBe(name);
    const started = Date.parse(JSON.parse(readFileSync(inBucket(names[0], "manifest.json"), "utf8")).startedAt);
    // Those archived before it began (to the second): here all of them, nothing was written since.
    const old = archivedBefore.filter(({ at }) => at < started);
    expect(old.length, "binary logs were archived before the new backup").toBeGreaterThan(0);
    expect(job.logs).toContain(`removing ${old.length} archived binary log(s) uploaded before the oldest kept backup ${names[0]} began`);
    const left = logs();
    for (const { f } of old) expect(left, `${f} is removed`).not.toContain(f);
    for (const file of left) expect(statSync(file).mtimeMs, `${file} was uploaded after the kept backup began`).toBeGreaterThanOrEqual(started - 1000);
  });
});
