// Emit the README's parameter table from the parameters.
import type { Parameter } from "./parameters.js";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** A Markdown table: one row per parameter that has a value (sections are folded into their keys). */
export function renderParametersTable(params: Parameter[]): string {
  const rows = ["| Parameter | Description | Default |", "|---|---|---|"];
  for (const p of params) {
    if (p.isSection) continue;
    rows.push(`| \`${p.path}\` | ${cell(p.description)} | \`${cell(JSON.stringify(p.default))}\` |`);
  }
  return rows.join("\n");
}
