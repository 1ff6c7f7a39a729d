import type { FraudStore } from "../../store/fraud.js";
import { allow, type RiskContext, type RiskStage } from "../types.js";

/**
 * Stage 2: numbers an admin trusts (`addSafeNumber`). It never blocks; it marks the context
 * `trusted`, and the runner then skips every fraud stage (geo, prefix guard, signals) for the
 * request. It is not a fraud stage itself, so it runs even under `riskCheck: DISABLE`, and the
 * limits still apply to a trusted number: trust opens the fraud gates, not the flood gates.
 */
export function safeListStage(store: FraudStore): RiskStage {
  return {
    name: "safe-list",
    appliesTo: ["START", "CHECK"],
    fraud: false,
    async evaluate(ctx: RiskContext) {
      if (ctx.phone && (await store.isSafeNumber(ctx.phone.e164))) ctx.trusted = true;
      return allow;
    },
  };
}
