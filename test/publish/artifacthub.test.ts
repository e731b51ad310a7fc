// The metadata Artifact Hub reads is in its documented format (artifacthub/hub
// docs/helm_annotations.md and docs/metadata/artifacthub-repo.yml), so the listing shows
// the images, license, links and changelog instead of silently dropping them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/tools.js";
import { chartDir, render } from "../helpers/render.js";
import { FIXED_PASSWORDS } from "../helpers/publish.js";

const chart = load(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as { annotations: Record<string, string> };
const ann = chart.annotations;
/** An annotation whose value is a YAML document in a string, parsed. */
const yamlAnnotation = (k: string) => load(ann[k]) as Record<string, unknown>[];

// The annotations Artifact Hub documents for Helm charts.
const KNOWN = [
  "alternativeName", "category", "changes", "containsSecurityUpdates", "images", "crds", "crdsExamples",
  "license", "links", "maintainers", "operator", "operatorCapabilities", "prerelease", "recommendations",
  "screenshots", "signKey",
].map((k) => `artifacthub.io/${k}`);
const URL_RE = /^https?:\/\/\S+$/;

describe("Chart.yaml annotations for Artifact Hub", () => {
  it("uses only annotations Artifact Hub documents", () => {
    const ours = Object.keys(ann).filter((k) => k.startsWith("artifacthub.io/"));
    expect(ours.filter((k) => !KNOWN.includes(k))).toEqual([]);
  });

  it("artifacthub.io/license is an SPDX identifier", () => {
    // SPDX license identifiers: letters, digits, '.', '-', '+' (e.g. Apache-2.0, GPL-2.0-or-later).
    expect(ann["artifacthub.io/license"]).toMatch(/^[A-Za-z0-9.+-]+$/);
    expect(ann["artifacthub.io/license"]).toBe("Apache-2.0");
  });

  it("boolean annotations are the strings \"true\" or \"false\"", () => {
    for (const k of ["operator", "prerelease", "containsSecurityUpdates"].map((k) => `artifacthub.io/${k}`)) {
      if (k in ann) expect(ann[k], k).toMatch(/^(true|false)$/);
    }
  });

  it("artifacthub.io/images lists name and a tagged (not latest) image for each entry", () => {
    const images = yamlAnnotation("artifacthub.io/images");
    expect(images.length).toBeGreaterThan(0);
    for (const i of images) {
      expect(Object.keys(i).filter((k) => !["name", "image", "whitelisted", "platforms"].includes(k))).toEqual([]);
      expect(i.name).toEqual(expect.any(String));
      expect(i.image).toMatch(/^[a-z0-9.\-/:]+:[A-Za-z0-9._-]+$/);
      expect(i.image).not.toMatch(/:latest$/);
    }
  });

  for (const scenario of ["defaults", "03-mariadb-values.yaml"]) {
    it(`artifacthub.io/images names every image the chart runs with ${scenario}`, async () => {
      const valuesFiles = scenario === "defaults" ? [] : [join(chartDir, "ci", scenario)];
      const sts = (await render({ set: FIXED_PASSWORDS, valuesFiles })).find((d) => d.kind === "StatefulSet")!;
      const pod = sts.spec.template.spec;
      const ran = new Set<string>([...(pod.initContainers ?? []), ...pod.containers].map((c: { image: string }) => c.image));
      const listed = yamlAnnotation("artifacthub.io/images").map((i) => i.image);
      for (const image of ran) expect(listed).toContain(image);
    });
  }

  it("artifacthub.io/links are name and http(s) url pairs", () => {
    const links = yamlAnnotation("artifacthub.io/links");
    expect(links.length).toBeGreaterThan(0);
    for (const l of links) {
      expect(Object.keys(l).sort()).toEqual(["name", "url"]);
      expect(l.url).toMatch(URL_RE);
    }
  });

  it("artifacthub.io/changes entries have a documented kind and a description", () => {
    const changes = yamlAnnotation("artifacthub.io/changes");
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) {
      expect(["added", "changed", "deprecated", "removed", "fixed", "security"]).toContain(c.kind);
      expect(c.description).toEqual(expect.any(String));
      for (const l of (c.links ?? []) as Record<string, string>[]) expect(l.url).toMatch(URL_RE);
    }
  });

  it("artifacthub.io/category, when set, is one of the documented categories", () => {
    const cats = ["ai-machine-learning", "database", "integration-delivery", "monitoring-logging", "networking", "security", "storage", "streaming-messaging", "skip-prediction"];
    if ("artifacthub.io/category" in ann) expect(cats).toContain(ann["artifacthub.io/category"]);
  });
});

describe("artifacthub-repo.yml", () => {
  const repo = load(readFileSync(join(projectRoot, "scripts/publish/artifacthub-repo.yml"), "utf8")) as Record<string, unknown>;

  it("has only the documented keys repositoryID, owners and ignore", () => {
    expect(Object.keys(repo).filter((k) => !["repositoryID", "owners", "ignore"].includes(k))).toEqual([]);
  });

  it("names owners by name and email, and repositoryID (when set) is a UUID", () => {
    for (const o of (repo.owners ?? []) as Record<string, string>[]) {
      expect(o.name).toEqual(expect.any(String));
      expect(o.email).toMatch(/^[^@\s]+@[^@\s]+$/);
    }
    if (repo.repositoryID !== undefined) expect(repo.repositoryID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
