import type { FraudStore } from "../../store/fraud.js";
import { defaultGeoPermission, NON_GEOGRAPHIC_COUNTRY } from "../geo-defaults.js";
import { allow, block, type RiskContext, type RiskStage } from "../types.js";

/**
 * Stage 3: the service's geo permissions for the destination country and channel, as Twilio's
 * Verify console offers them. An admin's choice wins; otherwise the default of `geo-defaults.ts`
 * (BLOCK for the high-risk list, MONITOR for the rest). BLOCK refuses with 60605. The permission is
 * left on the context: the prefix guard watches MONITOR destinations and trusts ALLOW ones.
 */
export function geoPermissionsStage(store: FraudStore): RiskStage {
  return {
    name: "geo",
    appliesTo: ["START"],
    fraud: true,
    async evaluate(ctx: RiskContext) {
      if (!ctx.phone || !ctx.channel) return allow;
      const country = ctx.phone.country ?? NON_GEOGRAPHIC_COUNTRY;
      const permission = (await store.getGeoPermission(ctx.service.id, country, ctx.channel)) ?? defaultGeoPermission(country, ctx.channel);
      ctx.geoPermission = permission;
      if (permission === "BLOCK") return block("GEO_BLOCKED", `geo permissions block ${ctx.channel} to ${country}`);
      return allow;
    },
  };
}
