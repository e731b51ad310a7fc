// metrics.enabled: a mysqld_exporter sidecar per pod on its own account over the local socket, a
// metrics Service, and the NetworkPolicy letting scrapes in.
import { describe, expect, it } from "vitest";
import { container, findDoc, refusedWith, render } from "../helpers/render.js";

const on = { "metrics.enabled": true };
const podSpec = async (set: Record<string, string | number | boolean>) =>
  findDoc(await render({ set, showOnly: ["templates/statefulset.yaml"] }), "StatefulSet").spec.template.spec;

describe("metrics", () => {
  it("are off by default: no exporter container, Service or option file", async () => {
    const docs = await render();
    const spec = findDoc(docs, "StatefulSet").spec.template.spec;
    expect(spec.containers.map((c: { name: string }) => c.name)).not.toContain("metrics");
    expect(docs.some((d) => d.metadata.name === "mysql-metrics")).toBe(false);
    expect(findDoc(docs, "ConfigMap", "mysql-config").data["exporter.cnf"]).toBeUndefined();
  });

  it("add an exporter sidecar reading the server over its socket as its own account, with the password from the Secret and no readiness probe", async () => {
    const spec = await podSpec(on);
    const c = container(spec, "metrics");
    expect(c.image).toBe("docker.io/prom/mysqld-exporter:v0.17.2");
    expect(c.command).toEqual(["/bin/mysqld_exporter"]);
    expect(c.args).toEqual(["--config.my-cnf=/etc/mysql-chart/exporter/exporter.cnf", "--web.listen-address=:9104"]);
    expect(c.env).toEqual([{ name: "MYSQLD_EXPORTER_PASSWORD", valueFrom: { secretKeyRef: { name: "mysql", key: "mysql-metrics-password" } } }]);
    expect(c.readinessProbe).toBeUndefined();
    expect(c.ports).toEqual([{ name: "metrics", containerPort: 9104 }]);
    expect(c.volumeMounts).toEqual([
      { name: "run", mountPath: "/run/mysqld" },
      { name: "exporter-config", mountPath: "/etc/mysql-chart/exporter", readOnly: true },
    ]);
    expect(spec.volumes).toContainEqual({ name: "exporter-config", configMap: { name: "mysql-config", items: [{ key: "exporter.cnf", path: "exporter.cnf" }] } });
  });

  it("the option file names the account and the socket, and leaves the password to the environment", async () => {
    const cnf = findDoc(await render({ set: on, showOnly: ["templates/configmap-mycnf.yaml"] }), "ConfigMap").data["exporter.cnf"];
    expect(cnf).toContain("user=mysql_chart_metrics");
    expect(cnf).toContain("socket=/run/mysqld/mysqld.sock");
    expect(cnf).toContain("password=${MYSQLD_EXPORTER_PASSWORD}");
  });

  it("with auth.existingSecret the password comes from the chart's internal Secret", async () => {
    const c = container(await podSpec({ ...on, "auth.existingSecret": "mine" }), "metrics");
    expect(c.env[0].valueFrom.secretKeyRef).toEqual({ name: "mysql-internal", key: "mysql-metrics-password" });
  });

  it("take port, extra flags, resources and the image (global.imageRegistry included) from values", async () => {
    const c = container(
      await podSpec({ ...on, "metrics.port": 9200, "metrics.extraArgs[0]": "--collect.info_schema.processlist", "metrics.resources.limits.memory": "96Mi", "global.imageRegistry": "mirror.local" }),
      "metrics",
    );
    expect(c.image).toBe("mirror.local/prom/mysqld-exporter:v0.17.2");
    expect(c.args).toEqual(["--config.my-cnf=/etc/mysql-chart/exporter/exporter.cnf", "--web.listen-address=:9200", "--collect.info_schema.processlist"]);
    expect(c.resources.limits.memory).toBe("96Mi");
  });

  it("add the metrics Service over every pod, Ready or not, and let scrapes through the NetworkPolicy", async () => {
    const docs = await render({ set: { ...on, "metrics.service.annotations.example\\.com/team": "db" } });
    const svc = findDoc(docs, "Service", "mysql-metrics");
    expect(svc.spec.selector).toEqual({ "app.kubernetes.io/name": "mysql", "app.kubernetes.io/instance": "mysql" });
    expect(svc.spec.publishNotReadyAddresses).toBe(true);
    expect(svc.spec.ports).toEqual([{ name: "metrics", port: 9104, targetPort: "metrics" }]);
    expect(svc.metadata.annotations).toEqual({ "example.com/team": "db" });
    const ports = findDoc(docs, "NetworkPolicy").spec.ingress.flatMap((r: { ports?: { port: number }[] }) => (r.ports ?? []).map((p) => p.port));
    expect(ports).toContain(9104);
  });

  it("refuse a port the server or MariaDB's backup server already uses", async () => {
    expect(await refusedWith(["--set", "metrics.enabled=true", "--set", "metrics.port=3306"])).toContain("metrics.port 3306 is service.port too");
    expect(await refusedWith(["--set", "metrics.enabled=true", "--set", "flavor=mariadb", "--set", "metrics.port=3307"])).toContain("metrics.port 3307 is clone.backupPort too");
  });
});

describe("metrics for the Prometheus Operator", () => {
  const all = { ...on, "metrics.serviceMonitor.enabled": true, "metrics.prometheusRule.enabled": true };

  it("a ServiceMonitor selects the metrics Service alone, in the release's namespace, with the user's labels and scrape settings", async () => {
    const docs = await render({
      set: { ...all, "metrics.serviceMonitor.labels.release": "kps", "metrics.serviceMonitor.namespace": "monitoring", "metrics.serviceMonitor.interval": "15s", "metrics.serviceMonitor.scrapeTimeout": "10s", "metrics.serviceMonitor.honorLabels": true },
      namespace: "db",
    });
    const sm = findDoc(docs, "ServiceMonitor");
    expect(sm.metadata.namespace).toBe("monitoring");
    expect(sm.metadata.labels.release).toBe("kps");
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: ["db"] });
    expect(sm.spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "15s", scrapeTimeout: "10s", honorLabels: true }]);
    // Its selector matches the metrics Service and no other Service of the release.
    const matching = docs.filter((d) => d.kind === "Service" && Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => d.metadata.labels?.[k] === v));
    expect(matching.map((d) => d.metadata.name)).toEqual(["mysql-metrics"]);
  });

  it("the PrometheusRule holds the chart's four alerts, then the user's own", async () => {
    const pr = findDoc(await render({ set: { ...all, "metrics.prometheusRule.rules[0].alert": "Mine", "metrics.prometheusRule.rules[0].expr": "vector(1)" } }), "PrometheusRule");
    expect(pr.spec.groups[0].rules.map((r: { alert: string }) => r.alert)).toEqual(["MySQLDown", "MySQLReplicationStopped", "MySQLReplicationLagging", "MySQLDataVolumeNearlyFull", "Mine"]);
    const own = findDoc(await render({ set: { ...all, "metrics.prometheusRule.defaultRules": false, "metrics.prometheusRule.rules[0].alert": "Mine", "metrics.prometheusRule.rules[0].expr": "vector(1)" } }), "PrometheusRule");
    expect(own.spec.groups[0].rules.map((r: { alert: string }) => r.alert)).toEqual(["Mine"]);
  });

  it("neither without metrics.enabled: refused, naming the field", async () => {
    expect(await refusedWith(["--set", "metrics.serviceMonitor.enabled=true"])).toContain("metrics.serviceMonitor.enabled needs metrics.enabled");
    expect(await refusedWith(["--set", "metrics.prometheusRule.enabled=true"])).toContain("metrics.prometheusRule.enabled needs metrics.enabled");
  });
});
