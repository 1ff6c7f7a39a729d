import type { CountryCode } from "libphonenumber-js/max";
import { DAY, HOUR, type Sim } from "./lib/sim.js";

/**
 * The legitimate population: 30 countries, each with its share of the users, its UTC offset (users
 * come by day, local time) and how many of its users finish (80–95 %; the rest abandon).
 */
export const LEGIT_COUNTRIES: { country: CountryCode; share: number; utcOffset: number; conversion: number }[] = [
  { country: "US", share: 18, utcOffset: -5, conversion: 0.9 },
  { country: "GB", share: 8, utcOffset: 0, conversion: 0.92 },
  { country: "IN", share: 8, utcOffset: 5, conversion: 0.82 },
  { country: "BR", share: 7, utcOffset: -3, conversion: 0.85 },
  { country: "DE", share: 6, utcOffset: 1, conversion: 0.93 },
  { country: "FR", share: 6, utcOffset: 1, conversion: 0.9 },
  { country: "MX", share: 5, utcOffset: -6, conversion: 0.84 },
  { country: "CA", share: 4, utcOffset: -5, conversion: 0.91 },
  { country: "ES", share: 4, utcOffset: 1, conversion: 0.88 },
  { country: "IT", share: 4, utcOffset: 1, conversion: 0.87 },
  { country: "NL", share: 3, utcOffset: 1, conversion: 0.95 },
  { country: "PL", share: 3, utcOffset: 1, conversion: 0.89 },
  { country: "JP", share: 3, utcOffset: 9, conversion: 0.94 },
  { country: "AU", share: 3, utcOffset: 10, conversion: 0.92 },
  { country: "AR", share: 2, utcOffset: -3, conversion: 0.8 },
  { country: "CO", share: 2, utcOffset: -5, conversion: 0.81 },
  { country: "SE", share: 2, utcOffset: 1, conversion: 0.95 },
  { country: "ZA", share: 2, utcOffset: 2, conversion: 0.83 },
  { country: "AE", share: 2, utcOffset: 4, conversion: 0.86 },
  { country: "SG", share: 2, utcOffset: 8, conversion: 0.93 },
  { country: "KE", share: 1, utcOffset: 3, conversion: 0.8 },
  { country: "PT", share: 1, utcOffset: 0, conversion: 0.9 },
  { country: "IE", share: 1, utcOffset: 0, conversion: 0.92 },
  { country: "BE", share: 1, utcOffset: 1, conversion: 0.91 },
  { country: "CH", share: 1, utcOffset: 1, conversion: 0.94 },
  { country: "AT", share: 1, utcOffset: 1, conversion: 0.93 },
  { country: "DK", share: 1, utcOffset: 1, conversion: 0.95 },
  { country: "NO", share: 1, utcOffset: 1, conversion: 0.94 },
  { country: "FI", share: 1, utcOffset: 2, conversion: 0.93 },
  { country: "NZ", share: 1, utcOffset: 12, conversion: 0.9 },
];

const TOTAL_SHARE = LEGIT_COUNTRIES.reduce((n, c) => n + c.share, 0);

/** Relative traffic by local hour: quiet at night, a broad daytime hump; averages 1 over a day. */
function diurnal(localHour: number): number {
  const h = ((localHour % 24) + 24) % 24;
  return h >= 6 && h < 23 ? 0.25 + 1.6 * Math.sin((Math.PI * (h - 6)) / 17) : 0.25;
}
const DIURNAL_MEAN = Array.from({ length: 24 }, (_, h) => diurnal(h)).reduce((a, b) => a + b, 0) / 24;

/**
 * Schedules legitimate users over [from, until): `perDay` users a day on average, split by country
 * share and local time of day; `boost` multiplies one country's rate over a stretch (a launch).
 */
export function legitTraffic(sim: Sim, from: number, until: number, perDay: number, boost?: { country: CountryCode; factor: number; from: number; until: number }): void {
  for (const c of LEGIT_COUNTRIES) {
    for (let hourStart = from; hourStart < until; hourStart += HOUR) {
      const utcHour = new Date(hourStart).getUTCHours();
      let rate = (perDay * (c.share / TOTAL_SHARE) * (diurnal(utcHour + c.utcOffset) / DIURNAL_MEAN)) / DAY;
      if (boost && boost.country === c.country && hourStart >= boost.from && hourStart < boost.until) rate *= boost.factor;
      // A Poisson process within the hour.
      for (let t = hourStart + sim.rand.exponential(rate); t < Math.min(hourStart + HOUR, until); t += sim.rand.exponential(rate)) {
        sim.user(c.country, Math.round(t), { conversion: c.conversion });
      }
    }
  }
}

/** Spreads `attempts` pumped sends evenly (with jitter) over [from, from + durationMs). */
export function pumpOver(sim: Sim, attempts: number, from: number, durationMs: number, target: (i: number) => { to: string; ip: string }): void {
  const gap = durationMs / attempts;
  for (let i = 0; i < attempts; i++) {
    const { to, ip } = target(i);
    sim.pump(to, ip, Math.round(from + i * gap + sim.rand.next() * gap * 0.5));
  }
}

/** A botnet's addresses: pumped traffic rarely comes from one IP (the limits would catch that). */
export function botnetIp(i: number): string {
  const n = i % 4096;
  return `100.64.${n >> 8}.${n & 255}`;
}
