import type { ProtectionLevel } from "../../store/types.js";
import type { NumberKey } from "../number-key.js";
import { levelOf } from "../protection-levels.js";
import { SIGNALS, blockKey, numberBlock, signalAt, signalIp, signalKeys, type SignalId } from "../signals.js";
import { allow, block, type RiskContext, type RiskStage } from "../types.js";
import type { WindowCounter } from "../window-counter.js";

/** What a signal's test reads: the counters, the request, the service's level, the number hasher. */
interface SignalInput {
  counter: WindowCounter;
  ctx: RiskContext;
  level: ProtectionLevel;
  numberKey: NumberKey;
}

/** One signal's test: a finding (why it fires) or null. Reads counters only; the recorder writes them. */
type SignalCheck = (input: SignalInput) => Promise<string | null>;

const minutes = (ms: number) => (ms >= 86_400_000 && ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${ms / 60_000} min`);

/** The test of each signal of `SIGNALS`, keyed alike. */
export const SIGNAL_CHECKS: Record<SignalId, SignalCheck> = {
  async ipCountries({ counter, ctx, level }) {
    const s = signalAt("ipCountries", level);
    const ip = signalIp(ctx);
    const country = ctx.phone?.country;
    if (!ip || !country) return null;
    const svc = ctx.service.id;
    if ((await counter.count(signalKeys.ipCountry(svc, ip, country), ctx.now - s.windowMs, ctx.now)) > 0) return null;
    const distinct = await counter.count(signalKeys.ipNewCountry(svc, ip), ctx.now - s.windowMs, ctx.now);
    return distinct >= s.maxDistinct ? `this IP already asked for ${distinct} countries in ${minutes(s.windowMs)}; ${country} would be one more` : null;
  },

  async ipPrefixes({ counter, ctx, level }) {
    const s = signalAt("ipPrefixes", level);
    const ip = signalIp(ctx);
    if (!ip || !ctx.phone) return null;
    const svc = ctx.service.id;
    if ((await counter.count(signalKeys.ipPrefix(svc, ip, ctx.phone.prefix), ctx.now - s.windowMs, ctx.now)) > 0) return null;
    const distinct = await counter.count(signalKeys.ipNewPrefix(svc, ip), ctx.now - s.windowMs, ctx.now);
    return distinct >= s.maxDistinct ? `this IP already asked for ${distinct} prefixes in ${minutes(s.windowMs)}` : null;
  },

  async sequentialNumbers({ counter, ctx, level, numberKey }) {
    const s = signalAt("sequentialNumbers", level);
    if (!ctx.phone) return null;
    const svc = ctx.service.id;
    const from = ctx.now - s.windowMs;
    const b = numberBlock(ctx.phone.e164);
    let open = 0;
    for (const nb of [b - 1, b, b + 1]) {
      const key = blockKey(numberKey, nb);
      const sent = await counter.count(signalKeys.seqBlock(svc, key), from, ctx.now);
      if (sent === 0) continue;
      open += Math.max(0, sent - (await counter.count(signalKeys.seqBlockApproved(svc, key), from, ctx.now)));
    }
    // A resend: this number is already among them and is no neighbour of itself.
    if (open > 0 && (await counter.count(signalKeys.seqNumber(svc, numberKey(ctx.phone.e164)), from, ctx.now)) > 0) open -= 1;
    return open >= s.maxNeighbours ? `${open} unapproved numbers within ${2 * s.blockSize} of this one in ${minutes(s.windowMs)}` : null;
  },

  async uncheckedSendsIp({ counter, ctx, level }) {
    const s = signalAt("uncheckedSendsIp", level);
    const ip = signalIp(ctx);
    if (!ip) return null;
    const svc = ctx.service.id;
    return uncheckedRatio(counter, ctx.now, s, signalKeys.sendsByIp(svc, ip), signalKeys.checksByIp(svc, ip), "this IP");
  },

  async uncheckedSendsPrefix({ counter, ctx, level }) {
    const s = signalAt("uncheckedSendsPrefix", level);
    if (!ctx.phone) return null;
    const svc = ctx.service.id;
    const p = ctx.phone.prefix;
    return uncheckedRatio(counter, ctx.now, s, signalKeys.sendsByPrefix(svc, p), signalKeys.checksByPrefix(svc, p), p);
  },
};

async function uncheckedRatio(
  counter: WindowCounter,
  now: number,
  s: { windowMs: number; graceMs: number; minSends: number; minCheckedRatio: number },
  sendsKey: string,
  checksKey: string,
  what: string,
): Promise<string | null> {
  // Sends younger than the grace period have not had their chance to be checked yet.
  const sends = await counter.count(sendsKey, now - s.windowMs, now - s.graceMs);
  if (sends < s.minSends) return null;
  const checks = await counter.count(checksKey, now - s.windowMs, now);
  return checks / sends < s.minCheckedRatio ? `${checks} checks for ${sends} sends to ${what} in ${minutes(s.windowMs)}` : null;
}

/**
 * Stage 5: behavioural signals (see `risk/signals.ts` for the table of signals, their thresholds and
 * whether each blocks or only records, at the service's protection level). On a START it runs every
 * signal: record-only findings go to the decision row's shadow column, the first blocking one refuses
 * with 60410. On a CHECK it counts the check (for the unchecked-sends signals) and always allows.
 */
export function signalsStage(deps: { counter: WindowCounter; numberKey: NumberKey }): RiskStage {
  const { counter, numberKey } = deps;
  return {
    name: "signals",
    appliesTo: ["START", "CHECK"],
    fraud: true,
    async evaluate(ctx: RiskContext) {
      if (!ctx.phone) return allow;
      if (ctx.kind === "CHECK") {
        const ip = signalIp(ctx);
        const keys = [signalKeys.checksByPrefix(ctx.service.id, ctx.phone.prefix)];
        if (ip) keys.push(signalKeys.checksByIp(ctx.service.id, ip));
        await counter.incrMany(keys, ctx.now);
        return allow;
      }
      let blocked: string | null = null;
      const level = levelOf(ctx);
      for (const id of Object.keys(SIGNALS) as SignalId[]) {
        const finding = await SIGNAL_CHECKS[id]({ counter, ctx, level, numberKey });
        if (!finding) continue;
        const { name, mode } = signalAt(id, level);
        if (mode === "record") ctx.shadow.push({ stage: "signals", code: "PREFIX_BLOCKED", reason: `${name} (record-only): ${finding}` });
        else blocked ??= `${name}: ${finding}`;
      }
      return blocked ? block("PREFIX_BLOCKED", blocked) : allow;
    },
  };
}
