import examples from "libphonenumber-js/mobile/examples";
import { getExampleNumber, type CountryCode } from "libphonenumber-js/max";
import { parsePhone } from "../../src/phone.js";

/**
 * Countries the load spreads over. Several calling codes and, inside each, many national prefixes,
 * so no single prefix or country dominates (the pumping detector and the per-number limits see
 * traffic shaped like a real user base, not one hot range).
 */
export const BENCH_COUNTRIES: CountryCode[] = ["US", "GB", "DE", "FR", "BR", "IN", "ES", "IT", "CA", "AU", "NL", "MX"];

/** A small deterministic PRNG (mulberry32): the same seed gives the same numbers on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Distinct numbers that libphonenumber's "max" metadata (the one the phone stage uses) accepts as
 * valid mobile (or NANP fixed-line-or-mobile) numbers, round-robin over the countries. Each starts
 * from the country's example mobile number, keeps its first national digit (the mobile range marker
 * in most plans) and randomises the rest; candidates the phone stage would refuse are dropped, so
 * every number reaches the later stages, and so are numbers that land in another country sharing the
 * calling code. Deterministic for a seed; never repeats a number.
 */
export class PhoneSource {
  private readonly rand: () => number;
  private readonly seen = new Set<string>();
  private readonly templates: { country: CountryCode; cc: string; national: string }[];
  private readonly buffer: string[] = [];
  private cursor = 0;
  private made = 0;

  constructor(seed = 7, countries: CountryCode[] = BENCH_COUNTRIES) {
    this.rand = prng(seed);
    this.templates = countries.map((c) => {
      const ex = getExampleNumber(c, examples);
      if (!ex) throw new Error(`no example number for ${c}`);
      return { country: c, cc: ex.countryCallingCode, national: ex.nationalNumber as string };
    });
  }

  /** Generates `count` more numbers ahead of time (so the load generator does not pay for it mid-run). */
  prefill(count: number): void {
    for (let i = 0; i < count; i++) this.buffer.push(this.generate());
  }

  /** The next unused number. */
  take(): string {
    if (this.cursor < this.buffer.length) return this.buffer[this.cursor++]!;
    return this.generate();
  }

  private generate(): string {
    // The country moves on only after a hit, so countries with sparse mobile ranges keep their share.
    const t = this.templates[this.made % this.templates.length]!;
    for (let tries = 0; tries < 10_000; tries++) {
      let national = t.national[0]!;
      for (let d = 1; d < t.national.length; d++) national += Math.floor(this.rand() * 10);
      const e164 = `+${t.cc}${national}`;
      if (this.seen.has(e164)) continue;
      const parsed = parsePhone(e164);
      // Shared calling codes (+1: the US, Canada and the Caribbean) must land in the intended country.
      if (!parsed.ok || parsed.phone.country !== t.country) continue;
      if (parsed.phone.lineType !== "MOBILE" && parsed.phone.lineType !== "FIXED_LINE_OR_MOBILE") continue;
      this.seen.add(e164);
      this.made++;
      return parsed.phone.e164;
    }
    throw new Error(`phone generator: no valid number found for +${t.cc}`);
  }
}
