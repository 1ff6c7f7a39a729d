import { isLandline, parsePhone } from "../../phone.js";
import { allow, block, invalid, type RiskContext, type RiskStage } from "../types.js";

/**
 * Stage 1: parse and normalise the number (E.164, country, line type, prefix). An invalid number is
 * 60200; SMS to a definite landline is 60205 when the service skips landlines.
 */
export const phoneStage: RiskStage = {
  name: "phone",
  appliesTo: ["START", "CHECK"],
  fraud: false,
  evaluate(ctx: RiskContext) {
    const parsed = parsePhone(ctx.rawTo, ctx.countryHint);
    if (!parsed.ok) return invalid("to", parsed.reason);
    ctx.phone = parsed.phone;
    if (ctx.kind === "START" && ctx.channel === "SMS" && ctx.service.skipSmsToLandlines && isLandline(parsed.phone.lineType)) {
      return block("SMS_TO_LANDLINE", "SMS to a landline number");
    }
    return allow;
  },
};
