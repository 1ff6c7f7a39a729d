import type { AutoBlockEvent, EventPublisher } from "../events/types.js";
import type { Logger } from "../log.js";
import type { BlockedPrefixRow, FraudStore } from "../store/fraud.js";
import type { ConversionHistory } from "./baselines.js";
import {
  attackContinues,
  blockFor,
  childReads,
  DEFAULT_WINDOWS,
  detectorKeys,
  judge,
  judgeReads,
  narrowRange,
  rangeOf,
  subjectOf,
  units,
  unitsOf,
  type AutoBlock,
  type CountLookup,
  type DetectorWindows,
  type Finding,
  type Subject,
} from "./detector-rules.js";
import { levelOf } from "./protection-levels.js";
import type { ObserverPlan, RiskContext, RiskObserver, RiskOutcome } from "./types.js";
import { CounterReads, type CounterRead, type WindowCounter } from "./window-counter.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** What the detector works with; the composition root fills it. */
export interface DetectorDeps {
  counter: WindowCounter;
  store: FraudStore;
  /** The service's own conversion history per country: the country level's adaptive baselines. */
  history?: ConversionHistory;
  /** Where each auto-block (and renewal) is published, for the service's `verificationEvents` feed. */
  events?: EventPublisher;
  log?: Logger;
}

export interface DetectorOptions extends Partial<DetectorWindows> {
  /** How long an auto-block lasts, and how far a renewal pushes it (Twilio: 12 hours). @default 12 hours */
  cooldownMs?: number;
}


/**
 * The SMS-pumping detector (Fraud Guard's automatic half), over three levels: prefix, range and
 * country (detector-rules.ts holds the rules; this class reads, judges and writes). It counts sends
 * and approvals per level through the pipeline's observer hook, judges each send, and writes AUTO
 * entries into the blocked-prefix list, which the prefix-guard stage enforces: a prefix, a range (a
 * shorter prefix) or a country (its calling code, for that country's numbers only). Each block lasts
 * 12 hours, is renewed while refused attempts keep coming, and is published with its evidence.
 *
 * Reads and writes are separate steps: {@link reads} declares what judging a send reads (fetched with
 * the request's other reads in one batch), {@link plan} decides from those sums plus the send itself
 * and returns the counter events, committed with the request; a verdict's block is written and
 * announced right after the commit (at most once per attack: the block then refuses its sends). All
 * state is in the {@link WindowCounter} and the {@link FraudStore}: instances are stateless.
 */
export class PumpingDetector implements RiskObserver {
  readonly windows: DetectorWindows;
  readonly cooldownMs: number;
  private readonly d: DetectorDeps;

  constructor(deps: DetectorDeps, opts: DetectorOptions = {}) {
    this.d = deps;
    this.windows = {
      windowMs: opts.windowMs ?? DEFAULT_WINDOWS.windowMs,
      baselineMs: opts.baselineMs ?? DEFAULT_WINDOWS.baselineMs,
      surgeMs: opts.surgeMs ?? DEFAULT_WINDOWS.surgeMs,
    };
    this.cooldownMs = opts.cooldownMs ?? 12 * HOUR;
  }

  /** The sums judging this request's send reads (none for sends the detector does not judge). */
  reads(ctx: RiskContext): CounterRead[] {
    const s = this.subject(ctx);
    return s && ctx.geoPermission !== "ALLOW" ? judgeReads(s, ctx.now, this.windows) : [];
  }

  /**
   * The writes of an outcome. A send counts at its prefix, range and country and is judged with
   * itself included (`reads` were taken before it was counted); an approval counts at the same three.
   * A verdict's blocks are written after the commit; a range finding first reads the range's ten
   * prefixes to find what explains it (once per attack: its blocks then refuse the range's sends).
   */
  async plan(outcome: RiskOutcome, reads: CountLookup): Promise<ObserverPlan> {
    if (outcome.type === "approved") {
      if (!outcome.prefix) return {};
      const keys = unitsOf({ prefix: outcome.prefix, range: rangeOf(outcome.prefix), country: outcome.country ?? null });
      return { counts: keys.map((u) => detectorKeys.approvals(outcome.serviceId, u)) };
    }
    const { ctx } = outcome;
    const s = this.subject(ctx);
    if (!s) return {};
    const counts = unitsOf(s).map((u) => detectorKeys.sends(s.serviceId, u));
    // ALLOW means the admin trusts the destination: counted, never auto-blocked.
    if (ctx.geoPermission === "ALLOW") return { counts };
    const history = s.country ? (await this.d.history?.of(s.serviceId))?.get(s.country) : undefined;
    const finding = judge(s, reads, ctx.now, history, { pending: 1, windows: this.windows });
    if (!finding) return { counts };
    return { counts, afterCommit: () => this.blockFinding(s, finding, ctx.now) };
  }

  async observe(outcome: RiskOutcome): Promise<void> {
    // The send is already committed when this runs: a counter failure must not fail the request (the
    // caller would see an error for a code that is on its way). Log it; the stages still fail closed.
    try {
      const reads = outcome.type === "sent" ? await CounterReads.fetch(this.d.counter, this.reads(outcome.ctx)) : NO_COUNTS;
      const p = await this.plan(outcome, reads);
      await this.d.counter.incrMany(p.counts ?? [], outcome.type === "sent" ? outcome.ctx.now : outcome.now);
      await p.afterCommit?.();
    } catch (err) {
      this.d.log?.error("fraud guard: detector could not record an outcome", { error: String(err) });
    }
  }

  /** Writes the blocks a finding asks for (a RANGE one narrowed first, counting the send as committed). */
  private async blockFinding(s: Subject, finding: Finding, now: number): Promise<void> {
    const found: AutoBlock[] =
      finding.level === "RANGE"
        ? narrowRange(s, finding, await CounterReads.fetch(this.d.counter, childReads(s, finding, now, this.windows)), now, { windows: this.windows })
        : [blockFor(s, finding)];
    for (const b of found) await this.putBlock(this.row(s.serviceId, b, now), { country: s.country });
  }

  /**
   * Called by the prefix guard for each attempt its AUTO block refused: counts it and, while the
   * refused attempts still look like an attack ({@link attackContinues}), pushes the block's expiry
   * to a full cooldown again (Twilio renews its 12-hour blocks the same way). Renews at most once a
   * minute, so an attack at full speed does not turn into a write per request.
   */
  async noteBlockedAttempt(ctx: RiskContext, entry: BlockedPrefixRow): Promise<void> {
    if (entry.source !== "AUTO" || !entry.serviceId) return;
    const key = detectorKeys.refused(entry.serviceId, unitOfBlock(entry));
    await this.d.counter.incr(key, ctx.now);
    if (entry.expiresAt !== null && entry.expiresAt - ctx.now > this.cooldownMs - MINUTE) return;
    const W = this.windows.windowMs;
    const [inWindow, inDay] = await Promise.all([this.d.counter.count(key, ctx.now - W, ctx.now), this.d.counter.count(key, ctx.now - this.windows.baselineMs, ctx.now)]);
    if (!attackContinues(levelOf(ctx), inWindow, inDay)) return;
    const reason = `${entry.reason.split("; renewed")[0]}; renewed: ${inWindow} refused attempts in ${W / MINUTE} min, ${inDay} in ${this.windows.baselineMs / HOUR} h`;
    // The row keeps the detection's rule and figures (its evidence); the event reports the renewal's.
    const renewal = { refusedAttempts: inWindow, refusedAttemptsInDay: inDay, windowMinutes: W / MINUTE };
    await this.putBlock({ ...entry, reason, updatedAt: ctx.now, expiresAt: ctx.now + this.cooldownMs }, { country: ctx.phone?.country ?? null, renewal });
  }

  /**
   * Forgets the counters behind a lifted block, so the admin's decision holds and the unit is judged
   * afresh from zero: a country's; a range's and its ten prefixes'; a prefix's and its range's (whose
   * sums include the prefix's sends and would otherwise trip the range rule on them at once).
   */
  async forget(serviceId: string, block: Pick<BlockedPrefixRow, "prefix" | "country" | "level">): Promise<void> {
    const unit = unitOfBlock(block);
    const forgotten = [unit];
    if (!block.country && block.level === "RANGE") forgotten.push(...Array.from({ length: 10 }, (_, d) => units.prefix(`${block.prefix}${d}`)));
    else if (!block.country) forgotten.push(units.range(rangeOf(block.prefix)));
    for (const u of forgotten) {
      for (const key of [detectorKeys.sends(serviceId, u), detectorKeys.approvals(serviceId, u), detectorKeys.refused(serviceId, u)]) await this.d.counter.reset(key);
    }
  }

  /**
   * Writes (or renews) an AUTO block, then says so: a log line and an AUTO_BLOCKED event with the
   * evidence. Returns the stored row, or null when an admin's MANUAL block is in the way (it already
   * refuses these sends).
   */
  async putBlock(block: BlockedPrefixRow, about: { country?: string | null; renewal?: Record<string, number> } = {}): Promise<BlockedPrefixRow | null> {
    const row = await this.d.store.putAutoPrefixBlock(block);
    if (row) this.announce(row, about);
    return row;
  }

  /**
   * The log line and AUTO_BLOCKED event of a block that was written: with the country of the numbers
   * behind it (a prefix's row names none), and rule "renewed" with its own figures for a renewal.
   */
  announce(row: BlockedPrefixRow, about: { country?: string | null; renewal?: Record<string, number> } = {}): void {
    if (!row.serviceId || row.expiresAt === null) return;
    const level = row.level ?? "PREFIX";
    const country = row.country ?? about.country ?? null;
    const rule = about.renewal ? "renewed" : (row.rule ?? "");
    const autoBlock: AutoBlockEvent = { level, prefix: row.prefix, country, rule, reason: row.reason, figures: about.renewal ?? row.figures ?? {}, expiresAt: row.expiresAt };
    this.d.log?.warn(`fraud guard: ${level.toLowerCase()} blocked`, { serviceId: row.serviceId, prefix: row.prefix, country, rule, reason: row.reason, expiresAt: new Date(row.expiresAt).toISOString() });
    this.d.events?.publish({ type: "AUTO_BLOCKED", serviceId: row.serviceId, verificationId: null, status: null, channel: null, at: row.updatedAt, country, autoBlock });
  }

  /** The detector's view of a send: null for sends it does not count (no number, trusted). */
  private subject(ctx: RiskContext): Subject | null {
    // Trusted sends (safe list, riskCheck: DISABLE) are the admin's business, not evidence.
    if (!ctx.phone || ctx.trusted || !ctx.riskCheck) return null;
    return subjectOf(ctx.service.id, levelOf(ctx), ctx.phone);
  }

  /** The AUTO entry of a block: a country's keeps its country; 12 hours (the cooldown) from now. */
  private row(serviceId: string, b: AutoBlock, now: number): BlockedPrefixRow {
    return {
      serviceId,
      prefix: b.prefix,
      country: b.level === "COUNTRY" ? b.country : null,
      source: "AUTO",
      reason: b.reason,
      level: b.level,
      rule: b.rule,
      figures: b.figures,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + this.cooldownMs,
    };
  }

}

const NO_COUNTS: CountLookup = {
  count: () => 0,
};

/** The counter unit of a block: a country's, a range's or a prefix's. */
function unitOfBlock(b: Pick<BlockedPrefixRow, "prefix" | "country" | "level">): string {
  if (b.country) return units.country(b.country);
  return b.level === "RANGE" ? units.range(b.prefix) : units.prefix(b.prefix);
}
