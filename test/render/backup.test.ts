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
    const from = findDoc(docs, "NetworkPolicy").spec.ingress[0].from;
    expect(from.some((f: { podSelector: { matchLabels: Record<string, string> } }) => selects(f.podSelector.matchLabels, labels))).toBe(true);
  });

  it("the NetworkPolicy admits no backup pod when backups are off", async () => {
    const from = findDoc(await render(), "NetworkPolicy").spec.ingress[0].from;
    expect(from).toHaveLength(1);
  });

  it("refuses backups without a claim, and a schedule that is not cron syntax, naming the field", async () => {
    expect(await refused("backup.enabled=true")).toMatch(/backup.enabled is true but backup.persistentVolumeClaim.claimName is empty/);
    expect(await refused("backup.enabled=true", "backup.persistentVolumeClaim.claimName=b", "backup.schedule=every night")).toMatch(/backup.schedule/);
    expect(await refused("backup.keep.count=-1")).toMatch(/backup.keep.count/);
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

  it("adds nothing by default", async () => {
    const spec = findDoc(await render(), "StatefulSet").spec.template.spec;
    expect(spec.volumes.map((v: { name: string }) => v.name)).not.toContain("restore");
    expect(envOf(container(spec, "prepare-data"), "RESTORE_DEST")).toBeUndefined();
  });

  it("refuses a backup name that is neither latest nor a backup's, bootstrap.cloneFrom alongside, and init SQL that would never run", async () => {
    const from = "restore.from.persistentVolumeClaim.claimName=db-backups";
    expect(await refused(from, "restore.from.backup=yesterday")).toMatch(/restore.from.backup/);
    expect(await refused(from, "bootstrap.cloneFrom.host=old-db", "bootstrap.cloneFrom.user=u", "bootstrap.cloneFrom.passwordSecret.name=s")).toMatch(/restore.from and bootstrap.cloneFrom.host are both set/);
    expect(await refused(from, "initSql=SELECT 1")).toMatch(/initSql\/initSqlSecret are set with restore.from/);
  });
});
