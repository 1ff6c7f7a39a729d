import examples from "libphonenumber-js/mobile/examples";
import { getCountryCallingCode, type CountryCode } from "libphonenumber-js/max";
import { parsePhone } from "../../src/phone.js";
import type { Random } from "./random.js";

/**
 * Valid mobile numbers for the simulated traffic, as the phone stage sees them: numbers libphonenumber's
 * "max" metadata accepts as MOBILE (or NANP's FIXED_LINE_OR_MOBILE) in the intended country. Each
 * number is handed out once, so a "user" is a distinct person and an attack's numbers are distinct.
 */
export class Numbers {
  private readonly used = new Set<string>();

  constructor(private readonly rand: Random) {}

  /** A mobile number anywhere in `country`'s numbering plan (every mobile range, not one template). */
  mobile(country: CountryCode): string {
    return this.draw(country, `+${getCountryCallingCode(country)}`);
  }

  /** A mobile number of `country` under an E.164 `prefix` (e.g. "+998901": one narrow range). */
  under(country: CountryCode, prefix: string): string {
    return this.draw(country, prefix);
  }

  /**
   * The distinct detector prefixes (calling code + 3 national digits) of `country`'s mobile ranges,
   * found by sampling the plan: what an attacker rotating over a whole country walks through.
   */
  prefixes(country: CountryCode, samples = 20_000): string[] {
    const cc = `+${getCountryCallingCode(country)}`;
    const length = nationalLength(country);
    const out = new Set<string>();
    for (let i = 0; i < samples; i++) {
      const p = accept(country, cc + this.rand.digits(length));
      if (p) out.add(p.prefix);
    }
    return [...out].sort();
  }

  private draw(country: CountryCode, head: string): string {
    const cc = `+${getCountryCallingCode(country)}`;
    const free = cc.length + nationalLength(country) - head.length;
    if (free < 1) throw new Error(`prefix ${head} leaves no digits free in ${country}`);
    for (let i = 0; i < 200_000; i++) {
      const e164 = head + this.rand.digits(free);
      if (this.used.has(e164)) continue;
      if (accept(country, e164)) {
        this.used.add(e164);
        return e164;
      }
    }
    throw new Error(`no mobile number of ${country} under ${head}`);
  }
}

function nationalLength(country: CountryCode): number {
  const example = (examples as Record<string, string>)[country];
  if (!example) throw new Error(`no example mobile number for ${country}`);
  return example.length;
}

function accept(country: CountryCode, e164: string): { prefix: string } | null {
  const p = parsePhone(e164);
  if (!p.ok || p.phone.country !== country || p.phone.e164 !== e164) return null;
  return p.phone.lineType === "MOBILE" || p.phone.lineType === "FIXED_LINE_OR_MOBILE" ? p.phone : null;
}
