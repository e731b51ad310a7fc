// The StatefulSet: topology, per-flavor commands, probes, security, scheduling, storage.
import { describe, expect, it } from "vitest";
import { container, envOf, findDoc, type K8sObject, refused, render } from "../helpers/render.js";

const only = ["templates/statefulset.yaml"];
const sts = async (set: Record<string, string | number | boolean> = {}, valuesFiles: string[] = []) =>
  findDoc(await render({ set, valuesFiles, showOnly: only }), "StatefulSet");

describe("StatefulSet", () => {
  it("runs 3 pods by default and takes replicas from values", async () => {
    expect((await sts()).spec.replicas).toBe(3);
    expect((await sts({ replicas: 7 })).spec.replicas).toBe(7);
    expect((await sts({ replicas: 1 })).spec.replicas).toBe(1);
  });

  it("is governed by the headless Service, so pods are <fullname>-N.<fullname>", async () => {
    const s = await sts();
    expect(s.metadata.name).toBe("mysql");
    expect(s.spec.serviceName).toBe("mysql");
    const env = container(s.spec.template.spec, "prepare-data");
    expect(envOf(env, "PRIMARY_HOST")).toBe("mysql-0.mysql.default");
  });

  it("selects on name and instance only, and the pod template carries those labels", async () => {
    const s = await sts();
    expect(s.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "mysql", "app.kubernetes.io/instance": "mysql" });
    expect(s.spec.template.metadata.labels).toMatchObject(s.spec.selector.matchLabels);
    expect(s.metadata.labels).toMatchObject({ "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": expect.stringMatching(/^mysql-/) });
  });

  it("runs choose-config, then prepare-data, as init containers, then the server and the replication sidecar", async () => {
    const spec = (await sts()).spec.template.spec;
    expect(spec.initContainers.map((c: { name: string }) => c.name)).toEqual(["choose-config", "prepare-data"]);
    expect(spec.containers.map((c: { name: string }) => c.name)).toEqual(["mysql", "replication"]);
    expect(container(spec, "choose-config").command).toEqual(["/opt/mysql-chart/scripts/choose-config.sh"]);
    expect(container(spec, "prepare-data").command).toEqual(["/opt/mysql-chart/scripts/prepare-data.sh"]);
    expect(container(spec, "mysql").command).toEqual(["/opt/mysql-chart/scripts/run-server.sh"]);
    expect(container(spec, "replication").command).toEqual(["/opt/mysql-chart/scripts/replication-sidecar.sh"]);
  });

  it("gives choose-config the server-id offset", async () => {
    const spec = (await sts({ serverIdOffset: 1000 })).spec.template.spec;
    expect(envOf(container(spec, "choose-config"), "SERVER_ID_OFFSET")).toBe("1000");
  });

  it("names the MariaDB server container mariadb and opens the backup port on the sidecar", async () => {
    const spec = (await sts({ flavor: "mariadb" })).spec.template.spec;
    expect(spec.containers.map((c: { name: string }) => c.name)).toEqual(["mariadb", "replication"]);
    expect(container(spec, "replication").ports).toEqual([{ name: "backup", containerPort: 3307 }]);
    expect(envOf(container(spec, "prepare-data"), "BACKUP_PORT")).toBe("3307");
  });

  it("opens no backup port for MySQL (the clone plugin uses the database port)", async () => {
    const spec = (await sts()).spec.template.spec;
    expect(container(spec, "replication").ports).toBeUndefined();
    expect(envOf(container(spec, "prepare-data"), "BACKUP_PORT")).toBeUndefined();
  });

  it("runs every container from the chosen flavor's image", async () => {
    const images = (s: K8sObject) =>
      new Set<string>([...s.spec.template.spec.initContainers, ...s.spec.template.spec.containers].map((c: { image: string }) => c.image));
    expect(images(await sts())).toEqual(new Set(["docker.io/library/mysql:9.7"]));
    expect(images(await sts({ flavor: "mariadb" }))).toEqual(new Set(["docker.io/library/mariadb:11.8"]));
    // An empty registry is global.imageRegistry, else docker.io; a repository that names its own host is used as written.
    expect(images(await sts({ "images.mysql.registry": "", "images.mysql.repository": "local/mysql", "images.mysql.tag": "x" }))).toEqual(
      new Set(["docker.io/local/mysql:x"]),
    );
    expect(images(await sts({ "global.imageRegistry": "mirror.local:5000", "images.mysql.tag": "x" }))).toEqual(new Set(["mirror.local:5000/library/mysql:x"]));
    expect(images(await sts({ "global.imageRegistry": "mirror.local", "images.mysql.repository": "localhost:5000/db/mysql", "images.mysql.tag": "x" }))).toEqual(
      new Set(["localhost:5000/db/mysql:x"]),
    );
    expect(images(await sts({ "global.imageRegistry": "mirror.local", "images.mysql.registry": "quay.io", "images.mysql.tag": "x" }))).toEqual(
      new Set(["quay.io/library/mysql:x"]),
    );
    const digest = "sha256:" + "a".repeat(64);
    expect(images(await sts({ "images.mysql.digest": digest }))).toEqual(new Set([`docker.io/library/mysql@${digest}`]));
  });

  it("has startup, liveness and readiness probes that run probe.sh, with timings from values", async () => {
    const c = container((await sts({ "probes.startup.failureThreshold": 720 })).spec.template.spec, "mysql");
    expect(c.startupProbe.exec.command).toEqual(["/opt/mysql-chart/scripts/probe.sh", "startup"]);
    expect(c.livenessProbe.exec.command).toEqual(["/opt/mysql-chart/scripts/probe.sh", "liveness"]);
    expect(c.readinessProbe.exec.command).toEqual(["/opt/mysql-chart/scripts/probe.sh", "readiness"]);
    expect(c.startupProbe.failureThreshold).toBe(720);
  });

  it("by default allows an hour for a server to start, and sees a started server within 2 s", async () => {
    const c = container((await sts({})).spec.template.spec, "mysql");
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(3600);
    expect(c.startupProbe.periodSeconds).toBeLessThanOrEqual(2);
  });

  it("passes the replica lag bound to the probes", async () => {
    const c = container((await sts({ "replication.maxLagSeconds": 15 })).spec.template.spec, "mysql");
    expect(envOf(c, "MAX_LAG_SECONDS")).toBe("15");
  });

  it("runs as non-root with a read-only root filesystem and no capabilities", async () => {
    const spec = (await sts()).spec.template.spec;
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, fsGroup: 999 });
    for (const c of [...spec.initContainers, ...spec.containers]) {
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    }
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it("mounts the data volume where the data lives, and the Secret read-only", async () => {
    const spec = (await sts()).spec.template.spec;
    for (const name of ["prepare-data", "mysql", "replication"]) {
      const mounts = container(spec, name).volumeMounts;
      expect(mounts).toContainEqual({ name: "data", mountPath: "/var/lib/mysql" });
      expect(mounts).toContainEqual({ name: "secrets", mountPath: "/etc/mysql-chart/secrets", readOnly: true });
    }
    expect(container(spec, "choose-config").volumeMounts.map((m: { name: string }) => m.name)).not.toContain("data");
  });

  it("rolls the pods when my.cnf or the scripts change (checksum annotations)", async () => {
    const a = (await sts()).spec.template.metadata.annotations;
    const b = (await sts({ "config.replica": "max_connections=500" })).spec.template.metadata.annotations;
    expect(a["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
    expect(b["checksum/config"]).not.toBe(a["checksum/config"]);
    expect(b["checksum/scripts"]).toBe(a["checksum/scripts"]);
  });

  it("updates with RollingUpdate, which goes from the highest ordinal down: replicas first, the primary last", async () => {
    expect((await sts()).spec.updateStrategy).toEqual({ type: "RollingUpdate" });
  });

  it("starts the pods side by side on a new release (podManagementPolicy Parallel), or as values say", async () => {
    expect((await sts()).spec.podManagementPolicy).toBe("Parallel");
    expect((await sts({ podManagementPolicy: "OrderedReady" })).spec.podManagementPolicy).toBe("OrderedReady");
    expect((await sts({ podManagementPolicy: "Parallel" })).spec.podManagementPolicy).toBe("Parallel");
  });

  it("spreads pods over nodes softly by default, hard on request, and not at all with none", async () => {
    const soft = (await sts()).spec.template.spec.affinity.podAntiAffinity;
    expect(soft.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe("kubernetes.io/hostname");
    const hard = (await sts({ podAntiAffinity: "hard" })).spec.template.spec.affinity.podAntiAffinity;
    expect(hard.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe("kubernetes.io/hostname");
    expect((await sts({ podAntiAffinity: "none" })).spec.template.spec.affinity).toBeUndefined();
  });

  it("uses the user's affinity, nodeSelector, tolerations and topology spread when given", async () => {
    const spec = (
      await sts({
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key": "disk",
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator": "Exists",
        "nodeSelector.disktype": "ssd",
        "tolerations[0].key": "db",
        "tolerations[0].operator": "Exists",
        "topologySpreadConstraints[0].maxSkew": 1,
        "topologySpreadConstraints[0].topologyKey": "zone",
        "topologySpreadConstraints[0].whenUnsatisfiable": "ScheduleAnyway",
      })
    ).spec.template.spec;
    expect(spec.affinity.nodeAffinity).toBeDefined();
    expect(spec.affinity.podAntiAffinity).toBeUndefined();
    expect(spec.nodeSelector).toEqual({ disktype: "ssd" });
    expect(spec.tolerations).toEqual([{ key: "db", operator: "Exists" }]);
    expect(spec.topologySpreadConstraints[0].topologyKey).toBe("zone");
  });

  it("claims a volume per pod with size, class and access modes from values", async () => {
    const claim = (await sts()).spec.volumeClaimTemplates[0];
    expect(claim.metadata.name).toBe("data");
    expect(claim.spec.resources.requests.storage).toBe("8Gi");
    expect(claim.spec.accessModes).toEqual(["ReadWriteOnce"]);
    expect(claim.spec.storageClassName).toBeUndefined();
    const custom = (await sts({ "persistence.size": "50Gi", "persistence.storageClass": "fast", "persistence.accessModes[0]": "ReadWriteOncePod" }))
      .spec.volumeClaimTemplates[0];
    expect(custom.spec).toMatchObject({ storageClassName: "fast", accessModes: ["ReadWriteOncePod"], resources: { requests: { storage: "50Gi" } } });
    expect((await sts({ "persistence.storageClass": "-" })).spec.volumeClaimTemplates[0].spec.storageClassName).toBe("");
  });

  it("sets resources per container from values", async () => {
    const spec = (await sts({ "resources.server.limits.memory": "4Gi" })).spec.template.spec;
    expect(container(spec, "mysql").resources.limits.memory).toBe("4Gi");
    expect(container(spec, "replication").resources.requests.cpu).toBe("10m");
    expect(container(spec, "prepare-data").resources.limits.memory).toBe("1Gi");
  });

  it("adds common, pod labels and annotations", async () => {
    const s = await sts({ "commonLabels.team": "db", "podLabels.tier": "data", "podAnnotations.note": "x", "commonAnnotations.owner": "ops" });
    expect(s.metadata.labels.team).toBe("db");
    expect(s.spec.template.metadata.labels).toMatchObject({ team: "db", tier: "data" });
    expect(s.spec.template.metadata.annotations).toMatchObject({ note: "x", owner: "ops" });
    expect(s.metadata.annotations).toEqual({ owner: "ops" });
  });

  it("mounts the scripts executable and the Secret by name, existingSecret included", async () => {
    const vols = (await sts({ "auth.existingSecret": "mine" })).spec.template.spec.volumes;
    expect(vols).toContainEqual({ name: "scripts", configMap: { name: "mysql-scripts", defaultMode: 0o555 } });
    expect(vols).toContainEqual({ name: "secrets", secret: { secretName: "mine", defaultMode: 0o440 } });
  });

  it("mounts initSqlSecret's key into prepare-data only, where the primary is initialised", async () => {
    const spec = (await sts({ "initSqlSecret.name": "app-init", "initSqlSecret.key": "grants.sql" })).spec.template.spec;
    expect(spec.volumes.find((v: { name: string }) => v.name === "init-sql")).toEqual({
      name: "init-sql",
      secret: { secretName: "app-init", defaultMode: 0o400, items: [{ key: "grants.sql", path: "init.sql" }] },
    });
    const mounting = [...spec.initContainers, ...spec.containers].filter((c: { volumeMounts: { name: string }[] }) => c.volumeMounts.some((m) => m.name === "init-sql"));
    expect(mounting.map((c: { name: string }) => c.name)).toEqual(["prepare-data"]);
    expect(container(spec, "prepare-data").volumeMounts).toContainEqual({ name: "init-sql", mountPath: "/etc/mysql-chart/init-sql", readOnly: true });
    const none = (await sts()).spec.template.spec;
    expect(none.volumes.map((v: { name: string }) => v.name)).not.toContain("init-sql");
  });

  it("refuses initSql and initSqlSecret together", async () => {
    expect(await refused("initSql=CREATE DATABASE a;", "initSqlSecret.name=app-init")).toMatch(/initSql and initSqlSecret\.name are both set/);
  });

  it("honours fullnameOverride and nameOverride", async () => {
    expect((await sts({ fullnameOverride: "db" })).metadata.name).toBe("db");
    const s = await sts({ nameOverride: "db" });
    expect(s.metadata.name).toBe("mysql-db");
    expect(envOf(container(s.spec.template.spec, "prepare-data"), "PRIMARY_HOST")).toBe("mysql-db-0.mysql-db.default");
  });
});
