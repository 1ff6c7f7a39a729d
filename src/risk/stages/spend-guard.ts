import type { EventPublisher } from "../../events/types.js";
import type { Logger } from "../../log.js";
import type { SpendRefusal, SpendStore } from "../../store/limits.js";
import type { RiskSettings } from "../../store/types.js";
import { isHealthy, type ConversionHistory } from "../baselines.js";
import { MICROS_PER_USD, type PriceTable } from "../prices.js";
import { allow, block, type RiskContext, type RiskObserver, type RiskOutcome, type RiskStage, type RiskWrites } from "../types.js";

/** What the spend guard needs; the composition root fills it. */
export interface SpendGuardDeps {
  prices: PriceTable;
  spend: SpendStore;
  /** Budget for services that set none (`riskSettings.dailyBudgetCents`). @default 5000 ($50) */
  defaultBudgetCents?: number;
  /** The capped share for services that set none (`riskSettings.cappedSharePercent`). @default 20 */
  defaultCappedSharePercent?: number;
  /** The services' conversion history per country: which destinations have earned the protected share. */
  history?: ConversionHistory;
  /** Where a share running out is published (once per service, share and day on this instance). */
  events?: EventPublisher;
  log?: Logger;
}

const DEFAULT_DAILY_BUDGET_CENTS = 5000;
const DEFAULT_CAPPED_SHARE_PERCENT = 20;
const MICROS_PER_CENT = MICROS_PER_USD / 100;
const DAY_MS = 86_400_000;

/** Which part of the budget a send draws on. */
export type SpendShare = "PROTECTED" | "CAPPED";

/** The UTC day of a time, `YYYY-MM-DD`: budgets reset at midnight UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A service's effective daily budget in US cents. */
export function dailyBudgetCents(settings: { dailyBudgetCents?: number }, fallback = DEFAULT_DAILY_BUDGET_CENTS): number {
  return settings.dailyBudgetCents ?? fallback;
}

/** A service's effective capped share, percent of its daily budget. */
export function cappedSharePercent(settings: Pick<RiskSettings, "cappedSharePercent">, fallback = DEFAULT_CAPPED_SHARE_PERCENT): number {
  return settings.cappedSharePercent ?? fallback;
}

/** The capped share in micro-dollars of a budget in cents. */
export function capMicros(budgetCents: number, percent: number): number {
  return Math.floor((budgetCents * MICROS_PER_CENT * percent) / 100);
}

/**
 * Stage 7, the last line of defence: a per-service budget of estimated SMS/voice spend per UTC day,
 * priced from the {@link PriceTable}, split in two shares so that an attack cannot starve real users.
 *
 * - The **protected** share serves destinations the service trusts: countries at ALLOW, countries
 *   where the service's own history is healthy (risk/baselines.ts: its users there convert), and
 *   numbers an admin trusts (safe list, `riskCheck: DISABLE`). They may spend the whole budget.
 * - The **capped** share serves the rest: MONITOR countries without a healthy history, new and
 *   unconverted destinations, where pumping that slipped past the detectors spends. Together they
 *   may spend at most `cappedSharePercent` of the budget (20 % by default). When that is gone, only
 *   they are refused with 60606, and an event and a log line say so; the protected share keeps
 *   serving the countries the service's users are in.
 *
 * The send's price is reserved atomically (the budget and share tests and the increment are one
 * statement), so concurrent starts cannot overshoot together, and in the start's own commit: the stage
 * returns the reservation as a bounded write (RiskWrites.spend with `within`), and a commit it does not
 * fit is refused and decided again. On that retry, and while this instance knows the day's share is
 * used up, the stage reserves at once instead (its own statement, as a budget at its end needs: the
 * refusal's figures come from it). It runs last, after the limits, so a request refused earlier reserves
 * nothing. A reservation made at once is kept even if the store then refuses the send (e.g. 60203):
 * the guard errs towards the budget. It is never skipped: safe-listed numbers and `riskCheck: DISABLE`
 * still spend money.
 *
 * As an observer it plans the charge of a send it did not reserve for (the stage in shadow mode, where
 * it lets an over-budget send through), to its share, committed with the send, so the day's figures
 * stay the true estimate either way.
 */
export class SpendGuard implements RiskStage, RiskObserver {
  readonly name = "spend";
  readonly appliesTo = ["START"] as const;
  readonly fraud = false;
  /** Requests whose price this stage reserved (at once or in their commit); the observer must not charge them twice. */
  private readonly reserved = new WeakSet<RiskContext>();
  /** `service:share:day` whose exhaustion this instance already announced. */
  private readonly announced = new Set<string>();
  /** `service:share:day` this instance saw refused: reserved at once (and refused with figures) until a reservation fits again. */
  private readonly exhausted = new Set<string>();

  constructor(private readonly d: SpendGuardDeps) {}

  async evaluate(ctx: RiskContext) {
    const [cost, share] = await Promise.all([this.cost(ctx), this.shareOf(ctx)]);
    const budgetCents = dailyBudgetCents(ctx.service.riskSettings, this.d.defaultBudgetCents);
    const percent = cappedSharePercent(ctx.service.riskSettings, this.d.defaultCappedSharePercent);
    const budgetMicros = budgetCents * MICROS_PER_CENT;
    const cap = share === "CAPPED" ? capMicros(budgetCents, percent) : null;
    const day = utcDay(ctx.now);
    const shareKey = `${ctx.service.id}:${share}:${day}`;
    if (ctx.retry === 0 && !this.exhausted.has(shareKey) && cost <= budgetMicros && cost <= (cap ?? cost)) {
      // The common case: the reservation commits with the send, or the commit is refused (retry).
      this.reserved.add(ctx);
      return { action: "allow" as const, writes: { spend: { serviceId: ctx.service.id, day, usdMicros: cost, capped: cap !== null, within: { budgetMicros, capMicros: cap } } } };
    }
    const r = await this.d.spend.reserveSpend({ serviceId: ctx.service.id, day, usdMicros: cost, budgetMicros, capMicros: cap, now: ctx.now });
    if (r.reserved) {
      this.exhausted.delete(shareKey);
      this.reserved.add(ctx);
      return allow;
    }
    if (this.exhausted.size > 10_000) this.exhausted.clear();
    this.exhausted.add(shareKey);
    const untilMidnight = Math.ceil((DAY_MS - (ctx.now % DAY_MS)) / 1000);
    const refusedBy: SpendRefusal = r.refusedBy ?? "BUDGET";
    this.announce(ctx, refusedBy, day, refusedBy === "BUDGET" ? { spent: r.spentMicros, limit: budgetMicros } : { spent: r.cappedMicros, limit: cap ?? 0 }, percent);
    const reason =
      refusedBy === "BUDGET"
        ? `daily budget $${usd(budgetMicros)} reached: $${usd(r.spentMicros)} spent, this send $${usd(cost)}`
        : `capped share (${percent}% of $${usd(budgetMicros)} = $${usd(cap ?? 0)}) reached for MONITOR, new and unconverted destinations: $${usd(r.cappedMicros)} spent there, this send to ${ctx.phone?.country ?? "an unknown country"} $${usd(cost)}`;
    return block("SPEND_LIMIT_REACHED", reason, untilMidnight);
  }

  /** A send it did not reserve for (shadow mode let it through over budget) is charged, to its share, with the send. */
  async plan(outcome: RiskOutcome): Promise<Partial<RiskWrites>> {
    if (outcome.type !== "sent" || outcome.ctx.kind !== "START") return {};
    if (this.reserved.has(outcome.ctx)) return {};
    const ctx = outcome.ctx;
    const [cost, share] = await Promise.all([this.cost(ctx), this.shareOf(ctx)]);
    return { spend: { serviceId: ctx.service.id, day: utcDay(ctx.now), usdMicros: cost, capped: share === "CAPPED" } };
  }

  async observe(outcome: RiskOutcome): Promise<void> {
    const { spend } = await this.plan(outcome);
    if (spend && outcome.type === "sent") await this.d.spend.addSpend({ ...spend, now: outcome.ctx.now });
  }

  /** The share a send draws on (see the class comment). */
  async shareOf(ctx: RiskContext): Promise<SpendShare> {
    if (ctx.trusted || !ctx.riskCheck || ctx.geoPermission === "ALLOW") return "PROTECTED";
    const country = ctx.phone?.country;
    if (!country || !this.d.history) return "CAPPED";
    return isHealthy((await this.d.history.of(ctx.service.id)).get(country)) ? "PROTECTED" : "CAPPED";
  }

  private cost(ctx: RiskContext): Promise<number> {
    return this.d.prices.priceMicros(ctx.phone?.country ?? null, ctx.channel ?? "SMS");
  }

  /** The first refusal of a day by a share: one log line and one BUDGET_EXHAUSTED event (per instance). */
  private announce(ctx: RiskContext, refusedBy: SpendRefusal, day: string, m: { spent: number; limit: number }, percent: number): void {
    const share = refusedBy === "BUDGET" ? "ALL" : "CAPPED";
    const key = `${ctx.service.id}:${share}:${day}`;
    if (this.announced.has(key)) return;
    if (this.announced.size > 10_000) this.announced.clear();
    this.announced.add(key);
    const what =
      share === "ALL"
        ? "daily budget used up: every destination refused (60606) until midnight UTC"
        : `capped share (${percent}%) of the daily budget used up: MONITOR, new and unconverted destinations refused (60606) until midnight UTC; protected destinations still send`;
    this.d.log?.warn(`spend guard: ${what}`, { serviceId: ctx.service.id, day, share, spentUsd: m.spent / MICROS_PER_USD, limitUsd: m.limit / MICROS_PER_USD });
    this.d.events?.publish({
      type: "BUDGET_EXHAUSTED",
      serviceId: ctx.service.id,
      verificationId: null,
      status: null,
      channel: ctx.channel,
      at: ctx.now,
      country: ctx.phone?.country ?? null,
      budget: { share, day, spentUsd: m.spent / MICROS_PER_USD, limitUsd: m.limit / MICROS_PER_USD },
    });
  }
}

function usd(micros: number): string {
  return (micros / MICROS_PER_USD).toFixed(4).replace(/0{1,2}$/, "");
}
