// my.cnf per role and the in-pod scripts: only the chosen flavor's, and every file a script
// uses is in the ConfigMap.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartDir, findDoc, render } from "../helpers/render.js";

const configs = async (set: Record<string, string | number | boolean> = {}) =>
  render({ set, showOnly: ["templates/configmap-mycnf.yaml", "templates/configmap-scripts.yaml"] });

describe("my.cnf ConfigMap", () => {
  it("holds the common, primary and replica files and the user's extra lines per role", async () => {
    const cm = findDoc(await configs({ "config.primary": "max_connections=10", "config.replica": "max_connections=20" }), "ConfigMap", "mysql-config");
    expect(Object.keys(cm.data).sort()).toEqual(
      ["common.cnf", "extra-common.cnf", "extra-primary.cnf", "extra-replica.cnf", "init.sql", "primary.cnf", "replica.cnf"].sort(),
    );
    expect(cm.data["extra-primary.cnf"]).toBe("max_connections=10\n");
    expect(cm.data["extra-replica.cnf"]).toBe("max_connections=20\n");
  });

  it("makes MySQL replicas super_read_only and keeps the primary writable", async () => {
    const cm = findDoc(await configs(), "ConfigMap", "mysql-config");
    expect(cm.data["replica.cnf"]).toMatch(/^super_read_only=ON$/m);
    expect(cm.data["primary.cnf"]).toMatch(/^super_read_only=OFF$/m);
    expect(cm.data["common.cnf"]).toMatch(/^gtid_mode=ON$/m);
    expect(cm.data["common.cnf"]).toMatch(/^plugin-load-add=mysql_clone.so$/m);
    expect(cm.data["common.cnf"]).not.toMatch(/^(binlog_format|gtid_strict_mode|log_slave_updates)\s*=/m);
  });

  it("gives MariaDB row-based binlogs, strict GTIDs and read-only replicas, and no MySQL-only settings", async () => {
    const cm = findDoc(await configs({ flavor: "mariadb" }), "ConfigMap", "mysql-config");
    expect(cm.data["common.cnf"]).toMatch(/^binlog_format=ROW$/m);
    expect(cm.data["common.cnf"]).toMatch(/^gtid_strict_mode=ON$/m);
    expect(cm.data["common.cnf"]).toMatch(/^log_slave_updates=ON$/m);
    expect(cm.data["replica.cnf"]).toMatch(/^read_only=ON$/m);
    expect(cm.data["common.cnf"] + cm.data["replica.cnf"]).not.toMatch(/^(super_read_only|plugin-load-add|gtid_mode)\s*=/m);
  });

  it("carries the init SQL for the primary", async () => {
    const cm = findDoc(await configs({ initSql: "CREATE DATABASE x;" }), "ConfigMap", "mysql-config");
    expect(cm.data["init.sql"]).toBe("CREATE DATABASE x;\n");
  });
});

describe("scripts ConfigMap", () => {
  it("carries the MySQL flavor's commands only", async () => {
    const cm = findDoc(await configs(), "ConfigMap", "mysql-scripts");
    expect(cm.data["clone.sh"]).toMatch(/CLONE INSTANCE FROM/);
    expect(cm.data["flavor.sh"]).toMatch(/CHANGE REPLICATION SOURCE TO/);
    expect(cm.data["serve-backup.sh"]).toBeUndefined();
    expect(JSON.stringify(cm.data)).not.toMatch(/mariadb-backup|CHANGE MASTER/);
  });

  it("carries the MariaDB flavor's commands only", async () => {
    const cm = findDoc(await configs({ flavor: "mariadb" }), "ConfigMap", "mysql-scripts");
    expect(cm.data["clone.sh"]).toMatch(/mariadb-backup --prepare/);
    expect(cm.data["flavor.sh"]).toMatch(/MASTER_USE_GTID = slave_pos/);
    expect(cm.data["serve-backup.sh"]).toMatch(/--stream=mbstream/);
    expect(JSON.stringify(cm.data)).not.toMatch(/CLONE INSTANCE|CHANGE REPLICATION SOURCE/);
  });

  it("holds every script the pod's commands and probes run, byte for byte as in files/", async () => {
    for (const flavor of ["mysql", "mariadb"]) {
      const docs = await render({ set: { flavor }, showOnly: ["templates/configmap-scripts.yaml", "templates/statefulset.yaml"] });
      const cm = findDoc(docs, "ConfigMap", "mysql-scripts");
      const spec = findDoc(docs, "StatefulSet").spec.template.spec;
      const used = new Set<string>();
      for (const c of [...spec.initContainers, ...spec.containers]) {
        for (const cmd of [c.command, c.startupProbe?.exec.command, c.readinessProbe?.exec.command, c.livenessProbe?.exec.command]) {
          if (cmd) used.add(String(cmd[0]).replace("/opt/mysql-chart/scripts/", ""));
        }
      }
      for (const name of used) expect(Object.keys(cm.data), `${flavor}: ${name}`).toContain(name);
      // Scripts source lib.sh and flavor.sh from their own directory; serve-backup.sh is exec'd by socat.
      for (const text of Object.values(cm.data) as string[]) {
        for (const m of text.matchAll(/\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)\/([a-z-]+\.sh)/g)) expect(Object.keys(cm.data)).toContain(m[1]);
      }
      expect(cm.data["lib.sh"]).toBe(readFileSync(join(chartDir, "files/scripts/lib.sh"), "utf8"));
    }
  });

  it("keeps each file a script reads from the my.cnf ConfigMap present there", async () => {
    const docs = await configs();
    const cnf = findDoc(docs, "ConfigMap", "mysql-config");
    const scripts = findDoc(docs, "ConfigMap", "mysql-scripts");
    const text = Object.values(scripts.data).join("\n");
    for (const m of text.matchAll(/\$CONF_SRC\/([a-z.-]+)/g)) expect(Object.keys(cnf.data)).toContain(m[1]);
    expect(text).toMatch(/\$CONF_SRC\/\$role\.cnf/);
  });
});
