// backup and restore.from as rendered: a CronJob whose pods copy a replica into the user's claim,
// are admitted to the clone and backup ports, and are never behind the release's Services; and a
// release restored from such a claim, which only pod 0's prepare-data reads.
import { describe, expect, it } from "vitest";
import { container, envOf, findDoc, type K8sObject, notes, refused, render } from "../helpers/render.js";

const BACKUP = { "backup.enabled": true, "backup.persistentVolumeClaim.claimName": "db-backups" };
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("backup", () => {
  it("renders nothing of it by default", async () => {
    const docs = await render();
    expect(docs.filter((d) => d.kind === "CronJob")).toEqual([]);
  });

  it("a CronJob on the schedule, one Job at a time, whose pod runs backup.sh into the claim with the replica count and the retention", async () => {
    const docs = await render({ set: { ...BACKUP, "backup.schedule": "30 2 * * *", "backup.keep.count": 3, "backup.keep.days": 14, replicas: 4 } });
    const cron = findDoc(docs, "CronJob", "mysql-backup");
    expect(cron.spec.schedule).toBe("30 2 * * *");
    expect(cron.spec.concurrencyPolicy).toBe("Forbid");
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const c = container(pod, "backup");
    expect(c.command).toEqual(["/opt/mysql-chart/scripts/backup.sh"]);
    expect(envOf(c, "REPLICAS")).toBe("4");
    expect(envOf(c, "BACKUP_DEST")).toBe("/backups");
    expect([envOf(c, "BACKUP_KEEP_COUNT"), envOf(c, "BACKUP_KEEP_DAYS")]).toEqual(["3", "14"]);
    expect(pod.volumes).toContainEqual({ name: "backups", persistentVolumeClaim: { claimName: "db-backups" } });
    expect(c.volumeMounts).toContainEqual({ name: "backups", mountPath: "/backups" });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it("its pods are behind no Service of the release and outside the StatefulSet's selector, yet the NetworkPolicy admits them", async () => {
    const docs = await render({ set: BACKUP });
    const labels = findDoc(docs, "CronJob").spec.jobTemplate.spec.template.metadata.labels;
    for (const svc of docs.filter((d: K8sObject) => d.kind === "Service")) {
      expect(selects(svc.spec.selector, labels), `Service ${svc.metadata.name} selects the backup pod`).toBe(false);
    }
    expect(selects(findDoc(docs, "StatefulSet").spec.selector.matchLabels, labels)).toBe(false);
    // Nor does the policy itself select them: with egress.enabled the Job still reaches an S3 endpoint.
    expect(selects(findDoc(docs, "NetworkPolicy").spec.podSelector.matchLabels, labels)).toBe(false);
    const from = findDoc(docs, "NetworkPolicy").spec.ingress[0].from;
    expect(from.some((f: { podSelector: { matchLabels: Record<string, string> } }) => selects(f.podSelector.matchLabels, labels))).toBe(true);
  });

  it("the NetworkPolicy admits no backup pod when backups are off", async () => {
    const from = findDoc(await render(), "NetworkPolicy").spec.ingress[0].from;
    expect(from).toHaveLength(1);
  });

  it("refuses backups without a claim, and a schedule that is not cron syntax, naming the field", async () => {
    expect(await refused("backup.enabled=true")).toMatch(/backup.enabled is true but no destination is set: name the existing claim \(backup.persistentVolumeClaim.claimName\) or bucket \(backup.s3.bucket\)/);
    expect(await refused("backup.enabled=true", "backup.persistentVolumeClaim.claimName=b", "backup.schedule=every night")).toMatch(/backup.schedule/);
    expect(await refused("backup.keep.count=-1")).toMatch(/backup.keep.count/);
  });
});

const S3 = { "backup.s3.bucket": "db-backups", "backup.s3.prefix": "mysql/prod", "backup.s3.endpoint": "https://s3.example.org:9000", "backup.s3.existingSecret": "s3-keys" };

describe("backup.s3", () => {
  it("an init container copies the S3 client from images.rclone, and backup.sh writes to :s3:BUCKET/PREFIX with rclone configured from the user's Secret, no claim mounted", async () => {
    const pod = findDoc(await render({ set: { "backup.enabled": true, ...S3 } }), "CronJob").spec.jobTemplate.spec.template.spec;
    const init = container({ containers: pod.initContainers }, "s3-client");
    expect(init.image).toBe("docker.io/rclone/rclone:1.69.1");
    expect(init.command).toEqual(["cp", "/usr/local/bin/rclone", "/opt/mysql-chart/tools/rclone"]);
    expect(init.securityContext.readOnlyRootFilesystem).toBe(true);
    const c = container(pod, "backup");
    expect(envOf(c, "BACKUP_DEST")).toBe(":s3:db-backups/mysql/prod");
    expect(envOf(c, "RCLONE")).toBe("/opt/mysql-chart/tools/rclone");
    expect([envOf(c, "RCLONE_S3_PROVIDER"), envOf(c, "RCLONE_S3_ENDPOINT"), envOf(c, "RCLONE_S3_REGION"), envOf(c, "RCLONE_S3_FORCE_PATH_STYLE")]).toEqual(["Other", "https://s3.example.org:9000", "us-east-1", "true"]);
    expect(envOf(c, "RCLONE_S3_NO_CHECK_BUCKET")).toBe("true");
    const secretRef = (name: string) => c.env.find((e: { name: string }) => e.name === name)?.valueFrom?.secretKeyRef;
    expect(secretRef("RCLONE_S3_ACCESS_KEY_ID")).toEqual({ name: "s3-keys", key: "access-key-id" });
    expect(secretRef("RCLONE_S3_SECRET_ACCESS_KEY")).toEqual({ name: "s3-keys", key: "secret-access-key" });
    expect(envOf(c, "RCLONE_CA_CERT")).toBeUndefined();
    expect(c.volumeMounts).toContainEqual({ name: "s3-client", mountPath: "/opt/mysql-chart/tools", readOnly: true });
    expect(pod.volumes.map((v: { name: string }) => v.name)).not.toContain("backups");
  });

  it("Amazon S3 when no endpoint is given; a private CA is mounted from caSecret and handed to rclone; the bucket's top level when no prefix", async () => {
    const set = { "backup.enabled": true, "backup.s3.bucket": "db-backups", "backup.s3.existingSecret": "s3-keys", "backup.s3.region": "eu-west-3", "backup.s3.caSecret": "s3-ca", "backup.s3.caKey": "root.pem" };
    const pod = findDoc(await render({ set }), "CronJob").spec.jobTemplate.spec.template.spec;
    const c = container(pod, "backup");
    expect([envOf(c, "BACKUP_DEST"), envOf(c, "RCLONE_S3_PROVIDER"), envOf(c, "RCLONE_S3_ENDPOINT"), envOf(c, "RCLONE_S3_REGION")]).toEqual([":s3:db-backups", "AWS", undefined, "eu-west-3"]);
    expect(envOf(c, "RCLONE_CA_CERT")).toBe("/etc/mysql-chart/s3-ca/root.pem");
    expect(pod.volumes).toContainEqual({ name: "s3-ca", secret: { secretName: "s3-ca" } });
    expect(c.volumeMounts).toContainEqual({ name: "s3-ca", mountPath: "/etc/mysql-chart/s3-ca", readOnly: true });
  });

  it("refuses two destinations, a bucket without the keys' Secret, and a bucket, prefix or endpoint S3 would not take, naming the field", async () => {
    expect(await refused("backup.enabled=true", "backup.persistentVolumeClaim.claimName=b", "backup.s3.bucket=bkt", "backup.s3.existingSecret=k")).toMatch(/backup.persistentVolumeClaim.claimName and backup.s3.bucket are both set/);
    expect(await refused("backup.enabled=true", "backup.s3.bucket=bkt")).toMatch(/backup.s3.bucket is set but backup.s3.existingSecret is empty/);
    expect(await refused("backup.s3.bucket=My_Bucket")).toMatch(/backup.s3.bucket/);
    expect(await refused("backup.s3.prefix=/mysql/")).toMatch(/backup.s3.prefix/);
    expect(await refused("backup.s3.endpoint=s3.example.org")).toMatch(/backup.s3.endpoint/);
    expect(await refused("restore.from.s3.bucket=bkt")).toMatch(/restore.from.s3.bucket is set but restore.from.s3.existingSecret is empty/);
    expect(await refused("restore.from.s3.bucket=bkt", "restore.from.s3.existingSecret=k", "restore.from.persistentVolumeClaim.claimName=c")).toMatch(/restore.from.persistentVolumeClaim.claimName and restore.from.s3.bucket are both set/);
  });
});

describe("backup.binlogs", () => {
  const BINLOGS = { "backup.enabled": true, ...S3, "backup.s3.caSecret": "s3-ca", "backup.binlogs.enabled": true, "backup.binlogs.intervalSeconds": 30 };

  it("the sidecar gets the bucket, the interval and rclone's settings; every pod copies the S3 client in, the backup's CA mounted into the sidecar alone", async () => {
    const spec = findDoc(await render({ set: BINLOGS }), "StatefulSet").spec.template.spec;
    expect(spec.initContainers.map((c: { name: string }) => c.name)).toEqual(["choose-config", "s3-client", "prepare-data"]);
    const sidecar = container(spec, "replication");
    expect([envOf(sidecar, "BINLOG_ARCHIVE_DEST"), envOf(sidecar, "BINLOG_ARCHIVE_SECONDS"), envOf(sidecar, "RCLONE_S3_ENDPOINT"), envOf(sidecar, "RCLONE_CA_CERT")])
      .toEqual([":s3:db-backups/mysql/prod", "30", "https://s3.example.org:9000", "/etc/mysql-chart/s3-ca/ca.crt"]);
    expect(sidecar.volumeMounts).toContainEqual({ name: "backup-s3-ca", mountPath: "/etc/mysql-chart/s3-ca", readOnly: true });
    expect(spec.volumes).toContainEqual({ name: "backup-s3-ca", secret: { secretName: "s3-ca" } });
    for (const c of ["mysql", "prepare-data"]) expect(envOf(container(spec, c), "BINLOG_ARCHIVE_DEST")).toBeUndefined();
  });

  it("with restore.from.s3 as well: one s3-client init container and volume, each S3 location's CA in its own volume", async () => {
    const set = { ...BINLOGS, "restore.from.s3.bucket": "old-backups", "restore.from.s3.existingSecret": "old-keys", "restore.from.s3.caSecret": "old-ca" };
    const spec = findDoc(await render({ set }), "StatefulSet").spec.template.spec;
    expect(spec.initContainers.filter((c: { name: string }) => c.name === "s3-client")).toHaveLength(1);
    const volumes = spec.volumes.map((v: { name: string }) => v.name);
    expect(volumes.filter((n: string) => n === "s3-client")).toHaveLength(1);
    expect(spec.volumes).toContainEqual({ name: "restore-s3-ca", secret: { secretName: "old-ca" } });
    expect(container(spec, "prepare-data").volumeMounts).toContainEqual({ name: "restore-s3-ca", mountPath: "/etc/mysql-chart/s3-ca", readOnly: true });
  });

  it("adds nothing to the pods while off or while backup.enabled is off, and is refused with a claim destination, naming the fields", async () => {
    for (const set of [{ "backup.enabled": true, ...S3 }, { ...BINLOGS, "backup.enabled": false }]) {
      const spec = findDoc(await render({ set }), "StatefulSet").spec.template.spec;
      expect(spec.initContainers.map((c: { name: string }) => c.name)).toEqual(["choose-config", "prepare-data"]);
      expect(envOf(container(spec, "replication"), "BINLOG_ARCHIVE_DEST")).toBeUndefined();
    }
    expect(await refused("backup.enabled=true", "backup.persistentVolumeClaim.claimName=c", "backup.binlogs.enabled=true")).toMatch(/backup.binlogs.enabled is true but backup.s3.bucket is empty/);
    expect(await refused("backup.binlogs.intervalSeconds=5")).toMatch(/backup.binlogs.intervalSeconds/);
  });
});

describe("NOTES on backup and restore", () => {
  it("say how to take a backup now and list the backups when backups are on, and how to watch a restore", async () => {
    const on = await notes("--set", "backup.enabled=true", "--set", "backup.persistentVolumeClaim.claimName=db-backups");
    expect(on).toContain("kubectl create job --namespace default backup-now --from=cronjob/x-mysql-backup");
    expect(on).toContain("kubectl logs --namespace default job/backup-now");
    expect(on).not.toContain("RESTORE:");
    const restoring = await notes("--set", "restore.from.persistentVolumeClaim.claimName=db-backups");
    expect(restoring).toContain("starts from backup latest of claim db-backups");
    expect(restoring).not.toContain("BACKUPS");
  });
});

describe("restore.from", () => {
  it("mounts the claim read-only into prepare-data alone and tells it which backup to restore", async () => {
    const sts = findDoc(await render({ set: { "restore.from.persistentVolumeClaim.claimName": "db-backups", "restore.from.backup": "20260102T030405Z" } }), "StatefulSet");
    const spec = sts.spec.template.spec;
    expect(spec.volumes).toContainEqual({ name: "restore", persistentVolumeClaim: { claimName: "db-backups", readOnly: true } });
    const prepare = container(spec, "prepare-data");
    expect(prepare.volumeMounts).toContainEqual({ name: "restore", mountPath: "/var/lib/mysql-chart/restore", readOnly: true });
    expect([envOf(prepare, "RESTORE_DEST"), envOf(prepare, "RESTORE_BACKUP")]).toEqual(["/var/lib/mysql-chart/restore", "20260102T030405Z"]);
    for (const c of ["mysql", "replication"]) expect(container(spec, c).volumeMounts.map((m: { name: string }) => m.name)).not.toContain("restore");
  });

  it("from S3: every pod copies the S3 client in, and prepare-data alone gets the location, rclone's settings and the CA", async () => {
    const set = { "restore.from.s3.bucket": "db-backups", "restore.from.s3.prefix": "mysql/prod", "restore.from.s3.endpoint": "http://minio.storage:9000", "restore.from.s3.existingSecret": "s3-keys", "restore.from.s3.caSecret": "s3-ca" };
    const spec = findDoc(await render({ set }), "StatefulSet").spec.template.spec;
    expect(spec.initContainers.map((c: { name: string }) => c.name)).toEqual(["choose-config", "s3-client", "prepare-data"]);
    const prepare = container(spec, "prepare-data");
    expect([envOf(prepare, "RESTORE_DEST"), envOf(prepare, "RESTORE_BACKUP"), envOf(prepare, "RCLONE_S3_ENDPOINT")]).toEqual([":s3:db-backups/mysql/prod", "latest", "http://minio.storage:9000"]);
    expect(prepare.volumeMounts.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(["s3-client", "restore-s3-ca"]));
    expect(spec.volumes.map((v: { name: string }) => v.name)).not.toContain("restore");
    for (const c of ["mysql", "replication"]) expect(envOf(container(spec, c), "RCLONE_S3_ACCESS_KEY_ID")).toBeUndefined();
    const notesText = await notes(...Object.entries(set).flatMap(([k, v]) => ["--set", `${k}=${v}`]));
    expect(notesText).toContain("starts from backup latest of :s3:db-backups/mysql/prod");
  });

  it("restore.pointInTime reaches prepare-data with the S3 location, for both flavors; refused without S3, or not written as a UTC time", async () => {
    const s3 = ["restore.from.s3.bucket=db-backups", "restore.from.s3.existingSecret=s3-keys"];
    const set = { "restore.from.s3.bucket": "db-backups", "restore.from.s3.existingSecret": "s3-keys", "restore.pointInTime": "2026-12-03T17:45:00Z" };
    const prepare = container(findDoc(await render({ set }), "StatefulSet").spec.template.spec, "prepare-data");
    expect([envOf(prepare, "RESTORE_DEST"), envOf(prepare, "RESTORE_POINT_IN_TIME")]).toEqual([":s3:db-backups", "2026-12-03T17:45:00Z"]);
    expect(await refused("restore.from.persistentVolumeClaim.claimName=c", "restore.pointInTime=2026-12-03T17:45:00Z")).toMatch(/restore.pointInTime is set without restore.from.s3.bucket/);
    const mariadb = container(findDoc(await render({ set: { ...set, flavor: "mariadb" } }), "StatefulSet").spec.template.spec, "prepare-data");
    expect(envOf(mariadb, "RESTORE_POINT_IN_TIME")).toBe("2026-12-03T17:45:00Z");
    for (const bad of ["2026-12-03 17:45:00", "2026-12-03T17:45:00+01:00", "yesterday", "2026-13-03T17:45:00Z"]) {
      expect(await refused(...s3, `restore.pointInTime=${bad}`), bad).toMatch(/restore.pointInTime/);
    }
  });

  it("adds nothing by default", async () => {
    const spec = findDoc(await render(), "StatefulSet").spec.template.spec;
    expect(spec.volumes.map((v: { name: string }) => v.name)).not.toContain("restore");
    expect(spec.volumes.map((v: { name: string }) => v.name)).not.toContain("s3-client");
    expect(envOf(container(spec, "prepare-data"), "RESTORE_DEST")).toBeUndefined();
  });

  it("refuses a backup name that is neither latest nor a backup's, bootstrap.cloneFrom alongside, and init SQL that would never run", async () => {
    const from = "restore.from.persistentVolumeClaim.claimName=db-backups";
    expect(await refused(from, "restore.from.backup=yesterday")).toMatch(/restore.from.backup/);
    expect(await refused(from, "bootstrap.cloneFrom.host=old-db", "bootstrap.cloneFrom.user=u", "bootstrap.cloneFrom.passwordSecret.name=s")).toMatch(/restore.from and bootstrap.cloneFrom.host are both set/);
    expect(await refused(from, "initSql=SELECT 1")).toMatch(/initSql\/initSqlSecret are set with restore.from/);
  });
});
