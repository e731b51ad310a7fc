// Extension points: what a user adds to the pods and the release without forking the chart, and
// diagnostic mode. Names the chart uses itself are refused, naming the field.
import { describe, expect, it } from "vitest";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dump } from "js-yaml";
import { container, findDoc, notes, refusedWith, render } from "../helpers/render.js";

/** A values file with VALUES (objects and lists do not fit --set). */
function valuesFile(values: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "values-")), "values.yaml");
  writeFileSync(file, dump(values));
  return file;
}
const podSpecWith = async (values: unknown) =>
  findDoc(await render({ valuesFiles: [valuesFile(values)], showOnly: ["templates/statefulset.yaml"] }), "StatefulSet").spec.template.spec;
const names = (list: { name: string }[] = []) => list.map((x) => x.name);

describe("extra environment", () => {
  it("extraEnvVars, extraEnvVarsCM and extraEnvVarsSecret reach the database server container", async () => {
    const spec = await podSpecWith({
      extraEnvVars: [{ name: "TZ", value: "Europe/Paris" }, { name: "FROM_FIELD", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
      extraEnvVarsCM: "app-env",
      extraEnvVarsSecret: "app-secret-env",
    });
    const server = container(spec, "mysql");
    expect(server.env).toContainEqual({ name: "TZ", value: "Europe/Paris" });
    expect(server.env).toContainEqual({ name: "FROM_FIELD", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
    expect(server.envFrom).toEqual([{ configMapRef: { name: "app-env" } }, { secretRef: { name: "app-secret-env" } }]);
    expect(container(spec, "replication").envFrom).toBeUndefined();
  });

  it("refuses an extra variable the chart's scripts read", async () => {
    expect(await refusedWith(["--set", "extraEnvVars[0].name=MAX_LAG_SECONDS", "--set", "extraEnvVars[0].value=1"])).toContain(
      "extraEnvVars[0].name MAX_LAG_SECONDS is set by the chart itself",
    );
  });
});

describe("extra volumes, mounts, sidecars and init containers", () => {
  const values = {
    extraVolumes: [{ name: "extra", configMap: { name: "extra" } }],
    extraVolumeMounts: { server: [{ name: "extra", mountPath: "/etc/extra" }], sidecar: [{ name: "extra", mountPath: "/srv/extra" }] },
    sidecars: [{ name: "tail", image: "{{ .Values.images.mysql.repository }}:x", volumeMounts: [{ name: "run", mountPath: "/run/mysqld" }] }],
    initContainers: [{ name: "after", image: "busybox:1" }],
  };

  it("adds the volume to the pod and each mount to its container", async () => {
    const spec = await podSpecWith(values);
    expect(spec.volumes).toContainEqual({ name: "extra", configMap: { name: "extra" } });
    expect(container(spec, "mysql").volumeMounts).toContainEqual({ name: "extra", mountPath: "/etc/extra" });
    expect(container(spec, "replication").volumeMounts).toContainEqual({ name: "extra", mountPath: "/srv/extra" });
  });

  it("runs the user's init containers after the chart's own and the sidecars after the chart's containers, rendered as templates", async () => {
    const spec = await podSpecWith(values);
    expect(names(spec.initContainers)).toEqual(["choose-config", "prepare-data", "after"]);
    expect(names(spec.containers)).toEqual(["mysql", "replication", "tail"]);
    expect(container(spec, "tail").image).toBe("library/mysql:x");
  });

  it.each([
    [["--set", "extraVolumes[0].name=data", "--set", "extraVolumes[0].emptyDir.medium=Memory"], "extraVolumes[0].name data is a volume of the chart"],
    [["--set", "sidecars[0].name=replication", "--set", "sidecars[0].image=x"], "sidecars[0].name replication is a container of the chart"],
    [["--set", "initContainers[0].name=prepare-data", "--set", "initContainers[0].image=x"], "initContainers[0].name prepare-data is a container of the chart"],
  ])("refuses a chart name: %j", async (args, message) => {
    expect(await refusedWith(args)).toContain(message);
  });
});

describe("extraDeploy", () => {
  it("deploys objects and YAML strings, both rendered as templates", async () => {
    const docs = await render({
      release: "shop",
      valuesFiles: [
        valuesFile({
          extraDeploy: [
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "{{ .Release.Name }}-extra" }, data: { a: "1" } },
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"mysql.fullname\" . }}-more\n",
          ],
        }),
      ],
      showOnly: ["templates/extra-list.yaml"],
    });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(["ConfigMap/shop-extra", "ConfigMap/shop-mysql-more"]);
  });
});

describe("command and args", () => {
  it("replace a container's command and set its arguments; the other container keeps the chart's script", async () => {
    const spec = await podSpecWith({ command: { server: ["/bin/sh", "-c"] }, args: { server: ["exec my-server"] } });
    expect(container(spec, "mysql").command).toEqual(["/bin/sh", "-c"]);
    expect(container(spec, "mysql").args).toEqual(["exec my-server"]);
    expect(container(spec, "replication").command).toEqual(["/opt/mysql-chart/scripts/replication-sidecar.sh"]);
    expect(container(spec, "replication").args).toBeUndefined();
  });
});

describe("diagnosticMode", () => {
  it("skips the chart's init containers, makes the server and sidecar sleep without probes or preStop, and gives the server what the steps need to run by hand", async () => {
    const spec = await podSpecWith({ diagnosticMode: { enabled: true } });
    expect(spec.initContainers).toBeUndefined();
    for (const name of ["mysql", "replication"]) {
      const c = container(spec, name);
      expect(c.command).toEqual(["sleep"]);
      expect(c.args).toEqual(["infinity"]);
      expect(c.startupProbe ?? c.livenessProbe ?? c.readinessProbe ?? c.lifecycle).toBeUndefined();
    }
    const server = container(spec, "mysql");
    expect(server.volumeMounts).toContainEqual({ name: "config", mountPath: "/etc/mysql-chart/active", readOnly: false });
    expect(names(server.volumeMounts)).toEqual(expect.arrayContaining(["config-source", "kube-api", "data"]));
    expect(names(server.env)).toEqual(expect.arrayContaining(["SERVER_ID_OFFSET", "ALLOW_EMPTY_PRIMARY", "CLONE_ATTEMPTS"]));
  });

  it("says in NOTES how to start the server by hand", async () => {
    const text = await notes("--set", "diagnosticMode.enabled=true");
    expect(text).toContain("DIAGNOSTIC MODE");
    expect(text).toContain("/opt/mysql-chart/scripts/choose-config.sh && /opt/mysql-chart/scripts/prepare-data.sh && /opt/mysql-chart/scripts/run-server.sh");
  });
});

describe("NOTES warnings", () => {
  it("warns about a single pod and names the client label when the NetworkPolicy admits labelled clients only", async () => {
    const text = await notes("--set", "replicas=1", "--set", "networkPolicy.allowExternal=false");
    expect(text).toContain("WARNING: one pod, no replica");
    expect(text).toContain("kubectl label pod <pod> --namespace default x-mysql-client=true");
    const plain = await notes();
    expect(plain).toContain("NOTES:");
    expect(plain).not.toContain("WARNING");
    expect(plain).not.toContain("x-mysql-client=true");
  });
});

describe("persistentVolumeClaimRetentionPolicy and commonLabels", () => {
  it("keeps the claims by default and takes the user's policy", async () => {
    const sts = async (set = {}) => findDoc(await render({ set, showOnly: ["templates/statefulset.yaml"] }), "StatefulSet").spec;
    expect((await sts()).persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect((await sts({ "persistentVolumeClaimRetentionPolicy.whenDeleted": "Delete" })).persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: "Delete",
      whenScaled: "Retain",
    });
  });

  it("renders commonLabels values as templates, and refuses one that renders to an invalid label value", async () => {
    const docs = await render({ release: "shop", valuesFiles: [valuesFile({ commonLabels: { team: "{{ .Release.Name }}-db" } })] });
    for (const d of docs) expect(d.metadata.labels?.team, `${d.kind}/${d.metadata.name}`).toBe("shop-db");
    expect(await refusedWith(["--values", valuesFile({ commonLabels: { team: "{{ .Release.Name }} db" } })])).toContain(
      'commonLabels.team renders to "x db", not a valid label value',
    );
  });
});
