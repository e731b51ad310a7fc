// Plain text tables for the commands' output (demo, benchmark).

/** ROWS as a plain text table: a header line, a rule, one line per row, columns left-aligned. */
export function formatTable(rows: Record<string, string>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length));
  const line = (cells: string[]) => cells.map((v, i) => v.padEnd(width(cols[i]))).join("  ").trimEnd();
  return [line(cols), line(cols.map((c) => "-".repeat(width(c)))), ...rows.map((r) => line(cols.map((c) => r[c] ?? "")))].join("\n");
}
