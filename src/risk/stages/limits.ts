import type { Logger } from "../../log.js";
import { ipGroup } from "../ip-group.js";
import { consumeAll, decideLimit, LimiterUnavailableError, limitReads, type Limiter, type LimitSpec } from "../limiter.js";
import type { NumberKey } from "../number-key.js";
import { allow, block, invalid, type RiskContext, type RiskStage, type RiskWrites } from "../types.js";
import type { CounterRead, CounterReads } from "../window-counter.js";

/** The limits the stage enforces besides a service's own buckets; null turns one off. */
export interface LimitsOptions {
  /** Starts per client IP, CLIENT keys only. @default 20 per hour */
  startsPerIp: LimitSpec | null;
  /** Checks per client IP, CLIENT keys only. @default 10 per minute */
  checksPerIp: LimitSpec | null;
  /** Sends per number per service. @default 5 per 10 minutes (Twilio's) */
  startsPerNumber: LimitSpec | null;
  /**
   * Wrong checks of one number per service from one client IP group, across verifications. Per IP
   * group, so that a stranger spending it cannot lock the number's owner out. @default 10 per hour
   */
  checksPerNumber: LimitSpec | null;
  /**
   * Wrong checks of one number per service from anywhere: the ceiling that still stops a guesser
   * spread over many addresses (NIST SP 800-63B §5.2.2 allows at most 100 failed attempts).
   * @default 100 per day
   */
  failedChecksPerNumber: LimitSpec | null;
  /**
   * The limiter's Redis failed (REDIS_URL; the database's counters fail with the request's own commit):
   * `closed` refuses with 20503 (an unguarded SMS endpoint is the thing this product exists to prevent),
   * `open` lets the request through and logs a warning (the spend guard, which lives in the main
   * database, still caps the damage). @default "closed"
   */
  failureMode: "closed" | "open";
}

export const DEFAULT_LIMITS: LimitsOptions = {
  startsPerIp: { max: 20, windowMs: 3_600_000 },
  checksPerIp: { max: 10, windowMs: 60_000 },
  startsPerNumber: { max: 5, windowMs: 600_000 },
  checksPerNumber: { max: 10, windowMs: 3_600_000 },
  failedChecksPerNumber: { max: 100, windowMs: 86_400_000 },
  failureMode: "closed",
};

/**
 * Every limiter key is built here, in the open: namespace, what is counted, who, and the limit itself
 * (so changing a limit starts a fresh count instead of misreading the old one). Values a caller chooses
 * are URI-encoded, so they cannot contain the `::` separator and forge another key. A number appears
 * only as its keyed hash (number-key.ts): limiter keys sit in SQLite, PostgreSQL or Redis in clear.
 */
export const limitKeys = {
  ip: (kind: "start" | "check", group: string, spec: LimitSpec) => ["ip", kind, group, spec.max, spec.windowMs].join("::"),
  number: (kind: "start" | "wrong-check", serviceId: string, numberKey: string, spec: LimitSpec) =>
    ["number", kind, serviceId, numberKey, spec.max, spec.windowMs].join("::"),
  numberFromIp: (serviceId: string, numberKey: string, group: string, spec: LimitSpec) =>
    ["number-ip", "wrong-check", serviceId, numberKey, group, spec.max, spec.windowMs].join("::"),
  bucket: (serviceId: string, uniqueName: string, value: string, spec: LimitSpec) =>
    ["bucket", serviceId, encodeURIComponent(uniqueName), encodeURIComponent(value), spec.max, spec.windowMs].join("::"),
};

/** Longest value accepted for a service rate-limit bucket (Twilio's limit for these values). */
export const MAX_RATE_LIMIT_VALUE_LENGTH = 256;

/** Seconds a refused caller is told to wait when the limiter store is down (fail closed). */
const UNAVAILABLE_RETRY_SECONDS = 5;

interface Item {
  key: string;
  spec: LimitSpec;
  /** For the decision row (never shown to the caller). */
  label: string;
  /** Counts failed checks only: given back when the check turns out not to be one. */
  wrongOnly?: boolean;
}

/**
 * Where the limits stage keeps its counters: `"commit"` for the database's (read with the request's
 * batched read, taken in its commit: risk/limiter.ts), or a {@link Limiter} that consumes at once (Redis).
 */
export type LimitsBackend = "commit" | Limiter;

/**
 * Stage 6: sliding-window rate limits. It runs after every stage that can refuse for free, so only
 * requests the pipeline would let through are counted, and it is never skipped (safe-listed numbers
 * and `riskCheck: DISABLE` still count).
 *   START: per client IP, per number per service, and the service's own named buckets
 *          (Twilio's Service Rate Limits) for the values passed at start.
 *   CHECK: per client IP; and wrong guesses of a number per service across verifications (asking for
 *          a new code never resets them), counted per (number, client IP group) so a stranger
 *          spending that budget does not lock the owner out, under a per-number ceiling that still
 *          stops a guesser spread over many addresses. A check is counted as a failed attempt before
 *          its code is compared (so concurrent guesses cannot overshoot); one that turns out to be no
 *          failed attempt (the right code, or a 60202 retry of a spent verification) is not counted:
 *          its wrong-guess limits are tested and not taken (`asNotFailure`), or given back
 *          ({@link RiskStage.giveBack}) when they were consumed at once.
 * Per-IP limits apply to CLIENT (publishable) keys: an ADMIN key is a trusted backend whose address is
 * its own server's; such a backend passes the end user's IP as a service bucket value instead.
 *
 * With the database's counters (`limiter: "commit"`), the stage decides from the request's batched
 * read and returns the bounded increments that take the limits in the request's commit: no statement
 * or commit of its own. With Redis it consumes through rate-limiter-flexible before the commit.
 */
export function limitsStage(deps: { limiter: LimitsBackend; numberKey: NumberKey; options?: Partial<LimitsOptions>; log?: Logger }): RiskStage {
  const o: LimitsOptions = { ...DEFAULT_LIMITS, ...deps.options };
  /** Each request's limits, planned once (its reads and its decision use them). */
  const plans = new WeakMap<RiskContext, ReturnType<typeof plan>>();
  const planOf = (ctx: RiskContext) => {
    let p = plans.get(ctx);
    if (!p) plans.set(ctx, (p = plan(ctx, o, deps.numberKey)));
    return p;
  };
  const refused = (item: Item, retryAfterMs: number) =>
    block("RATE_LIMITED", `${item.label}: ${item.spec.max} per ${item.spec.windowMs / 1000}s`, Math.max(1, Math.ceil(retryAfterMs / 1000)));

  if (deps.limiter === "commit") {
    return {
      name: "limits",
      appliesTo: ["START", "CHECK"],
      fraud: false,
      reads(ctx: RiskContext): CounterRead[] {
        const p = planOf(ctx);
        return "invalid" in p ? [] : p.items.flatMap((i) => limitReads(i.key, i.spec, ctx.now));
      },
      evaluate(ctx: RiskContext, reads?: CounterReads) {
        const p = planOf(ctx);
        if ("invalid" in p) return invalid("rateLimits", p.invalid);
        const limits: NonNullable<RiskWrites["limits"]> = [];
        for (const item of p.items) {
          const { verdict, take } = decideLimit(item.key, item.spec, 1, ctx.now, reads!);
          if (!verdict.allowed) return refused(item, verdict.retryAfterMs);
          limits.push(item.wrongOnly ? { ...take, failedOnly: true } : take);
        }
        return limits.length ? { action: "allow", writes: { limits } } : allow;
      },
    };
  }

  const limiter = deps.limiter;
  /** What each allowed request consumed, until it is settled. */
  const taken = new WeakMap<RiskContext, Item[]>();
  return {
    name: "limits",
    appliesTo: ["START", "CHECK"],
    fraud: false,
    async evaluate(ctx: RiskContext) {
      const planned = planOf(ctx);
      if ("invalid" in planned) return invalid("rateLimits", planned.invalid);
      if (planned.items.length === 0) return allow;
      try {
        const r = await consumeAll(limiter, planned.items);
        if (r.allowed) {
          taken.set(ctx, planned.items);
          return allow;
        }
        return refused(planned.items[r.index]!, r.retryAfterMs);
      } catch (err) {
        if (!(err instanceof LimiterUnavailableError)) throw err;
        const cause = err.cause instanceof Error ? err.cause.message : String(err.cause);
        if (o.failureMode === "open") {
          deps.log?.warn("limiter store failed; letting the request through (LIMITER_FAILURE_MODE=open)", { error: cause });
          return allow;
        }
        deps.log?.error("limiter store failed; refusing the request (LIMITER_FAILURE_MODE=closed)", { error: cause });
        return block("SERVICE_UNAVAILABLE", "limiter store unavailable", UNAVAILABLE_RETRY_SECONDS);
      }
    },
    async giveBack(ctx: RiskContext, all = false) {
      const items = taken.get(ctx);
      if (!items) return;
      const back = all ? items : items.filter((i) => i.wrongOnly);
      const kept = all ? [] : items.filter((i) => !i.wrongOnly);
      if (kept.length) taken.set(ctx, kept);
      else taken.delete(ctx);
      await Promise.all(back.map((i) => limiter.refund(i.key, 1, i.spec)));
    },
  };
}

/** Which limits this request counts against, in the order they are consumed. */
function plan(ctx: RiskContext, o: LimitsOptions, numberKey: NumberKey): { items: Item[] } | { invalid: string } {
  const items: Item[] = [];
  const kind = ctx.kind === "START" ? "start" : "check";
  const group = ctx.role === "CLIENT" && ctx.ip ? ipGroup(ctx.ip) : null;
  const perIp = kind === "start" ? o.startsPerIp : o.checksPerIp;
  if (group && perIp) items.push({ key: limitKeys.ip(kind, group, perIp), spec: perIp, label: `${kind}s per IP` });
  if (ctx.phone && kind === "start" && o.startsPerNumber) {
    items.push({ key: limitKeys.number("start", ctx.service.id, numberKey(ctx.phone.e164), o.startsPerNumber), spec: o.startsPerNumber, label: "starts per number" });
  }
  if (ctx.phone && kind === "check") {
    // Any role: behind an ADMIN key (a backend) the group is the backend's, which makes this per number.
    const from = (ctx.ip ? ipGroup(ctx.ip) : null) ?? "unknown";
    if (o.checksPerNumber) {
      const spec = o.checksPerNumber;
      items.push({ key: limitKeys.numberFromIp(ctx.service.id, numberKey(ctx.phone.e164), from, spec), spec, label: "wrong checks per number from one IP group", wrongOnly: true });
    }
    if (o.failedChecksPerNumber) {
      const spec = o.failedChecksPerNumber;
      items.push({ key: limitKeys.number("wrong-check", ctx.service.id, numberKey(ctx.phone.e164), spec), spec, label: "wrong checks per number", wrongOnly: true });
    }
  }
  if (kind === "start") {
    const named = new Map((ctx.service.riskSettings.rateLimits ?? []).map((r) => [r.uniqueName, r]));
    for (const [name, value] of Object.entries(ctx.rateLimitValues)) {
      const limit = named.get(name);
      if (!limit) return { invalid: `the service has no rate limit named ${JSON.stringify(name.slice(0, 64))}` };
      if (value.length === 0 || value.length > MAX_RATE_LIMIT_VALUE_LENGTH) {
        return { invalid: `the value for ${name} must be 1 to ${MAX_RATE_LIMIT_VALUE_LENGTH} characters` };
      }
      for (const b of limit.buckets) {
        const spec = { max: b.max, windowMs: b.intervalSeconds * 1000 };
        items.push({ key: limitKeys.bucket(ctx.service.id, name, value, spec), spec, label: `rate limit ${name}` });
      }
    }
  }
  return { items };
}
