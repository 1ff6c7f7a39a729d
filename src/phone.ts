import { parsePhoneNumberWithError, type CountryCode, type NumberType } from "libphonenumber-js/max";

/** A number as the risk stages and the store see it. */
export interface ParsedPhone {
  /** E.164, e.g. +14155552671. */
  e164: string;
  /** ISO 3166-1 alpha-2, e.g. "US"; null when the number belongs to a non-geographic code. */
  country: string | null;
  callingCode: string;
  /** libphonenumber's line type, or "UNKNOWN". */
  lineType: Exclude<NumberType, undefined> | "UNKNOWN";
  /**
   * The number's prefix for fraud tracking: calling code plus the first national digits, e.g.
   * "+44741" or "+2217". Pumping attacks rent ranges, so they share such a prefix.
   */
  prefix: string;
}

/** Digits of the national number kept in {@link ParsedPhone.prefix}. */
export const PREFIX_NATIONAL_DIGITS = 3;

export type ParsePhoneResult = { ok: true; phone: ParsedPhone } | { ok: false; reason: string };

/**
 * Parses with libphonenumber-js's "max" metadata (the build that knows line types and validates
 * properly). National formats are accepted only with a country hint; impossible or invalid numbers
 * are refused.
 */
export function parsePhone(raw: string, countryHint?: string): ParsePhoneResult {
  // A request parses its number more than once (the resend rules, the phone stage, a check after its
  // start), and parsing with the full metadata costs tens of microseconds: the last results are kept.
  const key = `${countryHint ?? ""}|${raw}`;
  const hit = parsed.get(key);
  if (hit) return hit;
  const result = parseUncached(raw, countryHint);
  if (parsed.size >= PARSED_KEPT) parsed.delete(parsed.keys().next().value!);
  parsed.set(key, result);
  return result;
}

/** Results kept by {@link parsePhone} (immutable values), oldest dropped first. */
const PARSED_KEPT = 2048;
const parsed = new Map<string, ParsePhoneResult>();

function parseUncached(raw: string, countryHint?: string): ParsePhoneResult {
  const input = raw.trim();
  if (!input || input.length > 32) return { ok: false, reason: "phone number is empty or too long" };
  if (!input.startsWith("+") && !countryHint) {
    return { ok: false, reason: "phone number must be in E.164 format (+ and country code) unless a country is given" };
  }
  try {
    const p = parsePhoneNumberWithError(input, countryHint ? { defaultCountry: countryHint.toUpperCase() as CountryCode } : undefined);
    if (!p.isPossible()) return { ok: false, reason: "phone number is not possible" };
    if (!p.isValid()) return { ok: false, reason: "phone number is not valid" };
    return {
      ok: true,
      phone: {
        e164: p.number,
        country: p.country ?? null,
        callingCode: p.countryCallingCode,
        lineType: p.getType() ?? "UNKNOWN",
        prefix: `+${p.countryCallingCode}${p.nationalNumber.slice(0, PREFIX_NATIONAL_DIGITS)}`,
      },
    };
  } catch {
    return { ok: false, reason: "phone number could not be parsed" };
  }
}

/**
 * Whether SMS to this line type is refused when a service skips landlines. US/CA numbers come back
 * FIXED_LINE_OR_MOBILE because NANP ranges do not tell; we treat those as possibly mobile and send,
 * since refusing them would block most North American users. Only a definite FIXED_LINE is refused.
 */
export function isLandline(lineType: ParsedPhone["lineType"]): boolean {
  return lineType === "FIXED_LINE";
}

/** Masks a number for logs: keeps the calling code and the last two digits (+44*******71). */
export function maskPhone(e164: string): string {
  if (e164.length <= 5) return "*".repeat(e164.length);
  return e164.slice(0, 3) + "*".repeat(e164.length - 5) + e164.slice(-2);
}
