// Emit values.yaml from the parameters: every key preceded by a comment that starts with its name.
import { dump } from "js-yaml";
import { isPlainObject, type Parameter } from "./parameters.js";

const WIDTH = 100;

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + 2 + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}# ${l}`);
}

function scalar(v: unknown): string {
  return dump(v, { flowLevel: 0, lineWidth: -1 }).trimEnd();
}

/** values.yaml text for the parameters (in order), with HEADER comment lines first. */
export function renderValuesYaml(params: Parameter[], header: string[]): string {
  const out: string[] = header.map((h) => `# ${h}`);
  for (const p of params) {
    const indent = "  ".repeat(p.depth);
    if (p.depth === 0) out.push("");
    out.push(...wrap(`${p.key} -- ${p.description}`, indent));
    if (p.isSection) {
      out.push(`${indent}${p.key}:`);
      continue;
    }
    const v = p.default;
    const empty = (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
    if ((isPlainObject(v) || Array.isArray(v)) && !empty) {
      const body = dump(v, { lineWidth: -1 }).trimEnd().split("\n");
      out.push(`${indent}${p.key}:`, ...body.map((l) => `${indent}  ${l}`));
    } else {
      out.push(`${indent}${p.key}: ${scalar(v)}`);
    }
  }
  return out.join("\n") + "\n";
}
