import type { ProtectionLevel } from "../../store/types.js";
import type { NumberKey } from "../number-key.js";
import { levelOf } from "../protection-levels.js";
import { SIGNALS, blockKey, numberBlock, signalAt, signalIp, signalKeys, type SignalId } from "../signals.js";
import { allow, block, type RiskContext, type RiskStage } from "../types.js";
import type { CounterRead, CounterReads } from "../window-counter.js";

/** What a signal looks at: the request, the service's level, the number hasher. */
interface SignalInput {
  ctx: RiskContext;
  level: ProtectionLevel;
  numberKey: NumberKey;
}

/**
 * One signal: the counter sums it reads (declared, so the pipeline fetches every stage's reads in one
 * batch), and its test on them: a finding (why it fires) or null. The recorder writes the counters.
 */
interface Signal {
  reads(input: SignalInput): CounterRead[];
  check(input: SignalInput, r: CounterReads): string | null;
}

const minutes = (ms: number) => (ms >= 86_400_000 && ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${ms / 60_000} min`);
const within = (ctx: RiskContext, windowMs: number, key: string, graceMs = 0): CounterRead => ({ key, from: ctx.now - windowMs, to: ctx.now - graceMs });

/** "Distinct" signals count first-seen events: null when the item was seen in the window, else the new-item count. */
function distinct(ctx: RiskContext, windowMs: number, item: string, fresh: string, r: CounterReads): number | null {
  if (r.count(item, ctx.now - windowMs, ctx.now) > 0) return null;
  return r.count(fresh, ctx.now - windowMs, ctx.now);
}

/** The keys of the sequential signal: the number's block and its neighbours, sent and approved, and the number. */
function sequentialKeys({ ctx, numberKey }: SignalInput): { blocks: { sent: string; approved: string }[]; number: string } | null {
  if (!ctx.phone) return null;
  const svc = ctx.service.id;
  const b = numberBlock(ctx.phone.e164);
  const blocks = [b - 1, b, b + 1].map((nb) => {
    const key = blockKey(numberKey, nb);
    return { sent: signalKeys.seqBlock(svc, key), approved: signalKeys.seqBlockApproved(svc, key) };
  });
  return { blocks, number: signalKeys.seqNumber(svc, numberKey(ctx.phone.e164)) };
}

/** Each signal of `SIGNALS`, keyed alike. */
export const SIGNAL_CHECKS: Record<SignalId, Signal> = {
  ipCountries: {
    reads({ ctx, level }) {
      const ip = signalIp(ctx);
      const country = ctx.phone?.country;
      if (!ip || !country) return [];
      const w = signalAt("ipCountries", level).windowMs;
      return [within(ctx, w, signalKeys.ipCountry(ctx.service.id, ip, country)), within(ctx, w, signalKeys.ipNewCountry(ctx.service.id, ip))];
    },
    check({ ctx, level }, r) {
      const s = signalAt("ipCountries", level);
      const ip = signalIp(ctx);
      const country = ctx.phone?.country;
      if (!ip || !country) return null;
      const n = distinct(ctx, s.windowMs, signalKeys.ipCountry(ctx.service.id, ip, country), signalKeys.ipNewCountry(ctx.service.id, ip), r);
      return n !== null && n >= s.maxDistinct ? `this IP already asked for ${n} countries in ${minutes(s.windowMs)}; ${country} would be one more` : null;
    },
  },

  ipPrefixes: {
    reads({ ctx, level }) {
      const ip = signalIp(ctx);
      if (!ip || !ctx.phone) return [];
      const w = signalAt("ipPrefixes", level).windowMs;
      return [within(ctx, w, signalKeys.ipPrefix(ctx.service.id, ip, ctx.phone.prefix)), within(ctx, w, signalKeys.ipNewPrefix(ctx.service.id, ip))];
    },
    check({ ctx, level }, r) {
      const s = signalAt("ipPrefixes", level);
      const ip = signalIp(ctx);
      if (!ip || !ctx.phone) return null;
      const n = distinct(ctx, s.windowMs, signalKeys.ipPrefix(ctx.service.id, ip, ctx.phone.prefix), signalKeys.ipNewPrefix(ctx.service.id, ip), r);
      return n !== null && n >= s.maxDistinct ? `this IP already asked for ${n} prefixes in ${minutes(s.windowMs)}` : null;
    },
  },

  sequentialNumbers: {
    reads(input) {
      const keys = sequentialKeys(input);
      if (!keys) return [];
      const w = signalAt("sequentialNumbers", input.level).windowMs;
      return [...keys.blocks.flatMap((b) => [within(input.ctx, w, b.sent), within(input.ctx, w, b.approved)]), within(input.ctx, w, keys.number)];
    },
    check(input, r) {
      const s = signalAt("sequentialNumbers", input.level);
      const keys = sequentialKeys(input);
      if (!keys) return null;
      const { ctx } = input;
      const from = ctx.now - s.windowMs;
      let open = 0;
      for (const b of keys.blocks) open += Math.max(0, r.count(b.sent, from, ctx.now) - r.count(b.approved, from, ctx.now));
      // A resend: this number is already among them and is no neighbour of itself.
      if (open > 0 && r.count(keys.number, from, ctx.now) > 0) open -= 1;
      return open >= s.maxNeighbours ? `${open} unapproved numbers within ${2 * s.blockSize} of this one in ${minutes(s.windowMs)}` : null;
    },
  },

  uncheckedSendsIp: {
    reads({ ctx, level }) {
      const ip = signalIp(ctx);
      return ip ? uncheckedReads(ctx, signalAt("uncheckedSendsIp", level), signalKeys.sendsByIp(ctx.service.id, ip), signalKeys.checksByIp(ctx.service.id, ip)) : [];
    },
    check({ ctx, level }, r) {
      const ip = signalIp(ctx);
      if (!ip) return null;
      return uncheckedRatio(ctx, r, signalAt("uncheckedSendsIp", level), signalKeys.sendsByIp(ctx.service.id, ip), signalKeys.checksByIp(ctx.service.id, ip), "this IP");
    },
  },

  uncheckedSendsPrefix: {
    reads({ ctx, level }) {
      if (!ctx.phone) return [];
      const p = ctx.phone.prefix;
      return uncheckedReads(ctx, signalAt("uncheckedSendsPrefix", level), signalKeys.sendsByPrefix(ctx.service.id, p), signalKeys.checksByPrefix(ctx.service.id, p));
    },
    check({ ctx, level }, r) {
      if (!ctx.phone) return null;
      const p = ctx.phone.prefix;
      return uncheckedRatio(ctx, r, signalAt("uncheckedSendsPrefix", level), signalKeys.sendsByPrefix(ctx.service.id, p), signalKeys.checksByPrefix(ctx.service.id, p), p);
    },
  },
};

type Unchecked = { windowMs: number; graceMs: number; minSends: number; minCheckedRatio: number };

// Sends younger than the grace period have not had their chance to be checked yet.
const uncheckedReads = (ctx: RiskContext, s: Unchecked, sendsKey: string, checksKey: string): CounterRead[] => [
  within(ctx, s.windowMs, sendsKey, s.graceMs),
  within(ctx, s.windowMs, checksKey),
];

function uncheckedRatio(ctx: RiskContext, r: CounterReads, s: Unchecked, sendsKey: string, checksKey: string, what: string): string | null {
  const sends = r.count(sendsKey, ctx.now - s.windowMs, ctx.now - s.graceMs);
  if (sends < s.minSends) return null;
  const checks = r.count(checksKey, ctx.now - s.windowMs, ctx.now);
  return checks / sends < s.minCheckedRatio ? `${checks} checks for ${sends} sends to ${what} in ${minutes(s.windowMs)}` : null;
}

/**
 * Stage 5: behavioural signals (see `risk/signals.ts` for the table of signals, their thresholds and
 * whether each blocks or only records, at the service's protection level). On a START it runs every
 * signal on the request's batched reads: record-only findings go to the decision row's shadow column,
 * the first blocking one refuses with 60410. On a CHECK it returns the check's counts (for the
 * unchecked-sends signals), committed with the check, and always allows.
 */
export function signalsStage(deps: { numberKey: NumberKey }): RiskStage {
  const { numberKey } = deps;
  const ids = Object.keys(SIGNALS) as SignalId[];
  return {
    name: "signals",
    appliesTo: ["START", "CHECK"],
    fraud: true,
    reads(ctx) {
      if (ctx.kind !== "START" || !ctx.phone) return [];
      const input = { ctx, level: levelOf(ctx), numberKey };
      return ids.flatMap((id) => SIGNAL_CHECKS[id].reads(input));
    },
    evaluate(ctx, reads) {
      if (!ctx.phone) return allow;
      if (ctx.kind === "CHECK") {
        const ip = signalIp(ctx);
        const counts = [signalKeys.checksByPrefix(ctx.service.id, ctx.phone.prefix)];
        if (ip) counts.push(signalKeys.checksByIp(ctx.service.id, ip));
        return { action: "allow", writes: { counts } };
      }
      if (!reads) throw new Error("the signals stage decides from the pipeline's batched reads");
      let blocked: string | null = null;
      const input = { ctx, level: levelOf(ctx), numberKey };
      for (const id of ids) {
        const finding = SIGNAL_CHECKS[id].check(input, reads);
        if (!finding) continue;
        const { name, mode } = signalAt(id, input.level);
        if (mode === "record") ctx.shadow.push({ stage: "signals", code: "PREFIX_BLOCKED", reason: `${name} (record-only): ${finding}` });
        else blocked ??= `${name}: ${finding}`;
      }
      return blocked ? block("PREFIX_BLOCKED", blocked) : allow;
    },
  };
}
