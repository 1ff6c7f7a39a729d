import type { Clock } from "../clock.js";
import type { Logger } from "../log.js";
import { DAY_MS, HOUR_MS, type StatsStore } from "../store/stats.js";

/** A service's record in one destination country over the history period (14 days by default). */
export interface CountryHistory {
  /** The most converted sends in one UTC hour: the country detector's hourly baseline. */
  hourMax: number;
  /** The most converted sends in one UTC day: its daily baseline. */
  dayMax: number;
  /** Sends (allowed starts) and how many of them converted. */
  sends: number;
  converted: number;
}

/**
 * When a destination's history counts as healthy (its sends draw on the protected share of the
 * budget, spend-guard.ts; the country detector wants twice its floor there): at least `minConverted`
 * converted sends, and at least `minConversion` of its sends converted. Real users convert 80–95 %,
 * so a country a service really serves earns it with its first two users; pumped numbers convert
 * none, so one real phone among them is soon outweighed.
 */
export const HEALTHY = { minConverted: 2, minConversion: 0.5 } as const;

export function isHealthy(h: CountryHistory | undefined): boolean {
  return !!h && h.converted >= HEALTHY.minConverted && h.converted / h.sends >= HEALTHY.minConversion;
}

export interface ConversionHistoryOptions {
  /** How far back the history reaches. @default 14 days */
  periodMs?: number;
  /** How old a service's loaded history may get before it is read again. @default 5 minutes */
  refreshMs?: number;
}

interface Entry {
  loadedAt: number;
  value: Promise<ReadonlyMap<string, CountryHistory>>;
  refreshing: boolean;
}

/**
 * Each service's own conversion history per destination country: the adaptive baselines of the
 * country detector (the busiest converted hour and day of the last 14 days, as Authgear keeps them
 * country by country) and the health that decides a destination's budget share.
 *
 * It is a query over the decision log's hourly roll-ups (fraud statistics and this read the same
 * records), kept in process per service and read again when older than `refreshMs`, by the
 * injected clock. A stale entry is served while the next one loads, so no request waits on it after
 * the first. A history changes slowly; five minutes of lag only delays how fast a new country earns
 * its protected share or a launch raises its own baseline, and the conversion rules never lag.
 */
export class ConversionHistory {
  private readonly periodMs: number;
  private readonly refreshMs: number;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly d: { stats: Pick<StatsStore, "aggregate">; clock: Clock; log?: Logger },
    opts: ConversionHistoryOptions = {},
  ) {
    this.periodMs = opts.periodMs ?? 14 * DAY_MS;
    this.refreshMs = opts.refreshMs ?? 5 * 60_000;
  }

  /** The service's history per country (ISO alpha-2); a country it never sent to is absent. */
  of(serviceId: string): Promise<ReadonlyMap<string, CountryHistory>> {
    const now = this.d.clock.now();
    const hit = this.entries.get(serviceId);
    if (hit && (now - hit.loadedAt < this.refreshMs || hit.refreshing)) return hit.value;
    if (!hit) {
      const value = this.load(serviceId, now);
      this.entries.set(serviceId, { loadedAt: now, value, refreshing: false });
      value.catch(() => this.entries.delete(serviceId));
      return value;
    }
    // Stale: serve it, and replace it once the next one is in.
    hit.refreshing = true;
    this.load(serviceId, now).then(
      (fresh) => this.entries.set(serviceId, { loadedAt: now, value: Promise.resolve(fresh), refreshing: false }),
      (err: unknown) => {
        hit.refreshing = false;
        this.d.log?.warn("conversion history could not be refreshed; serving the previous one", { serviceId, error: String(err) });
      },
    );
    return hit.value;
  }

  /** Forgets every loaded history (tests that rewrite the past; an admin action that should show at once). */
  clear(): void {
    this.entries.clear();
  }

  private async load(serviceId: string, now: number): Promise<ReadonlyMap<string, CountryHistory>> {
    const from = now - (now % HOUR_MS) - this.periodMs;
    const rows = await this.d.stats.aggregate({ serviceId, from, until: now + 1, groupBy: ["COUNTRY", "HOUR"] });
    const out = new Map<string, CountryHistory>();
    const days = new Map<string, number>();
    for (const r of rows) {
      if (!r.country || r.hour === null) continue;
      const h = out.get(r.country) ?? { hourMax: 0, dayMax: 0, sends: 0, converted: 0 };
      h.sends += r.sends;
      h.converted += r.converted;
      h.hourMax = Math.max(h.hourMax, r.converted);
      const day = `${r.country}:${r.hour - (r.hour % DAY_MS)}`;
      const dayConverted = (days.get(day) ?? 0) + r.converted;
      days.set(day, dayConverted);
      h.dayMax = Math.max(h.dayMax, dayConverted);
      out.set(r.country, h);
    }
    return out;
  }
}
