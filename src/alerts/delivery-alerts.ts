import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import { eventRows, type EventOutbox } from "../events/outbox.js";
import type { EventPublisher, VerificationEvent } from "../events/types.js";
import type { Logger } from "../log.js";
import type { AlertFigures, DeliveryAlertRow, DeliveryAlertStore, RateMetric } from "../store/alerts.js";

export interface DeliveryAlertOptions {
  store: DeliveryAlertStore;
  events: EventPublisher;
  /** The event outbox (webhooks): an alert's event commits its deliveries with the raise or clear. */
  eventOutbox?: EventOutbox;
  clock: Clock;
  log: Logger;
  /** The recent window compared with the baseline. @default 60 min */
  windowMs?: number;
  /** Sends the recent window (and the baseline) must have before a rate is judged. @default 20 */
  minSends?: number;
  /** Degraded when the recent rate falls under `dropRatio` × baseline. @default 0.5 */
  dropRatio?: number;
  /** Raised / cleared alerts (metrics). */
  onChange?: (alert: DeliveryAlertRow, open: boolean) => void;
}

/** The baseline: the 7 days before the recent window. */
export const BASELINE_MS = 7 * 86_400_000;
/**
 * Sends younger than this are left out: their status callbacks may not have arrived yet, and counting
 * them would read as a drop in the delivered rate.
 */
export const SETTLE_MS = 120_000;

/** The rates watched: delivered / sent (status callbacks) and approved / sent (conversion). */
const METRICS: { metric: RateMetric; hits: (f: AlertFigures) => { recent: number; base: number } }[] = [
  { metric: "DELIVERED_RATE", hits: (f) => ({ recent: f.recentDelivered, base: f.baseDelivered }) },
  { metric: "APPROVED_RATE", hits: (f) => ({ recent: f.recentApproved, base: f.baseApproved }) },
];

/**
 * Delivery-rate monitoring. Every evaluation (a timer; any instance) reads, per service × country ×
 * channel, the sends of the recent window and of the 7 days before it, and judges two rates against
 * their own baseline: delivered / sent (Twilio's status callbacks) and approved / sent (conversion).
 *
 * - Raised (DELIVERY_DEGRADED) when the recent window has at least `minSends` sends, the baseline too
 *   and a rate above zero, and the recent rate is under `dropRatio` × baseline.
 * - Cleared (DELIVERY_RECOVERED) when an open alert's recent window again has `minSends` sends and its
 *   rate is back above halfway between the trigger and the baseline it was raised against (hysteresis,
 *   so a rate hovering at the threshold does not flap).
 *
 * Each change is one guarded write (a unique open key; a resolve of an unresolved row), so instances
 * evaluating together raise and clear an alert once, and only the instance whose write won publishes
 * the event (subscribers, webhooks) and counts it.
 */
export class DeliveryAlerts {
  private readonly windowMs: number;
  private readonly minSends: number;
  private readonly dropRatio: number;
  private open: DeliveryAlertRow[] = [];

  constructor(private readonly o: DeliveryAlertOptions) {
    this.windowMs = o.windowMs ?? 3_600_000;
    this.minSends = o.minSends ?? 20;
    this.dropRatio = o.dropRatio ?? 0.5;
  }

  /** Alerts open as of the last evaluation (the metrics gauge reads it). */
  get openAlerts(): readonly DeliveryAlertRow[] {
    return this.open;
  }

  list(filter: { serviceId?: string | null; open?: boolean | null; limit?: number }): Promise<DeliveryAlertRow[]> {
    return this.o.store.list({ ...filter, limit: Math.min(filter.limit ?? 100, 500) });
  }

  /** Judges every rate once; returns the alerts this call raised and cleared. */
  async evaluate(): Promise<{ raised: DeliveryAlertRow[]; cleared: DeliveryAlertRow[] }> {
    const now = this.o.clock.now();
    const until = now - SETTLE_MS;
    const recentFrom = until - this.windowMs;
    const figures = await this.o.store.figures(recentFrom - BASELINE_MS, recentFrom, until);
    const open = new Map((await this.o.store.listOpen()).map((a) => [a.openKey!, a]));
    const raised: DeliveryAlertRow[] = [];
    const cleared: DeliveryAlertRow[] = [];
    for (const f of figures) {
      for (const { metric, hits } of METRICS) {
        const { recent, base } = hits(f);
        const key = [f.serviceId, f.country, f.channel, metric].join("|");
        const alert = open.get(key);
        if (f.recentSends < this.minSends) continue;
        const rate = recent / f.recentSends;
        if (alert) {
          const recoverAt = ((1 + this.dropRatio) / 2) * alert.baseline;
          if (rate < recoverAt) continue;
          const recovered = (a: DeliveryAlertRow) => alertEvent("DELIVERY_RECOVERED", a, rate, f.recentSends, now);
          const done = await this.o.store.resolve(alert.id, now, rate, f.recentSends, await eventRows(this.o.eventOutbox, alert.serviceId, recovered));
          if (!done) continue;
          open.delete(key);
          cleared.push(done);
          this.announce(recovered(done), done);
          continue;
        }
        if (f.baseSends < this.minSends || base === 0) continue;
        const baseline = base / f.baseSends;
        if (rate >= this.dropRatio * baseline) continue;
        const row: DeliveryAlertRow = {
          id: "AL" + randomBytes(16).toString("hex"),
          serviceId: f.serviceId,
          country: f.country,
          channel: f.channel,
          metric,
          openKey: key,
          raisedAt: now,
          resolvedAt: null,
          sends: f.recentSends,
          rate,
          baseline,
          baselineSends: f.baseSends,
          recoveredRate: null,
          recoveredSends: null,
        };
        const degraded = (a: DeliveryAlertRow) => alertEvent("DELIVERY_DEGRADED", a, rate, f.recentSends, now);
        if (!(await this.o.store.raise(row, await eventRows(this.o.eventOutbox, row.serviceId, degraded)))) continue;
        open.set(key, row);
        raised.push(row);
        this.announce(degraded(row), row);
      }
    }
    this.open = [...open.values()];
    return { raised, cleared };
  }

  /** Says so: a log line, the metric, and the event (its webhook deliveries were committed with the change). */
  private announce(e: VerificationEvent, a: DeliveryAlertRow): void {
    const degraded = e.type === "DELIVERY_DEGRADED";
    this.o.log.warn(degraded ? "delivery alert: rate dropped" : "delivery alert: rate recovered", {
      alertId: a.id,
      serviceId: a.serviceId,
      country: a.country,
      channel: a.channel,
      metric: a.metric,
      rate: e.alert!.rate,
      baseline: e.alert!.baseline,
      sends: e.alert!.sends,
    });
    this.o.onChange?.(a, degraded);
    this.o.events.publish(e);
  }
}

/** The event of an alert raised or cleared, with the figures of the window that decided it. */
function alertEvent(type: "DELIVERY_DEGRADED" | "DELIVERY_RECOVERED", a: DeliveryAlertRow, rate: number, sends: number, now: number): VerificationEvent {
  return {
    type,
    serviceId: a.serviceId,
    verificationId: null,
    status: null,
    channel: a.channel === "CALL" ? "CALL" : "SMS",
    at: now,
    country: a.country,
    alert: { alertId: a.id, metric: a.metric, rate: round(rate), sends, baseline: round(a.baseline) },
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
