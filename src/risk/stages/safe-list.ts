import type { FraudStore } from "../../store/fraud.js";
import { allow, type RiskContext, type RiskStage } from "../types.js";

/** The three free digits of a safe-listed range, as Twilio's Global Safe List writes them. */
export const SAFE_RANGE_SUFFIX = "xxx";
/** Twilio takes ranges of numbers of at least 10 characters, "+" and calling code included. */
const MIN_RANGE_NUMBER_LENGTH = 10;

/**
 * The safe-list entry of the 1,000-number range a number belongs to: the number with its last three
 * digits written `xxx` (`+14155551234` → `+14155551xxx`), or null for numbers too short to have one.
 */
export function safeRangeOf(e164: string): string | null {
  return e164.length >= MIN_RANGE_NUMBER_LENGTH ? e164.slice(0, -3) + SAFE_RANGE_SUFFIX : null;
}

/**
 * Stage 2: numbers an admin trusts (`addSafeNumber`), one by one or by 1,000-number range (an
 * operator's own test ranges, as Twilio's Global Safe List takes them). It never blocks; it marks the
 * context `trusted`, and the runner then skips every fraud stage (geo, prefix guard, signals) for the
 * request. It is not a fraud stage itself, so it runs even under `riskCheck: DISABLE`, and the limits
 * still apply to a trusted number: trust opens the fraud gates, not the flood gates.
 */
export function safeListStage(store: FraudStore): RiskStage {
  return {
    name: "safe-list",
    appliesTo: ["START", "CHECK"],
    fraud: false,
    async evaluate(ctx: RiskContext) {
      if (!ctx.phone) return allow;
      const range = safeRangeOf(ctx.phone.e164);
      if ((await store.isSafeNumber(ctx.phone.e164)) || (range !== null && (await store.isSafeNumber(range)))) ctx.trusted = true;
      return allow;
    },
  };
}
