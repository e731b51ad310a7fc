// The PrometheusRule's alerts (metrics.prometheusRule), checked and unit-tested with promtool:
// each fires on the series it watches, for this release's pods only, under both flavors' series
// names, with its summary filled in.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { dump } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { toolPath } from "../../scripts/lib/tools.js";
import { findDoc, render } from "../helpers/render.js";

type Rule = { alert?: string; expr: string; annotations?: Record<string, string> };
let dir: string;
let rules: Rule[];

beforeAll(async () => {
  const docs = await render({
    release: "x",
    set: { "metrics.enabled": true, "metrics.prometheusRule.enabled": true, "replication.maxLagSeconds": 30, "metrics.prometheusRule.volumeFreePercent": 20 },
    showOnly: ["templates/prometheusrule.yaml"],
  });
  const groups = findDoc(docs, "PrometheusRule").spec.groups;
  rules = groups[0].rules;
  dir = mkdtempSync(join(tmpdir(), "rules-"));
  writeFileSync(join(dir, "rules.yaml"), dump({ groups }));
});

const promtool = (...args: string[]) => execa(toolPath("promtool"), args, { cwd: dir, reject: false });
const description = (alert: string) => rules.find((r) => r.alert === alert)!.annotations!.description;

/** An expected alert: its labels and its filled-in annotations. */
const firing = (alert: string, severity: string, labels: Record<string, string>, summary: string) => ({
  exp_labels: { severity, ...labels },
  exp_annotations: { summary, description: description(alert) },
});

describe("the chart's alerting rules (promtool)", () => {
  it("pass promtool check rules", async () => {
    const r = await promtool("check", "rules", "rules.yaml");
    expect(r.stdout + r.stderr).toContain("SUCCESS: 4 rules found");
    expect(r.exitCode).toBe(0);
  });

  it("fire on their series, for this release's pods only, under MySQL's and MariaDB's names", async () => {
    const pod = (p: string, extra = "") => `{namespace="default", pod="${p}"${extra}}`;
    const claim = (c: string) => `{namespace="default", persistentvolumeclaim="${c}"}`;
    const test = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            { series: `mysql_up${pod("x-mysql-0")}`, values: "1x10" },
            { series: `mysql_up${pod("x-mysql-1")}`, values: "0x10" },
            // Another release in the namespace is not this rule's business.
            { series: `mysql_up${pod("y-mysql-0")}`, values: "0x10" },
            // MySQL's names on pod 1, MariaDB's on pod 2.
            { series: `mysql_slave_status_replica_sql_running${pod("x-mysql-1")}`, values: "1 1 0 0 0 0 0 0 0 0" },
            { series: `mysql_slave_status_replica_io_running${pod("x-mysql-1")}`, values: "1x10" },
            { series: `mysql_slave_status_slave_io_running${pod("x-mysql-2")}`, values: "0x10" },
            { series: `mysql_slave_status_slave_sql_running${pod("x-mysql-2")}`, values: "1x10" },
            { series: `mysql_slave_status_seconds_behind_source${pod("x-mysql-1")}`, values: "0 0 45 45 45 45 45 45" },
            { series: `mysql_slave_status_seconds_behind_master${pod("x-mysql-2")}`, values: "10x10" },
            { series: `kubelet_volume_stats_available_bytes${claim("data-x-mysql-0")}`, values: "10x10" },
            { series: `kubelet_volume_stats_capacity_bytes${claim("data-x-mysql-0")}`, values: "100x10" },
            { series: `kubelet_volume_stats_available_bytes${claim("data-x-mysql-1")}`, values: "50x10" },
            { series: `kubelet_volume_stats_capacity_bytes${claim("data-x-mysql-1")}`, values: "100x10" },
          ],
          alert_rule_test: [
            { eval_time: "30s", alertname: "MySQLDown", exp_alerts: [] },
            {
              eval_time: "2m",
              alertname: "MySQLDown",
              exp_alerts: [firing("MySQLDown", "critical", { namespace: "default", pod: "x-mysql-1" }, "default/x-mysql-1: the server does not answer its exporter")],
            },
            {
              eval_time: "5m",
              alertname: "MySQLReplicationStopped",
              exp_alerts: [
                firing("MySQLReplicationStopped", "critical", { namespace: "default", pod: "x-mysql-1" }, "default/x-mysql-1: a replication thread has stopped"),
                firing("MySQLReplicationStopped", "critical", { namespace: "default", pod: "x-mysql-2" }, "default/x-mysql-2: a replication thread has stopped"),
              ],
            },
            {
              eval_time: "5m",
              alertname: "MySQLReplicationLagging",
              exp_alerts: [firing("MySQLReplicationLagging", "warning", { namespace: "default", pod: "x-mysql-1" }, "default/x-mysql-1: 45 s behind the primary")],
            },
            {
              eval_time: "6m",
              alertname: "MySQLDataVolumeNearlyFull",
              exp_alerts: [
                firing("MySQLDataVolumeNearlyFull", "warning", { namespace: "default", persistentvolumeclaim: "data-x-mysql-0" }, "default/data-x-mysql-0: 10% free"),
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, "test.yaml"), dump(test));
    const r = await promtool("test", "rules", "test.yaml");
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  });

  it("a broken rule fails the check (the check can fail)", async () => {
    writeFileSync(join(dir, "broken.yaml"), dump({ groups: [{ name: "g", rules: [{ alert: "A", expr: "mysql_up ==" }] }] }));
    const r = await promtool("check", "rules", "broken.yaml");
    expect(r.exitCode).not.toBe(0);
  });
});
