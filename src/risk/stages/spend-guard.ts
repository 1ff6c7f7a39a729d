import type { SpendStore } from "../../store/limits.js";
import { MICROS_PER_USD, type PriceTable } from "../prices.js";
import { allow, block, type RiskContext, type RiskObserver, type RiskOutcome, type RiskStage, type RiskWrites } from "../types.js";

/** What the spend guard needs; the composition root fills it. */
export interface SpendGuardDeps {
  prices: PriceTable;
  spend: SpendStore;
  /** Budget for services that set none (`riskSettings.dailyBudgetCents`). @default 5000 ($50) */
  defaultBudgetCents?: number;
}

const DEFAULT_DAILY_BUDGET_CENTS = 5000;
const MICROS_PER_CENT = MICROS_PER_USD / 100;
const DAY_MS = 86_400_000;

/** The UTC day of a time, `YYYY-MM-DD`: budgets reset at midnight UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A service's effective daily budget in US cents. */
export function dailyBudgetCents(settings: { dailyBudgetCents?: number }, fallback = DEFAULT_DAILY_BUDGET_CENTS): number {
  return settings.dailyBudgetCents ?? fallback;
}

/**
 * Stage 7, the last line of defence: a per-service budget of estimated SMS/voice spend per UTC day,
 * priced from the {@link PriceTable}. Whatever slips past the other stages can cost at most the budget.
 *
 * The stage reserves the send's price atomically (budget test and increment in one statement, see
 * SpendStore.reserveSpend), so concurrent starts cannot overshoot together. It runs last, after the
 * limits, so a request refused earlier reserves nothing. A reservation is kept even if the store then
 * refuses the send (e.g. 60203): the guard errs towards the budget. It is never skipped: safe-listed
 * numbers and `riskCheck: DISABLE` still spend money.
 *
 * The reservation is the one write it makes itself: the budget test and the increment must be one
 * atomic statement. As an observer it plans the charge of a send it did not reserve for (the stage in
 * shadow mode, where it lets an over-budget send through), committed with the send, so the day's
 * figure stays the true estimate either way.
 */
export class SpendGuard implements RiskStage, RiskObserver {
  readonly name = "spend";
  readonly appliesTo = ["START"] as const;
  readonly fraud = false;
  /** Requests whose price this stage reserved; the observer must not charge them twice. */
  private readonly reserved = new WeakSet<RiskContext>();

  constructor(private readonly d: SpendGuardDeps) {}

  async evaluate(ctx: RiskContext) {
    const cost = await this.cost(ctx);
    const budgetCents = dailyBudgetCents(ctx.service.riskSettings, this.d.defaultBudgetCents);
    const r = await this.d.spend.reserveSpend({
      serviceId: ctx.service.id,
      day: utcDay(ctx.now),
      usdMicros: cost,
      budgetMicros: budgetCents * MICROS_PER_CENT,
      now: ctx.now,
    });
    if (r.reserved) {
      this.reserved.add(ctx);
      return allow;
    }
    const untilMidnight = Math.ceil((DAY_MS - (ctx.now % DAY_MS)) / 1000);
    return block("SPEND_LIMIT_REACHED", `daily budget $${usd(budgetCents * MICROS_PER_CENT)} reached: $${usd(r.spentMicros)} spent, this send $${usd(cost)}`, untilMidnight);
  }

  /** A send it did not reserve for (shadow mode let it through over budget) is charged with the send. */
  async plan(outcome: RiskOutcome): Promise<Partial<RiskWrites>> {
    if (outcome.type !== "sent" || outcome.ctx.kind !== "START") return {};
    if (this.reserved.has(outcome.ctx)) return {};
    const ctx = outcome.ctx;
    return { spend: { serviceId: ctx.service.id, day: utcDay(ctx.now), usdMicros: await this.cost(ctx) } };
  }

  async observe(outcome: RiskOutcome): Promise<void> {
    const { spend } = await this.plan(outcome);
    if (spend && outcome.type === "sent") await this.d.spend.addSpend({ ...spend, now: outcome.ctx.now });
  }

  private cost(ctx: RiskContext): Promise<number> {
    return this.d.prices.priceMicros(ctx.phone?.country ?? null, ctx.channel ?? "SMS");
  }
}

function usd(micros: number): string {
  return (micros / MICROS_PER_USD).toFixed(4).replace(/0{1,2}$/, "");
}
