// The chart as a dependency of an application chart: Helm hands it the parent's global values
// and the condition key enabled, which the strict schema must take, and nothing else.
import { beforeAll, describe, expect, it } from "vitest";
import { loadAll } from "js-yaml";
import { helm } from "../../scripts/lib/helm.js";
import { buildParentChart } from "../helpers/parent-chart.js";
import type { K8sObject } from "../helpers/render.js";

let parent: string;
beforeAll(async () => {
  parent = await buildParentChart();
}, 120_000);

const template = async (args: string[] = []) => {
  const r = await helm(["template", "shop", parent, ...args], { allowFailure: true });
  const docs = r.exitCode === 0 ? (loadAll(r.stdout) as (K8sObject | null)[]).filter((d): d is K8sObject => d !== null) : [];
  return { ...r, docs };
};
// The subchart's objects carry its chart label.
const ofMysql = (docs: K8sObject[]) => docs.filter((d) => String(d.metadata.labels?.["helm.sh/chart"] ?? "").startsWith("mysql-"));
const podSpecs = (docs: K8sObject[]) =>
  ofMysql(docs).flatMap((d) => (d.kind === "StatefulSet" ? [d.spec.template.spec] : d.kind === "Pod" ? [d.spec] : []));
const images = (docs: K8sObject[]) =>
  podSpecs(docs).flatMap((s) => [...(s.initContainers ?? []), ...s.containers].map((c: { image: string }) => c.image));

const globals = ["--set", "global.imageRegistry=reg.local", "--set", "global.imagePullSecrets[0]=regcred", "--set", "global.defaultStorageClass=fast"];

describe("as a dependency (condition: mysql.enabled)", () => {
  it("passes helm lint --strict and renders with the parent's defaults", async () => {
    const lint = await helm(["lint", "--strict", parent], { allowFailure: true });
    expect(lint.exitCode, lint.stdout + lint.stderr).toBe(0);
    const r = await template();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(ofMysql(r.docs).map((d) => `${d.kind}/${d.metadata.name}`)).toContain("Service/shop-mysql-primary");
  });

  it("takes global.imageRegistry, imagePullSecrets and defaultStorageClass on every image, pod and claim", async () => {
    const r = await template(globals);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(images(r.docs).length).toBeGreaterThan(3);
    for (const image of images(r.docs)) expect(image).toMatch(/^reg\.local\//);
    for (const spec of podSpecs(r.docs)) expect(spec.imagePullSecrets).toEqual([{ name: "regcred" }]);
    const sts = ofMysql(r.docs).find((d) => d.kind === "StatefulSet")!;
    expect(sts.spec.volumeClaimTemplates.map((c: K8sObject) => c.spec.storageClassName)).toEqual(["fast"]);
  });

  it("lets the chart's own values win over global, and adds its own pull Secrets to the global ones", async () => {
    const r = await template([
      ...globals,
      "--set", "mysql.images.mysql.registry=own.registry",
      "--set", "mysql.persistence.storageClass=slow",
      "--set", "mysql.images.pullSecrets[0]=own",
      "--set", "global.imagePullSecrets[1].name=other",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    for (const image of images(r.docs)) expect(image).toMatch(/^own\.registry\//);
    for (const spec of podSpecs(r.docs)) expect(spec.imagePullSecrets).toEqual([{ name: "own" }, { name: "regcred" }, { name: "other" }]);
    const sts = ofMysql(r.docs).find((d) => d.kind === "StatefulSet")!;
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBe("slow");
  });

  it("ignores global keys that belong to the parent or other subcharts", async () => {
    const r = await template(["--set", "global.postgresql.auth.database=x", "--set", "global.storageClass=legacy"]);
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it("with mysql.enabled=false renders nothing of the chart", async () => {
    const r = await template(["--set", "mysql.enabled=false"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(ofMysql(r.docs)).toEqual([]);
  });

  it("still refuses a misspelt key under mysql:, naming it", async () => {
    const r = await template(["--set", "mysql.replicaz=3"]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/replicaz/);
    const typed = await template(["--set", "global.imageRegistry=Not A Host"]);
    expect(typed.exitCode).not.toBe(0);
    expect(typed.stderr).toMatch(/imageRegistry/);
  });
});
