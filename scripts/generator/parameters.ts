// Walk the schema into the ordered list of parameters that values.yaml and the README table show.
import { type JsonSchema, resolveRef } from "./schema.js";

export interface Parameter {
  path: string;
  key: string;
  depth: number;
  description: string;
  default: unknown;
  /** True when the parameter has sub-parameters listed after it. */
  isSection: boolean;
}

/** Parameters in schema order; objects whose schema lists properties are expanded into them. */
export function parametersOf(root: JsonSchema): Parameter[] {
  const out: Parameter[] = [];
  const walk = (node: JsonSchema, prefix: string, depth: number, defaults: Record<string, unknown> | undefined) => {
    for (const [key, raw] of Object.entries(node.properties ?? {})) {
      const child = resolveRef(root, raw);
      const path = prefix ? `${prefix}.${key}` : key;
      const own = "default" in raw ? raw.default : defaults?.[key];
      // Inside an object default, a key the default leaves out is not a parameter of its own.
      if (defaults && !("default" in raw) && !(key in defaults) && !child.properties) continue;
      const expand = !!child.properties && (own === undefined || isPlainObject(own));
      out.push({ path, key, depth, description: raw.description ?? child.description ?? "", default: own, isSection: expand });
      if (expand) walk(child, path, depth + 1, own as Record<string, unknown> | undefined);
    }
  };
  walk(root, "", 0, undefined);
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
