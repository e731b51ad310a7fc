// The benchmark's results: the median of each phase per system, a text table with each chart
// system's ratio to the peer (the tutorial), the JSON behind it, and a bar chart (SVG).
import { formatTable } from "../lib/table.js";
import { type CopyResult, throughput } from "./copy.js";
import { LOAD_RATE, LOAD_SECONDS, type LagResult } from "./lag.js";
import type { Phase, PhaseTimes } from "./phases.js";

export interface SystemResult {
  key: string;
  label: string;
  image: string;
  /** Every run's times, in seconds, by phase. */
  runs: PhaseTimes[];
  /** The median of the runs, by phase. */
  median: PhaseTimes;
  /** Every run's clone against a raw copy (none for a system that does not clone). */
  copies: CopyResult[];
  /** Every run's replica lag under load. */
  lags: LagResult[];
}

/** The median of VALUES (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** Each phase's median over RUNS. */
export function medians(phases: Phase[], runs: PhaseTimes[]): PhaseTimes {
  return Object.fromEntries(phases.map((p) => [p.key, median(runs.map((r) => r[p.key]))]));
}

/** One row per phase: the peer's median, then each other system's with its ratio to the peer. */
export function resultTable(phases: Phase[], results: SystemResult[], peerKey: string): string {
  const peer = results.find((r) => r.key === peerKey);
  const rows = phases.map((p) => {
    const row: Record<string, string> = { phase: p.label };
    for (const r of results) {
      const s = `${r.median[p.key].toFixed(1)} s`;
      row[r.label] = peer && r !== peer ? `${s} (${(r.median[p.key] / peer.median[p.key]).toFixed(2)}x)` : s;
    }
    return row;
  });
  return formatTable(rows);
}

/** One row per system that clones: the medians of clone and raw-copy throughput, and their ratio. */
export function copyTable(results: SystemResult[]): string {
  const rows = results
    .filter((r) => r.copies.length > 0)
    .map((r) => {
      const clone = median(r.copies.map((c) => throughput(c.cloneBytes, c.cloneSeconds)));
      const raw = median(r.copies.map((c) => throughput(c.rawBytes, c.rawSeconds)));
      const last = r.copies[r.copies.length - 1];
      return {
        system: r.label,
        "clone (MB/s)": clone.toFixed(1),
        "tar over the pod network (MB/s)": raw.toFixed(1),
        "clone / tar": raw > 0 ? clone / raw : Number.NaN,
        "last run: clone; tar": `${(last.cloneBytes / 1e6).toFixed(1)} MB in ${last.cloneSeconds.toFixed(1)} s; ${(last.rawBytes / 1e6).toFixed(1)} MB in ${last.rawSeconds.toFixed(1)} s`,
      };
    })
    .map((row) => ({ ...row, "clone / tar": Number.isNaN(row["clone / tar"]) ? "-" : `${(row["clone / tar"] * 100).toFixed(0)}%` }));
  return rows.length > 0 ? formatTable(rows) : "";
}

/** One row per system: the medians over the runs of the replicas' lag percentiles under load. */
export function lagTable(results: SystemResult[]): string {
  const ms = (r: SystemResult, f: (l: LagResult) => number) => `${median(r.lags.map(f)).toFixed(0)} ms`;
  return formatTable(
    results.map((r) => ({
      system: r.label,
      "lag p50": ms(r, (l) => l.p50),
      "lag p99": ms(r, (l) => l.p99),
      "lag max": ms(r, (l) => l.max),
      "samples (last run)": String(r.lags[r.lags.length - 1].samples),
      [`sysbench tps (target ${LOAD_RATE}, ${LOAD_SECONDS} s)`]: median(r.lags.map((l) => l.tps)).toFixed(0),
    })),
  );
}

const COLORS = ["#8c8c8c", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e"];
const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A grouped horizontal bar chart: one group per phase, one bar per system, seconds on a scale per phase. */
export function barChartSvg(phases: Phase[], results: SystemResult[], title: string): string {
  const barH = 16;
  const gap = 6;
  const groupGap = 28;
  const left = 20;
  const labelW = 190;
  const plotW = 460;
  const groupH = results.length * (barH + gap) + 20;
  const height = 60 + phases.length * (groupH + groupGap) + results.length * 20;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${left + labelW + plotW + 90}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${left}" y="24" font-size="15" font-weight="bold">${escape(title)}</text>`);
  let y = 50;
  for (const p of phases) {
    const max = Math.max(...results.map((r) => r.median[p.key]));
    out.push(`<text x="${left}" y="${y + 12}" font-weight="bold">${escape(p.label)} (median, seconds)</text>`);
    y += 20;
    results.forEach((r, i) => {
      const v = r.median[p.key];
      const w = max > 0 ? Math.max(1, (v / max) * plotW) : 1;
      out.push(`<text x="${left + labelW - 6}" y="${y + barH - 4}" text-anchor="end">${escape(r.label)}</text>`);
      out.push(`<rect x="${left + labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[i % COLORS.length]}"/>`);
      out.push(`<text x="${left + labelW + w + 6}" y="${y + barH - 4}">${v.toFixed(1)} s</text>`);
      y += barH + gap;
    });
    y += groupGap;
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
