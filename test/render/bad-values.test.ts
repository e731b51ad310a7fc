// Values a user can plausibly get wrong are refused at render time, naming the field, and a
// nearby good value is still accepted. Schema rules give Helm's "at '/field'" message; rules
// across fields, on the release name or on my.cnf lines give _validate.tpl's "Invalid values".
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { afterAll, describe, expect, it } from "vitest";
import { acceptedWith, chartDir, type K8sObject, refusedWith } from "../helpers/render.js";

const set = (k: string, v: string | number | boolean) => ["--set", `${k}=${v}`];
const str = (k: string, v: string) => ["--set-string", `${k}=${v}`];
const args = (...parts: string[][]) => parts.flat();

const work = mkdtempSync(join(tmpdir(), "bad-values-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let files = 0;
/** --set-file KEY=<a file holding CONTENT>: multi-line values and trailing newlines, as a user's file has them. */
const fromFile = (key: string, content: string) => {
  const f = join(work, `v${files++}`);
  writeFileSync(f, content);
  return ["--set-file", `${key}=${f}`];
};

describe("bad values are refused naming the field; a nearby good value is accepted", () => {
  describe("names that become Kubernetes names and labels", () => {
    it("nameOverride and fullnameOverride must be DNS labels (fullnameOverride: DNS-1035, at most 52 characters)", async () => {
      const err = await refusedWith(args(set("nameOverride", "My_DB"), set("fullnameOverride", "1db")));
      expect(err).toMatch(/at '\/nameOverride': 'My_DB' does not match pattern/);
      expect(err).toMatch(/at '\/fullnameOverride': '1db' does not match pattern/);
      expect(await refusedWith(set("fullnameOverride", "a".repeat(53)))).toMatch(/at '\/fullnameOverride': maxLength: got 53, want 52/);
      await acceptedWith(args(set("nameOverride", "db-2"), set("fullnameOverride", "a".repeat(52))));
    });

    it("refuses a release whose full name exceeds 52 characters, naming the release name, instead of cutting it", async () => {
      const long = "r".repeat(47); // + "-mysql" = 53
      const err = await refusedWith([], long);
      expect(err).toMatch(new RegExp(`resource name "${long}-mysql" \\(from the release name "${long}" \\+ the chart name "mysql"\\) is 53 characters, more than 52`));
      expect(err).toMatch(/controller-revision-hash/);
      expect(await refusedWith(set("nameOverride", "n".repeat(50)), "rel")).toMatch(/from the release name "rel" \+ nameOverride "n{50}"\) is 54 characters/);
      expect(await refusedWith(set("nameOverride", "n".repeat(40)), "r".repeat(20))).toMatch(/is 61 characters, more than 52/);
      const ok = "r".repeat(46); // exactly 52: used whole, never cut
      const docs = (loadAll(await acceptedWith([], ok)) as (K8sObject | null)[]).filter((d): d is K8sObject => d !== null);
      expect(docs.find((d) => d.kind === "StatefulSet")?.metadata.name).toBe(`${ok}-mysql`);
      expect(docs.find((d) => d.kind === "Service" && d.metadata.name.endsWith("-read"))?.metadata.name).toBe(`${ok}-mysql-read`);
    });

    it("refuses a full name that is not a DNS-1035 label (Service names), naming the release name", async () => {
      expect(await refusedWith([], "1db")).toMatch(/resource name "1db-mysql" \(from the release name "1db" \+ the chart name "mysql"\) is not a DNS-1035 label/);
      expect(await refusedWith([], "my.db")).toMatch(/resource name "my\.db-mysql" \(from the release name "my\.db"/);
      await acceptedWith(set("fullnameOverride", "db"), "1db");
      await acceptedWith([], "db1");
    });
  });

  describe("Kubernetes quantities", () => {
    it("resources.*: the quantity grammar, non-negative, no milli-bytes for memory", async () => {
      const err = await refusedWith(
        args(str("resources.server.limits.memory", "512m"), str("resources.server.requests.cpu", "1 core"), str("resources.sidecar.requests.ephemeral-storage", "-1Gi"), set("resources.init.requests.cpu", -1), str("resources.init.limits.memory", "1GB")),
      );
      expect(err).toMatch(/at '\/resources\/server\/limits\/memory': '512m' does not match pattern/);
      expect(err).toMatch(/at '\/resources\/server\/requests\/cpu': '1 core' does not match pattern/);
      expect(err).toMatch(/at '\/resources\/sidecar\/requests\/ephemeral-storage': '-1Gi' does not match pattern/);
      expect(err).toMatch(/at '\/resources\/init\/requests\/cpu': minimum: got -1, want 0/);
      expect(err).toMatch(/at '\/resources\/init\/limits\/memory': '1GB' does not match pattern/);
      await acceptedWith(
        args(str("resources.server.requests.cpu", "500m"), set("resources.server.limits.cpu", 2), str("resources.sidecar.requests.cpu", "0.5"), str("resources.server.limits.memory", "2Gi"), str("resources.init.limits.memory", "1e9"), str("resources.sidecar.limits.ephemeral-storage", "1G")),
      );
    });

    it("resources.*: a request above its limit, naming both fields (units compared)", async () => {
      const err = await refusedWith(args(str("resources.server.requests.memory", "2Gi"), str("resources.server.limits.memory", "1Gi"), str("resources.sidecar.requests.cpu", "2"), str("resources.sidecar.limits.cpu", "1500m")));
      expect(err).toMatch(/resources\.server\.requests\.memory \(2Gi\) exceeds resources\.server\.limits\.memory \(1Gi\)/);
      expect(err).toMatch(/resources\.sidecar\.requests\.cpu \(2\) exceeds resources\.sidecar\.limits\.cpu \(1500m\)/);
      await acceptedWith(args(str("resources.server.requests.memory", "1Gi"), str("resources.server.limits.memory", "1024Mi"), str("resources.sidecar.requests.cpu", "100m"), str("resources.sidecar.limits.cpu", "0.1")));
    });

    it("persistence.size: a positive quantity with a unit (0, a bare number of bytes and m are refused)", async () => {
      for (const bad of ["0", "0Gi", "8", "8m", "8GB", "-8Gi"]) {
        expect(await refusedWith(str("persistence.size", bad))).toMatch(new RegExp(`at '/persistence/size': '${bad}' does not match pattern`));
      }
      for (const good of ["20Gi", "0.5Gi", "500Mi", "1T"]) await acceptedWith(str("persistence.size", good));
    });
  });

  describe("images", () => {
    it("registry: host[:port][/path], no scheme, no trailing slash", async () => {
      expect(await refusedWith(set("images.mysql.registry", "https://docker.io"))).toMatch(/at '\/images\/mysql\/registry': 'https:\/\/docker\.io' does not match pattern/);
      expect(await refusedWith(set("images.mariadb.registry", "docker.io/"))).toMatch(/at '\/images\/mariadb\/registry': 'docker\.io\/' does not match pattern/);
      for (const good of ["", "docker.io", "localhost:5000", "registry.example.org:5000/mirror/hub"]) await acceptedWith(set("images.mysql.registry", good));
    });

    it("repository: lowercase path components, no tag or digest", async () => {
      const err = await refusedWith(args(set("images.mysql.repository", "mysql:8.4"), set("images.mariadb.repository", "MariaDB")));
      expect(err).toMatch(/at '\/images\/mysql\/repository': 'mysql:8\.4' does not match pattern/);
      expect(err).toMatch(/at '\/images\/mariadb\/repository': 'MariaDB' does not match pattern/);
      expect(await refusedWith(str("images.mysql.repository", `mysql@sha256:${"a".repeat(64)}`))).toMatch(/at '\/images\/mysql\/repository'/);
      for (const good of ["library/mysql", "mysql", "bitnami/mysql", "mysql-chart/mysql", "a/b__c/d.e"]) await acceptedWith(set("images.mysql.repository", good));
      // With registry empty, the repository may carry the host (how the e2e suite points at a local image).
      await acceptedWith(args(set("images.mysql.registry", ""), set("images.mysql.repository", "localhost:5000/mysql-chart/mysql")));
    });

    it("repository: a registry host written there as well as in registry", async () => {
      expect(await refusedWith(args(set("images.mysql.registry", "docker.io"), set("images.mysql.repository", "ghcr.io/acme/mysql")))).toMatch(
        /images\.mysql\.repository "ghcr\.io\/acme\/mysql" starts with a registry host while images\.mysql\.registry is "docker\.io" \(the image would be docker\.io\/ghcr\.io\/acme\/mysql\)/,
      );
      expect(await refusedWith(args(set("images.mysql.registry", "quay.io"), set("images.mysql.repository", "quay.io/acme/mysql")))).toMatch(/images\.mysql\.repository "quay\.io\/acme\/mysql" starts with a registry host/);
      expect(await refusedWith(args(set("images.mysql.registry", "quay.io"), set("images.mysql.repository", "localhost/acme/mysql")))).toMatch(/images\.mysql\.repository "localhost\/acme\/mysql" starts with a registry host/);
      await acceptedWith(args(set("images.mysql.registry", "ghcr.io"), set("images.mysql.repository", "acme/mysql")));
      // Another registry's project may have a dot in its name.
      await acceptedWith(args(set("images.mysql.registry", "harbor.example.org"), set("images.mysql.repository", "team.db/mysql")));
    });

    it("tag: the Docker tag grammar; digest: sha256 or sha512", async () => {
      const err = await refusedWith(args(set("images.mysql.tag", ".8"), str("images.mariadb.tag", "11.8:latest")));
      expect(err).toMatch(/at '\/images\/mysql\/tag': '\.8' does not match pattern/);
      expect(err).toMatch(/at '\/images\/mariadb\/tag': '11\.8:latest' does not match pattern/);
      expect(await refusedWith(set("images.mysql.tag", "t".repeat(129)))).toMatch(/at '\/images\/mysql\/tag'/);
      expect(await refusedWith(set("images.mysql.digest", "sha256:abc"))).toMatch(/at '\/images\/mysql\/digest': 'sha256:abc' does not match pattern/);
      await acceptedWith(args(str("images.mysql.tag", "9.7-debian"), str("images.mariadb.tag", "11.8"), str("images.mysql.digest", `sha256:${"0".repeat(64)}`)));
    });

    it("pullSecrets: Kubernetes object names, each once", async () => {
      expect(await refusedWith(str("images.pullSecrets[0]", "My_Creds"))).toMatch(/at '\/images\/pullSecrets\/0': 'My_Creds' does not match pattern/);
      expect(await refusedWith(args(str("images.pullSecrets[0]", "regcred"), str("images.pullSecrets[1]", "regcred")))).toMatch(/at '\/images\/pullSecrets': items at 0 and 1 are equal/);
      await acceptedWith(args(str("images.pullSecrets[0]", "regcred"), str("images.pullSecrets[1]", "ghcr.io-pull")));
    });
  });

  describe("accounts and passwords", () => {
    it("refuses reserved and system account names in every account field, in any letter case", async () => {
      const err = await refusedWith(args(set("auth.replicationUser", "root"), set("auth.cloneUser", "mysql.sys"), set("auth.username", "PUBLIC")));
      expect(err).toMatch(/auth\.replicationUser "root" is a reserved account \(the server's root/);
      expect(err).toMatch(/auth\.cloneUser "mysql\.sys" is a reserved account/);
      expect(err).toMatch(/auth\.username "PUBLIC" is a reserved account/);
      for (const name of ["mysql", "mysql.session", "mysql.infoschema", "mariadb.sys", "Root", "public", "mysql_chart_test"]) {
        expect(await refusedWith(set("auth.username", name))).toMatch(new RegExp(`auth\\.username "${name.replaceAll(".", "\\.")}" is a reserved account`));
      }
      await acceptedWith(args(set("auth.replicationUser", "repl"), set("auth.cloneUser", "cloner"), set("auth.username", "rooted")));
    });

    it("refuses account names over 32 characters (MySQL's limit)", async () => {
      const err = await refusedWith(args(set("auth.replicationUser", "r".repeat(33)), set("auth.cloneUser", "c".repeat(33)), set("auth.username", "u".repeat(33))));
      for (const f of ["replicationUser", "cloneUser", "username"]) expect(err).toMatch(new RegExp(`at '/auth/${f}': '[a-z]{33}' does not match pattern`));
      await acceptedWith(args(set("auth.replicationUser", "r".repeat(32)), set("auth.username", "u".repeat(32))));
    });

    it("refuses the server's system schemas as auth.database", async () => {
      for (const db of ["mysql", "sys", "information_schema", "PERFORMANCE_SCHEMA"]) {
        expect(await refusedWith(set("auth.database", db))).toMatch(new RegExp(`auth\\.database "${db}" is a system schema`));
      }
      await acceptedWith(args(set("auth.database", "mysql_app"), set("auth.username", "app")));
    });

    it("refuses a given password shorter than 12 characters, without printing it", async () => {
      const sets = { rootPassword: "r00tpass", replicationPassword: "replpass", clonePassword: "clonepass", password: "apppass" };
      const err = await refusedWith(args(set("auth.username", "app"), ...Object.entries(sets).map(([k, v]) => set(`auth.${k}`, v))));
      for (const [k, v] of Object.entries(sets)) {
        expect(err).toMatch(new RegExp(`at '/auth/${k}': minLength: got ${v.length}, want 12`));
        expect(err).not.toContain(v);
      }
      // Empty (generated) and 12 characters are fine.
      await acceptedWith(args(set("auth.username", "app"), set("auth.rootPassword", "twelve-chars"), set("auth.password", "")));
    });

    it("refuses a password with a line break (a file given with --set-file ends with one)", async () => {
      const err = await refusedWith(fromFile("auth.rootPassword", "a-file-password\n"));
      expect(err).toMatch(/auth\.rootPassword contains a line break/);
      expect(err).not.toContain("a-file-password");
      await acceptedWith(fromFile("auth.rootPassword", "a-file-password"));
    });
  });

  describe("labels and annotations", () => {
    it("commonLabels and podLabels must not set the selector labels", async () => {
      const err = await refusedWith(args(str("commonLabels.app\\.kubernetes\\.io/instance", "other"), str("podLabels.app\\.kubernetes\\.io/name", "other")));
      expect(err).toMatch(/commonLabels sets app\.kubernetes\.io\/instance, a selector label of the chart: the StatefulSet's selector would no longer match its pods/);
      expect(err).toMatch(/podLabels sets app\.kubernetes\.io\/name, a selector label/);
      expect(await refusedWith(str("commonLabels.app\\.kubernetes\\.io/managed-by", "me"))).toMatch(/commonLabels sets app\.kubernetes\.io\/managed-by, a label the chart sets itself/);
      await acceptedWith(args(str("commonLabels.app\\.kubernetes\\.io/component", "database"), str("podLabels.example\\.com/team", "db")));
    });

    it("podLabels and commonLabels, podAnnotations and commonAnnotations must not both set a key; nor the chart's checksum annotations", async () => {
      const err = await refusedWith(args(str("commonLabels.team", "a"), str("podLabels.team", "a"), str("commonAnnotations.owner", "a"), str("podAnnotations.owner", "b"), str("podAnnotations.checksum/config", "x")));
      expect(err).toMatch(/podLabels and commonLabels both set team/);
      expect(err).toMatch(/podAnnotations and commonAnnotations both set owner/);
      expect(err).toMatch(/podAnnotations sets checksum\/config, a pod annotation the chart sets itself/);
      await acceptedWith(args(str("commonLabels.team", "a"), str("podLabels.tier", "db"), str("commonAnnotations.owner", "a"), str("podAnnotations.example\\.com/scrape", "true")));
    });

    it("label and annotation keys must be valid Kubernetes keys, naming the field", async () => {
      const err = await refusedWith(
        args(str("commonLabels.bad key", "x"), str("podLabels.-team", "x"), str("nodeSelector.Example\\.com/zone", "a"), str("commonAnnotations.a/b/c", "x"), str("podAnnotations." + "k".repeat(64), "x"), str("readService.annotations.no spaces", "x"), str("primaryService.annotations.a b", "x"), str("persistence.annotations._x", "x")),
      );
      expect(err).toMatch(/commonLabels key "bad key" is not a valid Kubernetes key/);
      expect(err).toMatch(/podLabels key "-team" is not a valid/);
      expect(err).toMatch(/nodeSelector key "Example\.com\/zone" is not a valid/);
      expect(err).toMatch(/commonAnnotations key "a\/b\/c" is not a valid/);
      expect(err).toMatch(/podAnnotations key "k{64}" is not a valid/);
      expect(err).toMatch(/readService\.annotations key "no spaces" is not a valid/);
      expect(err).toMatch(/primaryService\.annotations key "a b" is not a valid/);
      expect(err).toMatch(/persistence\.annotations key "_x" is not a valid/);
      await acceptedWith(
        args(str("commonLabels.example\\.com/team", "db"), str("nodeSelector.kubernetes\\.io/os", "linux"), str("podAnnotations." + "k".repeat(63), "x"), str("readService.annotations.service\\.beta\\.kubernetes\\.io/aws-load-balancer-type", "nlb")),
      );
    });

    it("label values must be valid (at most 63 characters, alphanumeric ends); annotation values are free", async () => {
      const err = await refusedWith(args(str("podLabels.tier", "x".repeat(64)), str("nodeSelector.zone", "a-")));
      // commonLabels values are templates, checked once rendered (after the schema).
      expect(await refusedWith(str("commonLabels.team", "data base"))).toMatch(/commonLabels\.team renders to "data base", not a valid label value/);
      expect(err).toMatch(/at '\/podLabels\/tier': 'x{64}' does not match pattern/);
      expect(err).toMatch(/at '\/nodeSelector\/zone': 'a-' does not match pattern/);
      await acceptedWith(args(str("commonLabels.team", "data_base.1"), str("podLabels.empty", ""), str("commonAnnotations.note", "free text: any thing!")));
    });

    it("refuses helm.sh/hook annotations on the chart's resources", async () => {
      const err = await refusedWith(args(str("commonAnnotations.helm\\.sh/hook", "pre-install"), str("readService.annotations.helm\\.sh/hook-weight", "1"), str("primaryService.annotations.helm\\.sh/hook", "x")));
      expect(err).toMatch(/commonAnnotations sets helm\.sh\/hook, which would turn the chart's resources into Helm hooks/);
      expect(err).toMatch(/readService\.annotations sets helm\.sh\/hook-weight/);
      expect(err).toMatch(/primaryService\.annotations sets helm\.sh\/hook,/);
      await acceptedWith(str("commonAnnotations.helm\\.sh/owner", "team"));
    });
  });

  describe("numbers", () => {
    it("refuses zero or too small values where they make no sense", async () => {
      const err = await refusedWith(
        args(set("terminationGracePeriodSeconds", 0), set("replication.maxLagSeconds", 0), set("replication.connectRetrySeconds", 0), set("clone.attempts", 0), set("clone.retryDelaySeconds", 0), set("clone.donorWaitSeconds", 5), set("tests.timeoutSeconds", 5), set("podDisruptionBudget.maxUnavailable", 0), set("probes.readiness.periodSeconds", 0), set("probes.liveness.timeoutSeconds", 0), set("probes.startup.initialDelaySeconds", -1), set("config.binlogExpireSeconds", 60)),
      );
      for (const [f, got, want] of [
        ["terminationGracePeriodSeconds", 0, 10],
        ["replication/maxLagSeconds", 0, 1],
        ["replication/connectRetrySeconds", 0, 1],
        ["clone/attempts", 0, 1],
        ["clone/retryDelaySeconds", 0, 1],
        ["clone/donorWaitSeconds", 5, 10],
        ["tests/timeoutSeconds", 5, 10],
        ["podDisruptionBudget/maxUnavailable", 0, 1],
        ["probes/readiness/periodSeconds", 0, 1],
        ["probes/liveness/timeoutSeconds", 0, 1],
        ["probes/startup/initialDelaySeconds", -1, 0],
        ["config/binlogExpireSeconds", 60, 3600],
      ]) {
        // Helm prints numbers localised (3,600): the field and the value given are what matter.
        expect(err).toMatch(new RegExp(`at '/${f}': minimum: got ${got}, want ${want.toLocaleString("en-US")}\\b`));
      }
      await acceptedWith(args(set("terminationGracePeriodSeconds", 10), set("replication.maxLagSeconds", 1), set("clone.donorWaitSeconds", 10), set("tests.timeoutSeconds", 10), set("probes.startup.initialDelaySeconds", 0), set("config.binlogExpireSeconds", 3600)));
    });

    it("refuses ports and server limits out of range", async () => {
      const err = await refusedWith(args(set("service.port", 0), set("clone.backupPort", 65536), set("replication.connectRetrySeconds", 31536001), set("config.binlogExpireSeconds", 4294967296)));
      expect(err).toMatch(/at '\/service\/port': minimum: got 0, want 1/);
      expect(err).toMatch(/at '\/clone\/backupPort': maximum: got 65,536, want 65,535/);
      expect(err).toMatch(/at '\/replication\/connectRetrySeconds': maximum: got 3\.1536001×10/);
      expect(err).toMatch(/at '\/config\/binlogExpireSeconds': maximum: got 4\.294967296×10/);
      await acceptedWith(args(set("service.port", 13306), set("clone.backupPort", 13307)));
    });

    it("serverIdOffset + replicas must stay within the largest server_id", async () => {
      expect(await refusedWith(args(set("serverIdOffset", 4294900000), set("replicas", 67296)))).toMatch(/serverIdOffset \(4294900000\) \+ replicas \(67296\) exceeds 4294967295, the largest server_id/);
      await acceptedWith(args(set("serverIdOffset", 4294900000), set("replicas", 67295)));
    });

    it("MariaDB: config.binlogExpireSeconds within MariaDB's 99 days", async () => {
      expect(await refusedWith(args(set("flavor", "mariadb"), set("config.binlogExpireSeconds", 8553601)))).toMatch(/config\.binlogExpireSeconds \(8553601\) exceeds MariaDB's maximum/);
      await acceptedWith(args(set("flavor", "mariadb"), set("config.binlogExpireSeconds", 8553600)));
      await acceptedWith(set("config.binlogExpireSeconds", 8553601));
    });

    it("liveness and startup probes need successThreshold 1 (Kubernetes), readiness may use more", async () => {
      const err = await refusedWith(args(set("probes.liveness.successThreshold", 2), set("probes.startup.successThreshold", 3)));
      expect(err).toMatch(/probes\.liveness\.successThreshold must be 1/);
      expect(err).toMatch(/probes\.startup\.successThreshold must be 1/);
      await acceptedWith(args(set("probes.liveness.successThreshold", 1), set("probes.readiness.successThreshold", 2)));
    });

    it("podDisruptionBudget.maxUnavailable must leave a pod up", async () => {
      expect(await refusedWith(set("podDisruptionBudget.maxUnavailable", 3))).toMatch(/podDisruptionBudget\.maxUnavailable \(3\) must be below replicas \(3\)/);
      await acceptedWith(set("podDisruptionBudget.maxUnavailable", 2));
      await acceptedWith(set("replicas", 1));
      await acceptedWith(args(set("podDisruptionBudget.enabled", false), set("podDisruptionBudget.maxUnavailable", 5)));
    });
  });

  describe("volumes and scheduling", () => {
    it("persistence.accessModes: at least one writable mode, each once; storageClass and priorityClassName are object names", async () => {
      expect(await refusedWith(set("persistence.accessModes", "{ReadOnlyMany}"))).toMatch(/at '\/persistence\/accessModes': no items match contains schema/);
      expect(await refusedWith(set("persistence.accessModes", "{ReadWriteOnce,ReadWriteOnce}"))).toMatch(/at '\/persistence\/accessModes': items at 0 and 1 are equal/);
      const err = await refusedWith(args(set("persistence.storageClass", "Fast_SSD"), set("priorityClassName", "High")));
      expect(err).toMatch(/at '\/persistence\/storageClass': 'Fast_SSD' does not match pattern/);
      expect(err).toMatch(/at '\/priorityClassName': 'High' does not match pattern/);
      await acceptedWith(args(set("persistence.accessModes", "{ReadWriteOncePod}"), set("persistence.storageClass", "fast.ssd"), set("priorityClassName", "system-cluster-critical")));
      await acceptedWith(set("persistence.storageClass", "-"));
    });
  });

  describe("my.cnf lines in config.common / config.primary / config.replica", () => {
    it("refuses each setting the chart manages, naming the field and the setting", async () => {
      const managed: [string, string][] = [
        ["read_only=OFF", "read_only"],
        ["super_read_only=OFF", "super_read_only"],
        ["sync_binlog=0", "sync_binlog"],
        ["innodb_flush_log_at_trx_commit=2", "innodb_flush_log_at_trx_commit"],
        ["binlog_format=STATEMENT", "binlog_format"],
        ["gtid_mode=OFF", "gtid_mode"],
        ["enforce_gtid_consistency=OFF", "enforce_gtid_consistency"],
        ["gtid_strict_mode=OFF", "gtid_strict_mode"],
        ["log_bin=other", "log_bin"],
        ["log_replica_updates=OFF", "log_replica_updates"],
        ["log_slave_updates=OFF", "log_slave_updates"],
        ["server_id=7", "server_id"],
        ["port=3307", "port"],
        ["datadir=/tmp/data", "datadir"],
        ["socket=/tmp/s.sock", "socket"],
        ["relay_log_recovery=OFF", "relay_log_recovery"],
        ["report_host=elsewhere", "report_host"],
        ["binlog_expire_logs_seconds=60", "binlog_expire_logs_seconds"],
        ["skip_replica_start", "skip_replica_start"],
        ["skip_slave_start", "skip_slave_start"],
      ];
      for (const field of ["common", "primary", "replica"]) {
        const err = await refusedWith(fromFile(`config.${field}`, managed.map(([l]) => l).join("\n") + "\n"));
        for (const [, name] of managed) expect(err).toMatch(new RegExp(`config\\.${field} sets ${name}, which the chart manages \\(`));
      }
      expect(await refusedWith(fromFile("config.common", "super_read_only=OFF\n"))).toMatch(/config\.common sets super_read_only, which the chart manages \(read-only replicas\); remove the line/);
      await acceptedWith(fromFile("config.common", "max_connections=345\n"));
    });

    it("normalises option names as the server does: case, - and _, and the --, loose-, skip-, disable-, enable-, maximum- prefixes", async () => {
      const err = await refusedWith(
        fromFile("config.replica", ["Super-Read-Only = OFF", "--sync-binlog=0", "skip-log-bin", "disable_log_bin", "loose-skip-slave-start", "enable-read-only", "maximum-innodb_flush_log_at_trx_commit=2", "  SERVER_ID=9  # trailing comment"].join("\n")),
      );
      expect(err).toMatch(/config\.replica sets Super-Read-Only \(super_read_only\)/);
      expect(err).toMatch(/config\.replica sets --sync-binlog \(sync_binlog\)/);
      expect(err).toMatch(/config\.replica sets skip-log-bin \(log_bin\)/);
      expect(err).toMatch(/config\.replica sets disable_log_bin \(log_bin\)/);
      expect(err).toMatch(/config\.replica sets loose-skip-slave-start \(skip_slave_start\)/);
      expect(err).toMatch(/config\.replica sets enable-read-only \(read_only\)/);
      expect(err).toMatch(/config\.replica sets maximum-innodb_flush_log_at_trx_commit \(innodb_flush_log_at_trx_commit\)/);
      expect(err).toMatch(/config\.replica sets SERVER_ID \(server_id\)/);
      // Similar names the chart does not manage, comments and section headers pass.
      await acceptedWith(
        fromFile("config.replica", ["# read_only=OFF is only a comment", "; super_read_only=OFF too", "[mysqld]", "skip-name-resolve", "log-bin-index=mysql-bin.index", "read_buffer_size=1M", "plugin-load-add=auth_socket.so", "replica_parallel_workers=4"].join("\n")),
      );
    });

    it("refuses what would undo networking, authentication or the clone plugin, and !include lines", async () => {
      const err = await refusedWith(fromFile("config.common", ["bind-address=127.0.0.1", "skip-networking", "skip-grant-tables", "plugin_load=x.so", "expire_logs_days=1", "!includedir /etc/mysql/conf.d"].join("\n")));
      expect(err).toMatch(/config\.common sets bind-address \(bind_address\)/);
      expect(err).toMatch(/config\.common sets skip-networking \(skip_networking\)/);
      expect(err).toMatch(/config\.common sets skip-grant-tables \(skip_grant_tables\)/);
      expect(err).toMatch(/config\.common sets plugin_load, which the chart manages \(it would drop the clone plugin; use plugin-load-add\)/);
      expect(err).toMatch(/config\.common sets expire_logs_days, which the chart manages \(set config\.binlogExpireSeconds\)/);
      expect(err).toMatch(/config\.common includes other option files \(!includedir \/etc\/mysql\/conf\.d\)/);
      await acceptedWith(fromFile("config.common", "plugin-load-add=x.so\nmax_allowed_packet=64M\n"));
    });

    it("pins durability in both flavors' common.cnf (MariaDB's default sync_binlog is 0)", () => {
      for (const flavor of ["mysql", "mariadb"]) {
        const cnf = readFileSync(join(chartDir, "files/conf", flavor, "common.cnf"), "utf8");
        expect(cnf, flavor).toMatch(/^sync_binlog=1$/m);
        expect(cnf, flavor).toMatch(/^innodb_flush_log_at_trx_commit=1$/m);
      }
    });
  });
});
