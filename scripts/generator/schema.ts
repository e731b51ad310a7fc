// Load the values schema, check that it documents itself, derive the default values from it,
// and check those defaults against it. Pure functions but for loadSchema.
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";

export type JsonSchema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  $ref?: string;
  definitions?: Record<string, JsonSchema>;
  enum?: unknown[];
  [k: string]: unknown;
};

export class SchemaError extends Error {
  constructor(readonly problems: string[]) {
    super(`values schema: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

export function loadSchema(file: string): JsonSchema {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as JsonSchema;
  } catch (e) {
    throw new SchemaError([`${file}: ${(e as Error).message}`]);
  }
}

/** Follow a local "#/definitions/x" reference. */
export function resolveRef(root: JsonSchema, node: JsonSchema): JsonSchema {
  if (!node.$ref) return node;
  const m = /^#\/definitions\/(.+)$/.exec(node.$ref);
  const target = m ? root.definitions?.[m[1]] : undefined;
  if (!target) throw new SchemaError([`unresolvable $ref ${node.$ref}`]);
  return { ...target, ...node, $ref: undefined };
}

/** Every property must say what it is (description) and what it defaults to (default, or sub-properties that do). */
export function documentationProblems(root: JsonSchema): string[] {
  const problems: string[] = [];
  const walk = (node: JsonSchema, path: string) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const p = path ? `${path}.${key}` : key;
      if (!child.description) problems.push(`${p}: has no description`);
      if (child.properties) walk(child, p);
      else if (!("default" in child)) problems.push(`${p}: has no default`);
    }
  };
  walk(root, "");
  return problems;
}

/** The default values: each property's default, or the defaults of its sub-properties. */
export function defaultsOf(node: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if ("default" in child) out[key] = structuredClone(child.default);
    else if (child.properties) out[key] = defaultsOf(child);
  }
  return out;
}

/** Validate VALUES against the schema; one message per problem, naming the field. */
export function validationProblems(schema: JsonSchema, values: unknown): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  if (validate(values)) return [];
  return (validate.errors ?? []).map((e) => {
    const field = e.instancePath.replace(/^\//, "").replace(/\//g, ".") || "(top level)";
    const extra = e.keyword === "additionalProperties" ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : "";
    return `${field}: ${e.message}${extra}`;
  });
}
