import { invalidParameter } from "../errors.js";
import type { PriceStore } from "../store/limits.js";
import type { Channel } from "../store/types.js";

/**
 * The price table: estimated cost in USD of one send (one SMS segment, or one voice call of about a
 * minute) per destination country and channel. The spend guard charges it against a service's daily
 * budget; fraud statistics use it to price blocked sends ("money saved").
 *
 * Defaults are ESTIMATES, rounded, of Twilio's public list prices for outbound SMS per country
 * (twilio.com/en-us/sms/pricing/<country>) as published around 2024–2025, written down from memory,
 * not fetched by this build. Real prices differ by carrier, sender type and contract, and change
 * often; set yours with the admin mutation `setPrice`. CALL defaults are coarser still: US/CA use
 * Twilio's ~$0.014/min outbound voice, every other country twice its SMS price (at least $0.05).
 * Countries not listed use the fallback row "*" ($0.10 SMS, $0.25 CALL), deliberately on the high
 * side so an unknown destination spends the budget early rather than late.
 */

/** Micro-dollars per dollar: prices and spend are stored as integers of this unit. */
export const MICROS_PER_USD = 1_000_000;

/** The fallback "country" used when a destination has no price of its own. */
export const FALLBACK_COUNTRY = "*";

/** USD per outbound SMS segment (estimates, see the module comment). Updated: 2026-01. */
export const DEFAULT_SMS_USD: Readonly<Record<string, number>> = {
  // North America
  US: 0.0083, CA: 0.0083, MX: 0.045,
  // Latin America
  BR: 0.05, AR: 0.07, CL: 0.05, CO: 0.03, PE: 0.06,
  // Europe
  GB: 0.05, IE: 0.08, FR: 0.08, DE: 0.09, ES: 0.08, IT: 0.08, NL: 0.1, BE: 0.09, PT: 0.04, AT: 0.09,
  CH: 0.07, SE: 0.06, NO: 0.07, DK: 0.05, FI: 0.09, PL: 0.045, CZ: 0.07, RO: 0.07, GR: 0.06, HU: 0.1,
  TR: 0.03, UA: 0.15, RU: 0.5, BY: 0.25,
  // Middle East and Africa
  IL: 0.12, AE: 0.07, SA: 0.05, IQ: 0.2, EG: 0.15, MA: 0.12, NG: 0.28, KE: 0.1, GH: 0.25, ZA: 0.04,
  // Asia and Oceania
  IN: 0.08, PK: 0.25, BD: 0.32, LK: 0.2, ID: 0.41, PH: 0.2, VN: 0.11, TH: 0.03, MY: 0.08, SG: 0.05,
  CN: 0.05, HK: 0.07, TW: 0.07, JP: 0.08, KR: 0.03, AU: 0.05, NZ: 0.13, MM: 0.3,
  // Central Asia and the Caucasus: expensive routes that SMS pumping favours
  AZ: 0.3, UZ: 0.3, TJ: 0.35, KG: 0.28, KZ: 0.2, AM: 0.25, GE: 0.15,
  [FALLBACK_COUNTRY]: 0.1,
};

/** USD per verification call where the SMS-derived estimate would be misleading. */
const CALL_USD_EXCEPTIONS: Readonly<Record<string, number>> = { US: 0.014, CA: 0.014, [FALLBACK_COUNTRY]: 0.25 };

/** The shipped default for a country and channel, or null when the country has no default. */
export function defaultPriceUsd(country: string, channel: Channel): number | null {
  const sms = DEFAULT_SMS_USD[country];
  if (sms === undefined) return null;
  if (channel === "SMS") return sms;
  return CALL_USD_EXCEPTIONS[country] ?? Math.max(0.05, round6(sms * 2));
}

/** One effective price: where it comes from and what it is. */
export interface PriceEntry {
  country: string;
  channel: Channel;
  usd: number;
  source: "DEFAULT" | "OVERRIDE";
}

/** A synchronous view of every price at one moment, for pricing many rows at once (statistics). */
export interface PriceLookup {
  /** USD for one send; unknown or null countries get the fallback price. */
  price(country: string | null, channel: Channel): number;
}

const CHANNELS: readonly Channel[] = ["SMS", "CALL"];

/**
 * Defaults plus admin overrides (stored, so every instance and every restart sees them). Reads go to
 * the store each time: one indexed lookup per send is cheap, and an admin's change applies at once.
 */
export class PriceTable {
  constructor(private readonly store: PriceStore) {}

  /** Estimated USD of one send of `channel` to `country` (ISO alpha-2; null or unknown = fallback). */
  async price(country: string | null, channel: Channel): Promise<number> {
    return (await this.priceMicros(country, channel)) / MICROS_PER_USD;
  }

  /** Same as {@link price}, in integer micro-dollars (what the spend guard adds up). */
  async priceMicros(country: string | null, channel: Channel): Promise<number> {
    const c = normalizeCountry(country);
    if (c) {
      const own = await this.store.getPriceOverride(c, channel);
      if (own) return own.usdMicros;
      const d = defaultPriceUsd(c, channel);
      if (d !== null) return toMicros(d);
    }
    const fallback = await this.store.getPriceOverride(FALLBACK_COUNTRY, channel);
    return fallback ? fallback.usdMicros : toMicros(defaultPriceUsd(FALLBACK_COUNTRY, channel)!);
  }

  /** Every effective price: each default country, each overridden country, both channels, sorted. */
  async list(): Promise<PriceEntry[]> {
    const overrides = new Map((await this.store.listPriceOverrides()).map((o) => [`${o.country}:${o.channel}`, o]));
    const countries = new Set([...Object.keys(DEFAULT_SMS_USD), ...[...overrides.values()].map((o) => o.country)]);
    const out: PriceEntry[] = [];
    for (const country of [...countries].sort()) {
      for (const channel of CHANNELS) {
        const o = overrides.get(`${country}:${channel}`);
        if (o) out.push({ country, channel, usd: o.usdMicros / MICROS_PER_USD, source: "OVERRIDE" });
        else {
          const d = defaultPriceUsd(country, channel) ?? defaultPriceUsd(FALLBACK_COUNTRY, channel)!;
          out.push({ country, channel, usd: d, source: "DEFAULT" });
        }
      }
    }
    return out;
  }

  /** A snapshot with a synchronous `price()`, for computing many prices in one go. */
  async snapshot(): Promise<PriceLookup> {
    const byKey = new Map((await this.list()).map((e) => [`${e.country}:${e.channel}`, e.usd]));
    return {
      price(country, channel) {
        const c = normalizeCountry(country);
        const own = c ? byKey.get(`${c}:${channel}`) : undefined;
        return own ?? byKey.get(`${FALLBACK_COUNTRY}:${channel}`)!;
      },
    };
  }

  /** Sets an admin price. `country` is ISO alpha-2 or "*" (the fallback); `usd` from 0 to 100. */
  async set(country: string, channel: Channel, usd: number, now: number): Promise<PriceEntry> {
    const c = country.trim().toUpperCase();
    if (c !== FALLBACK_COUNTRY && !/^[A-Z]{2}$/.test(c)) throw invalidParameter("country", "must be an ISO 3166-1 alpha-2 code or *");
    if (!Number.isFinite(usd) || usd < 0 || usd > 100) throw invalidParameter("usd", "must be from 0 to 100");
    await this.store.upsertPriceOverride({ country: c, channel, usdMicros: toMicros(usd), updatedAt: now });
    return { country: c, channel, usd: toMicros(usd) / MICROS_PER_USD, source: "OVERRIDE" };
  }

  /** Drops an admin price; the default (or the fallback) applies again. */
  async reset(country: string, channel: Channel): Promise<PriceEntry> {
    const c = country.trim().toUpperCase();
    await this.store.deletePriceOverride(c, channel);
    return { country: c, channel, usd: await this.price(c === FALLBACK_COUNTRY ? null : c, channel), source: "DEFAULT" };
  }
}

/** Dollars to integer micro-dollars (rounded to the nearest micro-dollar). */
export function toMicros(usd: number): number {
  return Math.round(usd * MICROS_PER_USD);
}

function round6(n: number): number {
  return Math.round(n * MICROS_PER_USD) / MICROS_PER_USD;
}

function normalizeCountry(country: string | null): string | null {
  if (!country) return null;
  const c = country.toUpperCase();
  return /^[A-Z]{2}$/.test(c) ? c : null;
}
