// Turn the Kubernetes OpenAPI (swagger) spec of the pinned version, and the Prometheus Operator's
// CRDs (ServiceMonitor, PrometheusRule), into the per-kind JSON schemas kubeconform reads,
// strict: every object that lists its properties refuses others. Built once into the cache; no
// network.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { cacheDir, versions } from "../../scripts/lib/tools.js";

type Node = Record<string, unknown>;

/** IntOrString and Quantity are strings in the spec but accept numbers in manifests. */
const LOOSE: Record<string, Node> = {
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": { oneOf: [{ type: "string" }, { type: "integer" }] },
  "io.k8s.apimachinery.pkg.api.resource.Quantity": { oneOf: [{ type: "string" }, { type: "number" }] },
};

function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (typeof node !== "object" || node === null) return node;
  const out: Node = {};
  for (const [k, v] of Object.entries(node as Node)) {
    out[k] = strict(v);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** Names of the definitions NAME refers to, transitively (itself included). */
function closure(defs: Record<string, Node>, name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen;
  seen.add(name);
  const text = JSON.stringify(defs[name] ?? {});
  for (const m of text.matchAll(/"#\/definitions\/([^"]+)"/g)) closure(defs, m[1], seen);
  return seen;
}

/** Directory of schemas named like kubeconform's default layout: <kind>[-<group>]-<version>.json. */
export function k8sSchemaDir(): string {
  const version = versions().KUBERNETES_VERSION;
  const dir = join(cacheDir(), "k8s-schemas", `${version}-standalone-strict`);
  if (existsSync(join(dir, ".complete"))) return dir;
  const swaggerFile = join(cacheDir(), "k8s-openapi", version, "swagger.json");
  if (!existsSync(swaggerFile)) throw new Error(`${swaggerFile} is missing: run bash scripts/install-tools.sh openapi_spec`);
  const defs = JSON.parse(readFileSync(swaggerFile, "utf8")).definitions as Record<string, Node>;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const [name, def] of Object.entries(defs)) {
    const gvks = def["x-kubernetes-group-version-kind"] as { group: string; version: string; kind: string }[] | undefined;
    if (!gvks) continue;
    const needed: Record<string, unknown> = {};
    for (const dep of closure(defs, name)) needed[dep] = LOOSE[dep] ?? strict(defs[dep]);
    for (const { group, version: v, kind } of gvks) {
      const suffix = group ? `-${group.split(".")[0]}-${v}` : `-${v}`;
      const schema = { ...(strict(def) as Node), definitions: needed };
      writeFileSync(join(tmp, `${kind.toLowerCase()}${suffix}.json`), JSON.stringify(schema));
    }
  }
  writeFileSync(join(tmp, ".complete"), "");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

type Crd = { spec: { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema: { openAPIV3Schema: Node } }[] } };

/** Directory of the Prometheus Operator CRDs' schemas, in the same layout as k8sSchemaDir's. */
export function monitoringSchemaDir(): string {
  const version = versions().PROMETHEUS_OPERATOR_VERSION;
  const dir = join(cacheDir(), "k8s-schemas", `prometheus-operator-${version}-strict`);
  if (existsSync(join(dir, ".complete"))) return dir;
  const crdDir = join(cacheDir(), "prometheus-operator-crds", version);
  if (!existsSync(crdDir)) throw new Error(`${crdDir} is missing: run bash scripts/install-tools.sh monitoring_crds`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith(".yaml"))) {
    const crd = load(readFileSync(join(crdDir, file), "utf8")) as Crd;
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      const name = `${crd.spec.names.kind.toLowerCase()}-${crd.spec.group.split(".")[0]}-${v.name}.json`;
      writeFileSync(join(tmp, name), JSON.stringify(strict(v.schema.openAPIV3Schema)));
    }
  }
  writeFileSync(join(tmp, ".complete"), "");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
