import { readFileSync } from "node:fs";

/** The parts of a V8 .cpuprofile (as `node --cpu-prof` writes it) the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  /** `name (file:line)`, paths shortened to the package or to our own source file. */
  fn: string;
  /** Where it lives: an npm package, `verify-guard`, `node`, or a V8 pseudo-frame. */
  area: string;
  selfMs: number;
  /** Share of the busy (non-idle) time. */
  selfPct: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  /** Loading modules at start-up: left out of the shares, which describe the server under load. */
  startupMs: number;
  topFunctions: HotFunction[];
  /** Self time grouped by package / area, largest first. */
  byArea: { area: string; selfMs: number; selfPct: number }[];
  /**
   * verify-guard's own functions by inclusive time (their synchronous part, which includes every
   * SQLite call: better-sqlite3 is synchronous). Shows which of our modules drives the cost.
   */
  topOwnInclusive: { fn: string; totalMs: number; totalPct: number }[];
}

function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "node";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const parts = url.slice(nm + "/node_modules/".length).split("/");
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith("node:")) return "node";
  if (url.includes("/dist/src/") || url.includes("/src/")) return "verify-guard";
  return "other";
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) return url.slice(nm + "/node_modules/".length);
  const d = url.lastIndexOf("/dist/");
  if (d >= 0) return url.slice(d + "/dist/".length);
  return url.replace(/^file:\/\//, "");
}

/**
 * Self time per function and per package from a .cpuprofile file, as shares of the busy time
 * (idle and start-up module loading left out).
 */
export function summarizeCpuProfile(file: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const startupMemo = new Map<number, boolean>();
  const isStartup = (id: number): boolean => {
    const known = startupMemo.get(id);
    if (known !== undefined) return known;
    const url = byId.get(id)?.callFrame.url ?? "";
    const up = parent.get(id);
    const r = url.startsWith("node:internal/modules/") || (up !== undefined && isStartup(up));
    startupMemo.set(id, r);
    return r;
  };
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the gap before sample i; attributing it to sample i is how DevTools does it.
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));

  const fns = new Map<string, { area: string; us: number }>();
  const areas = new Map<string, number>();
  let idleUs = 0;
  let startupUs = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    if (isStartup(id)) {
      startupUs += us;
      continue;
    }
    const area = areaOf(url, functionName);
    const key = url ? `${functionName || "(anonymous)"} (${shortUrl(url)}:${lineNumber + 1})` : functionName || "(anonymous)";
    const f = fns.get(key) ?? { area, us: 0 };
    f.us += us;
    fns.set(key, f);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = [...fns.values()].reduce((a, f) => a + f.us, 0);

  // Inclusive time of our own functions: each busy sample counts once for every distinct own frame on its stack.
  const own = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n || n.callFrame.functionName === "(idle)" || isStartup(id)) continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (areaOf(f.url, f.functionName) !== "verify-guard") continue;
      const key = `${f.functionName || "(anonymous)"} (${shortUrl(f.url)}:${f.lineNumber + 1})`;
      if (seen.has(key)) continue;
      seen.add(key);
      own.set(key, (own.get(key) ?? 0) + us);
    }
  }
  const pct = (us: number) => (busyUs ? (100 * us) / busyUs : 0);
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    startupMs: startupUs / 1000,
    topFunctions: [...fns.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([fn, f]) => ({ fn, area: f.area, selfMs: f.us / 1000, selfPct: pct(f.us) })),
    topOwnInclusive: [...own.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => ({ fn, totalMs: us / 1000, totalPct: pct(us) })),
    byArea: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: us / 1000, selfPct: pct(us) })),
  };
}
