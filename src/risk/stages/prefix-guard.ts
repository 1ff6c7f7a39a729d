import type { FraudStore } from "../../store/fraud.js";
import type { PumpingDetector } from "../pumping-detector.js";
import { allow, block, type RiskContext, type RiskStage } from "../types.js";

/**
 * Stage 4, the prefix guard (Fraud Guard): refuses sends to a number under a blocked prefix with
 * 60410. Blocks are admins' (MANUAL, global or per service, optional expiry) or the pumping
 * detector's (AUTO, 12 hours, renewed while refused attempts keep coming): a prefix, a range, or a
 * country (its calling code, for that country's numbers only). A destination the admin set to ALLOW
 * is trusted: AUTO blocks do not apply to it, MANUAL ones still do.
 */
export function prefixGuardStage(store: FraudStore, detector: PumpingDetector): RiskStage {
  return {
    name: "prefix-guard",
    appliesTo: ["START"],
    fraud: true,
    async evaluate(ctx: RiskContext) {
      if (!ctx.phone) return allow;
      const entry = await store.findPrefixBlock(ctx.service.id, leadingParts(ctx.phone.e164), ctx.phone.country, ctx.now);
      if (!entry) return allow;
      if (entry.source === "AUTO") {
        if (ctx.geoPermission === "ALLOW") return allow;
        await detector.noteBlockedAttempt(ctx, entry);
      }
      const scope = entry.serviceId ? "service" : "global";
      const what = entry.country ? `country ${entry.country}` : `${entry.level === "RANGE" ? "range" : "prefix"} ${entry.prefix}`;
      return block("PREFIX_BLOCKED", `${what} blocked (${entry.source.toLowerCase()}, ${scope}): ${entry.reason}`);
    },
  };
}

/** Every leading part of an E.164 number ("+4", "+44", "+447", …): the prefixes that could block it. */
export function leadingParts(e164: string): string[] {
  const out: string[] = [];
  for (let i = 2; i <= e164.length; i++) out.push(e164.slice(0, i));
  return out;
}
