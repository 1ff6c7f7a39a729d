/** One row of the results table; every cell carries its unit, so rows of different kinds can share it. */
export interface Row {
  benchmark: string;
  throughput: string;
  vsBaseline: string;
  p50: string;
  p99: string;
  errors: string;
  peakRss: string;
}

const HEAD: Row = { benchmark: "Benchmark", throughput: "Throughput", vsBaseline: "vs baseline", p50: "p50", p99: "p99", errors: "Errors", peakRss: "Peak RSS" };
const KEYS = Object.keys(HEAD) as (keyof Row)[];

/** A Markdown table (it reads fine in a terminal and pastes into the README as is). */
export function renderTable(rows: Row[]): string {
  const widths = KEYS.map((k) => Math.max(...[HEAD, ...rows].map((r) => r[k].length)));
  const line = (r: Row) => "| " + KEYS.map((k, i) => (i === 0 ? r[k].padEnd(widths[i]!) : r[k].padStart(widths[i]!))).join(" | ") + " |";
  const rule = "| " + widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ") + " |";
  return [line(HEAD), rule, ...rows.map(line)].join("\n");
}

export const fmt = {
  rate: (n: number, unit: string) => `${n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1)} ${unit}`,
  ms: (n: number) => (Number.isInteger(n) || n >= 100 ? `${Math.round(n).toLocaleString("en-US")} ms` : n >= 10 ? `${n.toFixed(1)} ms` : `${n.toFixed(2)} ms`),
  us: (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)} ms` : n >= 100 ? `${Math.round(n).toLocaleString("en-US")} µs` : `${n.toFixed(1)} µs`),
  pct: (n: number) => (n === 0 ? "0 %" : n < 0.001 ? `${(n * 100).toFixed(3)} %` : `${(n * 100).toFixed(1)} %`),
  mib: (bytes: number) => (bytes ? `${Math.round(bytes / 2 ** 20)} MiB` : "–"),
  ratio: (n: number) => `${n.toFixed(2)}×`,
  none: "–",
};

/** Percentile of a sorted array (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
