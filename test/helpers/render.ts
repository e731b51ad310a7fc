// Render the generated chart with the real `helm template` and look documents up.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { expect } from "vitest";
import { helm, helmTemplate, type HelmResult, type TemplateOptions } from "../../scripts/lib/helm.js";
import { generatedChartDir } from "../../scripts/lib/tools.js";

export const chartDir = generatedChartDir;

/** The chart's numbered scenario values files (generated-chart/ci/NN-*-values.yaml). */
export function scenarioFiles(): string[] {
  return readdirSync(join(chartDir, "ci"))
    .filter((f) => f.endsWith("-values.yaml"))
    .sort()
    .map((f) => join(chartDir, "ci", f));
}

// Kubernetes objects are loosely typed here on purpose: tests assert on exact paths.
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };

/** Render the chart and parse every document. */
export async function render(o: TemplateOptions = {}): Promise<K8sObject[]> {
  const text = await helmTemplate(chartDir, o);
  return (loadAll(text) as (K8sObject | null)[]).filter((d): d is K8sObject => d !== null);
}

/** The one document of KIND (and NAME, when given); throws naming what was there otherwise. */
export function findDoc(docs: K8sObject[], kind: string, name?: string): K8sObject {
  const hits = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  if (hits.length !== 1) {
    const have = docs.map((d) => `${d.kind}/${d.metadata.name}`).join(", ");
    throw new Error(`expected one ${kind}${name ? `/${name}` : ""}, found ${hits.length} among: ${have}`);
  }
  return hits[0];
}

/** A container (or init container) of a pod spec by name. */
export function container(podSpec: K8sObject["spec"], name: string) {
  const all = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];
  const c = all.find((x: { name: string }) => x.name === name);
  if (!c) throw new Error(`no container ${name} among ${all.map((x: { name: string }) => x.name).join(", ")}`);
  return c;
}

/** An env var's value of a container, or undefined. */
export function envOf(c: { env?: { name: string; value?: string }[] }, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}

/** `helm template RELEASE <chart> ARGS...` (ARGS as given: --set, --set-string, --set-file, --values); never throws. */
export function templateWith(args: string[], release = "x"): Promise<HelmResult> {
  return helm(["template", release, chartDir, ...args], { allowFailure: true });
}

/** Helm must refuse the chart with ARGS (as release RELEASE); returns its message (stderr). */
export async function refusedWith(args: string[], release = "x"): Promise<string> {
  const r = await templateWith(args, release);
  expect(r.exitCode, `accepted: release ${release} ${args.join(" ")}`).not.toBe(0);
  return r.stderr;
}

/** Helm must refuse the chart with these --set values; returns its message (stderr). */
export function refused(...sets: string[]): Promise<string> {
  return refusedWith(sets.flatMap((s) => ["--set", s]));
}

/** Helm must render the chart with ARGS (as release RELEASE); returns the manifests. */
export async function acceptedWith(args: string[], release = "x"): Promise<string> {
  const r = await templateWith(args, release);
  expect(r.exitCode, `refused: release ${release} ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The NOTES `helm install --dry-run=client` prints for ARGS (release x). */
export async function notes(...args: string[]): Promise<string> {
  const out = (await helm(["install", "x", chartDir, "--dry-run=client", ...args])).stdout;
  return out.slice(out.indexOf("\nNOTES:\n"));
}
