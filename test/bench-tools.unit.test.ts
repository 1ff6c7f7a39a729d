import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { summarizeCpuProfile } from "../bench/lib/cpuprofile.js";
import { BENCH_COUNTRIES, PhoneSource } from "../bench/lib/phones.js";
import { parsePhone } from "../src/phone.js";

describe("the bench's phone numbers", () => {
  it("are distinct, valid for the phone stage, and spread over every bench country", () => {
    const source = new PhoneSource(3);
    source.prefill(600);
    const numbers = Array.from({ length: 600 }, () => source.take());
    expect(new Set(numbers).size).toBe(600);
    const countries = new Map<string, number>();
    for (const n of numbers) {
      const p = parsePhone(n);
      if (!p.ok) throw new Error(`${n}: ${p.reason}`);
      expect(["MOBILE", "FIXED_LINE_OR_MOBILE"]).toContain(p.phone.lineType);
      countries.set(p.phone.country!, (countries.get(p.phone.country!) ?? 0) + 1);
    }
    expect([...countries.keys()].sort()).toEqual([...BENCH_COUNTRIES].sort());
    for (const c of BENCH_COUNTRIES) expect(countries.get(c)).toBe(600 / BENCH_COUNTRIES.length);
  });

  it("are the same for the same seed and keep coming past the prefilled ones", () => {
    const a = new PhoneSource(5);
    const b = new PhoneSource(5);
    a.prefill(10);
    const fromA = Array.from({ length: 20 }, () => a.take());
    const fromB = Array.from({ length: 20 }, () => b.take());
    expect(fromA).toEqual(fromB);
  });
});

describe("the CPU profile summary", () => {
  it("adds self time per function, leaves out idle and module loading, and sums our own functions inclusively", () => {
    const dir = mkdtempSync(join(tmpdir(), "vg-prof-"));
    const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children });
    const profile = {
      nodes: [
        frame(1, "(root)", "", [2, 3, 4, 6]),
        frame(2, "(idle)", ""),
        frame(3, "start", "file:///app/dist/src/verification/lifecycle.js", [5]),
        frame(4, "import", "node:internal/modules/esm/loader", [7]),
        frame(5, "run", "file:///app/node_modules/drizzle-orm/better-sqlite3/session.js"),
        frame(6, "writev", ""),
        frame(7, "compile", "node:internal/vm"),
      ],
      // self: idle 100, start 10, run 30, writev 60, compile (start-up) 500 (µs)
      samples: [2, 3, 5, 6, 7],
      timeDeltas: [100, 10, 30, 60, 500],
    };
    const file = join(dir, "p.cpuprofile");
    writeFileSync(file, JSON.stringify(profile));
    try {
      const s = summarizeCpuProfile(file);
      expect(s.busyMs).toBeCloseTo(0.1);
      expect(s.idleMs).toBeCloseTo(0.1);
      expect(s.startupMs).toBeCloseTo(0.5);
      expect(s.topFunctions.map((f) => [f.fn.split(" ")[0], Math.round(f.selfPct)])).toEqual([
        ["writev", 60],
        ["run", 30],
        ["start", 10],
      ]);
      expect(s.byArea.find((a) => a.area === "drizzle-orm")?.selfPct).toBeCloseTo(30);
      expect(s.topOwnInclusive).toEqual([{ fn: "start (src/verification/lifecycle.js:1)", totalMs: 0.04, totalPct: 40 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
