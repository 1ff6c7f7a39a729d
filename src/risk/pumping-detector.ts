import type { AutoBlockEvent, EventPublisher } from "../events/types.js";
import type { Logger } from "../log.js";
import type { BlockedPrefixRow, FraudStore } from "../store/fraud.js";
import type { ProtectionLevel } from "../store/types.js";
import { levelOf, PROTECTION_LEVELS } from "./protection-levels.js";
import type { ObserverPlan, RiskContext, RiskObserver, RiskOutcome } from "./types.js";
import { CounterReads, type CounterRead, type WindowCounter } from "./window-counter.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** What the detector works with; the composition root fills it. */
export interface DetectorDeps {
  counter: WindowCounter;
  store: FraudStore;
  /** Where each auto-block (and renewal) is published, for the service's `verificationEvents` feed. */
  events?: EventPublisher;
  log?: Logger;
}

export interface DetectorOptions {
  /** The burst window. @default 15 minutes */
  windowMs?: number;
  /** The baseline (and sustained-rule) period. @default 24 hours */
  baselineMs?: number;
  /** How long an auto-block lasts, and how far a renewal pushes it (Twilio: 12 hours). @default 12 hours */
  cooldownMs?: number;
}

/** Why the detector blocked a prefix, with the figures it judged on. */
export interface Verdict {
  rule: "burst" | "sustained";
  sends: number;
  approvals: number;
  baselinePerWindow: number;
  reason: string;
  /** Every number the rule weighed, for the AUTO_BLOCKED event. */
  figures: Record<string, number>;
}

/**
 * The SMS-pumping detector (Fraud Guard's automatic half). It observes sends and approvals per
 * (service, prefix) through the pipeline's observer hook, judges the prefix after each send, and
 * writes an AUTO entry into the blocked-prefix list, which the prefix-guard stage enforces. All
 * state is in the {@link WindowCounter} and the {@link FraudStore}: instances are stateless, so any
 * number of them (and any process) can share the work.
 */
export class PumpingDetector implements RiskObserver {
  readonly windowMs: number;
  readonly baselineMs: number;
  readonly cooldownMs: number;

  private readonly counter: WindowCounter;
  private readonly store: FraudStore;
  private readonly events?: EventPublisher;
  private readonly log?: Logger;

  constructor(deps: DetectorDeps, opts: DetectorOptions = {}) {
    this.counter = deps.counter;
    this.store = deps.store;
    this.events = deps.events;
    this.log = deps.log;
    this.windowMs = opts.windowMs ?? 15 * MINUTE;
    this.baselineMs = opts.baselineMs ?? 24 * HOUR;
    this.cooldownMs = opts.cooldownMs ?? 12 * HOUR;
  }

  /** What judging a prefix after a send reads (see {@link judgeFrom}). */
  reads(ctx: RiskContext): CounterRead[] {
    if (!ctx.phone || ctx.trusted || !ctx.riskCheck || ctx.geoPermission === "ALLOW") return [];
    return this.judgeReads(ctx.service.id, ctx.phone.prefix, ctx.now);
  }

  /**
   * A send counts for its prefix (committed with the send), and the prefix is judged with that send
   * included: the reads plus one. A verdict's block is written and announced right after the commit
   * (at most once per attack: the block then refuses the prefix's sends).
   */
  plan(outcome: RiskOutcome, reads: CounterReads): ObserverPlan {
    if (outcome.type === "approved") return { counts: outcome.prefix ? [keys.approvals(outcome.serviceId, outcome.prefix)] : [] };
    const { ctx } = outcome;
    // Trusted sends (safe list, riskCheck: DISABLE) are the admin's business, not evidence.
    if (!ctx.phone || ctx.trusted || !ctx.riskCheck) return {};
    const serviceId = ctx.service.id;
    const { prefix, country } = ctx.phone;
    const counts = [keys.sends(serviceId, prefix)];
    // ALLOW means the admin trusts the destination: watched, never auto-blocked.
    if (ctx.geoPermission === "ALLOW") return { counts };
    const verdict = this.judgeFrom(serviceId, prefix, levelOf(ctx), ctx.now, reads, 1);
    if (!verdict) return { counts };
    return { counts, afterCommit: () => this.block(serviceId, prefix, country, verdict.rule, verdict.reason, verdict.figures, ctx.now) };
  }

  async observe(outcome: RiskOutcome): Promise<void> {
    // The send is already committed when this runs: a counter failure must not fail the request (the
    // caller would see an error for a code that is on its way). Log it; the stages still fail closed.
    try {
      const reads = outcome.type === "sent" ? await CounterReads.fetch(this.counter, this.reads(outcome.ctx)) : new CounterReads([], []);
      const p = this.plan(outcome, reads);
      await this.counter.incrMany(p.counts ?? [], outcome.type === "sent" ? outcome.ctx.now : outcome.now);
      await p.afterCommit?.();
    } catch (err) {
      this.log?.error("fraud guard: detector could not record an outcome", { error: String(err) });
    }
  }

  /** Applies the level's rules to the prefix's counters at `now`; null = looks healthy. */
  async judge(serviceId: string, prefix: string, level: ProtectionLevel, now: number): Promise<Verdict | null> {
    return this.judgeFrom(serviceId, prefix, level, now, await CounterReads.fetch(this.counter, this.judgeReads(serviceId, prefix, now)), 0);
  }

  /** The sums {@link judgeFrom} reads. */
  private judgeReads(serviceId: string, prefix: string, now: number): CounterRead[] {
    const W = this.windowMs;
    return [
      { key: keys.sends(serviceId, prefix), from: now - W, to: now },
      { key: keys.approvals(serviceId, prefix), from: now - W, to: now },
      { key: keys.sends(serviceId, prefix), from: now - W - this.baselineMs, to: now - W - 1 },
      { key: keys.sends(serviceId, prefix), from: now - this.baselineMs, to: now },
      { key: keys.approvals(serviceId, prefix), from: now - this.baselineMs, to: now },
    ];
  }

  /** The level's rules on the reads, with `pending` sends of now not counted in them yet (the send being planned). */
  private judgeFrom(serviceId: string, prefix: string, level: ProtectionLevel, now: number, r: CounterReads, pending: number): Verdict | null {
    const t = PROTECTION_LEVELS[level].detector;
    const W = this.windowMs;
    const sends = r.count(keys.sends(serviceId, prefix), now - W, now) + pending;
    if (sends >= t.minSends) {
      const approvals = r.count(keys.approvals(serviceId, prefix), now - W, now);
      const before = r.count(keys.sends(serviceId, prefix), now - W - this.baselineMs, now - W - 1);
      const baselinePerWindow = (before * W) / this.baselineMs;
      if (sends > t.volumeMultiplier * baselinePerWindow && approvals / sends < t.maxConversion) {
        const reason = `SMS pumping suspected (${level}, burst): ${sends} sends in ${W / MINUTE} min vs baseline ${baselinePerWindow.toFixed(1)}, ${pct(approvals, sends)} approved`;
        return { rule: "burst", sends, approvals, baselinePerWindow, reason, figures: { sends, approvals, baselinePerWindow: round1(baselinePerWindow), windowMinutes: W / MINUTE, minSends: t.minSends } };
      }
    }
    const daySends = r.count(keys.sends(serviceId, prefix), now - this.baselineMs, now) + pending;
    if (daySends >= t.sustainedMinSends) {
      const dayApprovals = r.count(keys.approvals(serviceId, prefix), now - this.baselineMs, now);
      if (dayApprovals / daySends < t.sustainedMaxConversion) {
        const reason = `SMS pumping suspected (${level}, sustained): ${daySends} sends in ${this.baselineMs / HOUR} h, ${pct(dayApprovals, daySends)} approved`;
        return {
          rule: "sustained",
          sends: daySends,
          approvals: dayApprovals,
          baselinePerWindow: 0,
          reason,
          figures: { sends: daySends, approvals: dayApprovals, windowMinutes: this.baselineMs / MINUTE, minSends: t.sustainedMinSends },
        };
      }
    }
    return null;
  }

  /**
   * Called by the prefix guard for each attempt its AUTO block refused: counts it and, while the
   * refused attempts still look like an attack (the level's `minSends` within the window), pushes the
   * block's expiry to a full cooldown again (Twilio renews its 12-hour blocks the same way). Renews at
   * most once a minute, so an attack at full speed does not turn into a write per request.
   */
  async noteBlockedAttempt(ctx: RiskContext, entry: BlockedPrefixRow): Promise<void> {
    if (entry.source !== "AUTO" || !entry.serviceId) return;
    const key = keys.attempts(entry.serviceId, entry.prefix);
    await this.counter.incr(key, ctx.now);
    if (entry.expiresAt !== null && entry.expiresAt - ctx.now > this.cooldownMs - MINUTE) return;
    const attempts = await this.counter.count(key, ctx.now - this.windowMs, ctx.now);
    if (attempts < PROTECTION_LEVELS[levelOf(ctx)].detector.minSends) return;
    const reason = `${entry.reason.split("; renewed")[0]}; renewed: ${attempts} refused attempts in ${this.windowMs / MINUTE} min`;
    await this.block(entry.serviceId, entry.prefix, ctx.phone?.country ?? null, "renewed", reason, { refusedAttempts: attempts, windowMinutes: this.windowMs / MINUTE }, ctx.now);
  }

  /** Forgets a prefix's counters (an admin lifted its block: judge it afresh from zero). */
  async forget(serviceId: string, prefix: string): Promise<void> {
    await this.counter.reset(keys.sends(serviceId, prefix));
    await this.counter.reset(keys.approvals(serviceId, prefix));
    await this.counter.reset(keys.attempts(serviceId, prefix));
  }

  /** Writes (or renews) the AUTO block, then says so: a log line and an AUTO_BLOCKED event with the evidence. */
  private async block(serviceId: string, prefix: string, country: string | null, rule: string, reason: string, figures: Record<string, number>, now: number): Promise<void> {
    const row = await this.store.putAutoPrefixBlock({ serviceId, prefix, source: "AUTO", reason, createdAt: now, updatedAt: now, expiresAt: now + this.cooldownMs });
    if (!row) return; // an admin's MANUAL block is in the way: it already refuses these sends
    const autoBlock: AutoBlockEvent = { level: "PREFIX", prefix, country, rule, reason, figures, expiresAt: row.expiresAt! };
    this.log?.warn("fraud guard: prefix blocked", { serviceId, prefix, rule, reason, expiresAt: new Date(row.expiresAt!).toISOString() });
    this.events?.publish({ type: "AUTO_BLOCKED", serviceId, verificationId: null, status: null, channel: null, at: now, country, autoBlock });
  }
}

/** Counter keys, built visibly in one place (a Redis implementation stores them as they are). */
const keys = {
  sends: (serviceId: string, prefix: string) => `pd:send:${serviceId}:${prefix}`,
  approvals: (serviceId: string, prefix: string) => `pd:ok:${serviceId}:${prefix}`,
  attempts: (serviceId: string, prefix: string) => `pd:refused:${serviceId}:${prefix}`,
};

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function pct(n: number, d: number): string {
  return `${Math.round((100 * n) / d)}%`;
}
