import { percentile } from "./table.js";

/** Per-call timings of an async operation, in microseconds. */
export interface Timing {
  iterations: number;
  /** Calls per second of timed work (1e6 / mean). */
  perSecond: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
}

/**
 * Runs `op(i)` `warmup` times untimed (JIT, caches), then `iterations` times, timing each call with
 * the high-resolution clock (and running `after(i)` untimed between calls). Sequential on purpose:
 * the figure is the cost of one decision.
 */
export async function timeEach(
  iterations: number,
  warmup: number,
  op: (i: number) => Promise<unknown> | unknown,
  /** Untimed work after each call (e.g. what the lifecycle does with a decision). */
  after?: (i: number) => Promise<unknown> | unknown,
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) {
    await op(i);
    await after?.(i);
  }
  const us = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const a = process.hrtime.bigint();
    await op(warmup + i);
    us[i] = Number(process.hrtime.bigint() - a) / 1000;
    await after?.(warmup + i);
  }
  const totalUs = us.reduce((a, x) => a + x, 0);
  const sorted = Array.from(us).sort((x, y) => x - y);
  return {
    iterations,
    perSecond: iterations / (totalUs / 1e6),
    meanUs: totalUs / iterations,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
  };
}
