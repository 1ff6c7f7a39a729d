import { performance } from "node:perf_hooks";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EventPublisher, VerificationEvent } from "./events/types.js";
import { MICROS_PER_USD } from "./risk/prices.js";
import type { RiskDecisionRow } from "./store/types.js";

/**
 * Prometheus metrics (prom-client), served at `GET /metrics` (http/metrics.ts).
 *
 * Cheap on the hot path: every figure is a counter or histogram in this process's memory, moved by
 * code that already runs (an event published, a store call returning); nothing is read or written
 * per request to count it. Each instance exposes its own counts; Prometheus sums them.
 *
 * Labels are bounded: a service id (services are created by admins), a channel, a country from
 * {@link DEFAULT_METRIC_COUNTRIES} or METRICS_COUNTRIES (any other is `other`, none is `unknown`),
 * stage and error-code names from the code. No label ever holds a phone number, an IP or a free text.
 */

/** The countries that keep their own label value by default: the largest SMS-verification markets. */
export const DEFAULT_METRIC_COUNTRIES = [
  "US", "CA", "MX", "BR", "AR", "CO", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "TR", "RU", "UA",
  "IN", "PK", "BD", "ID", "PH", "VN", "TH", "MY", "CN", "JP", "KR", "AU", "NG", "EG", "ZA", "KE", "SA", "AE",
];

/** Histogram buckets (seconds) for in-process and database calls: 50 µs to 2.5 s. */
const FAST_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the delivery worker and the status-callback webhook report (delivery/worker.ts, http/twilio-webhook.ts). */
export interface DeliveryMetrics {
  /** One try of a send: `sent`, `retry` (transient error, rescheduled), `failed` (for good) or `canceled`. */
  attempt(channel: string, outcome: "sent" | "retry" | "failed" | "canceled", errorCode: number | null): void;
  /** A status callback recorded (Twilio's status mapped to ours). */
  callback(channel: string, status: string, errorCode: number | null): void;
}

export interface MetricsOptions {
  /** Countries that keep their own label value; others are `other`. @default DEFAULT_METRIC_COUNTRIES */
  countries?: readonly string[];
  /** Process metrics (CPU, memory, GC, event-loop lag) from prom-client. @default true */
  defaultMetrics?: boolean;
}

export class Metrics implements DeliveryMetrics {
  readonly registry = new Registry();
  private readonly countries: ReadonlySet<string>;

  readonly started: Counter<"service" | "channel" | "country">;
  readonly sends: Counter<"service" | "channel" | "country">;
  readonly checks: Counter<"service" | "channel" | "country" | "result">;
  readonly approved: Counter<"service" | "channel" | "country">;
  readonly ended: Counter<"service" | "channel" | "country" | "status">;
  readonly decisions: Counter<"kind" | "outcome" | "stage" | "code">;
  readonly shadowBlocks: Counter<"stage" | "code">;
  readonly limiterSeconds: Histogram<"op">;
  readonly storeSeconds: Histogram<"store" | "op">;
  readonly httpSeconds: Histogram<"route" | "method" | "status">;
  readonly deliveryAttempts: Counter<"channel" | "outcome" | "error_code">;
  readonly deliveryCallbacks: Counter<"channel" | "status" | "error_code">;
  readonly spend: Counter<"service" | "share">;
  readonly approvalTokens: Counter<"service">;
  readonly webhookAttempts: Counter<"outcome" | "status">;
  readonly alertChanges: Counter<"service" | "country" | "channel" | "metric" | "change">;
  readonly purgedRows: Counter<"table" | "action">;
  readonly storeBytes: Gauge;
  readonly lastPurge: Gauge;

  constructor(opts: MetricsOptions = {}) {
    this.countries = new Set((opts.countries ?? DEFAULT_METRIC_COUNTRIES).map((c) => c.toUpperCase()));
    const registers = [this.registry];
    const vlabels = ["service", "channel", "country"] as const;
    this.started = new Counter({ name: "verify_guard_verifications_started_total", help: "Verifications created (a first send).", labelNames: vlabels, registers });
    this.sends = new Counter({ name: "verify_guard_verification_sends_total", help: "Sends asked for: first sends and resends.", labelNames: vlabels, registers });
    this.checks = new Counter({
      name: "verify_guard_verification_checks_total",
      help: "Checks that reached a verification, by result: approved, wrong, max_attempts.",
      labelNames: [...vlabels, "result"],
      registers,
    });
    this.approved = new Counter({ name: "verify_guard_verifications_approved_total", help: "Verifications approved.", labelNames: vlabels, registers });
    this.ended = new Counter({
      name: "verify_guard_verifications_ended_total",
      help: "Verifications that ended without approval, by status: CANCELED, EXPIRED, FAILED, MAX_ATTEMPTS_REACHED.",
      labelNames: [...vlabels, "status"],
      registers,
    });
    this.decisions = new Counter({
      name: "verify_guard_risk_decisions_total",
      help: "Risk decisions recorded, by kind (START, CHECK), outcome (ALLOWED, BLOCKED), blocking stage and code.",
      labelNames: ["kind", "outcome", "stage", "code"],
      registers,
    });
    this.shadowBlocks = new Counter({
      name: "verify_guard_risk_shadow_blocks_total",
      help: "What stages in shadow mode would have blocked (the request went on).",
      labelNames: ["stage", "code"],
      registers,
    });
    this.limiterSeconds = new Histogram({ name: "verify_guard_limiter_duration_seconds", help: "Rate-limiter calls to Redis (REDIS_URL; without it the limits are taken in the request's commit).", labelNames: ["op"], buckets: FAST_BUCKETS, registers });
    this.storeSeconds = new Histogram({
      name: "verify_guard_store_duration_seconds",
      help: "Store calls, by store (verifications, delivery, fraud, limits, approvals) and method.",
      labelNames: ["store", "op"],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.httpSeconds = new Histogram({
      name: "verify_guard_http_request_duration_seconds",
      help: "HTTP requests, by route, method and status.",
      labelNames: ["route", "method", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.deliveryAttempts = new Counter({
      name: "verify_guard_delivery_attempts_total",
      help: "Tries to hand a code to the provider, by outcome (sent, retry, failed, canceled) and the provider's error code.",
      labelNames: ["channel", "outcome", "error_code"],
      registers,
    });
    this.deliveryCallbacks = new Counter({
      name: "verify_guard_delivery_callbacks_total",
      help: "Provider status callbacks recorded, by status (queued, sent, delivered, undelivered, failed) and error code.",
      labelNames: ["channel", "status", "error_code"],
      registers,
    });
    this.spend = new Counter({
      name: "verify_guard_spend_usd_total",
      help: "Estimated spend charged to the daily budget, US dollars, by service and budget share (protected, capped).",
      labelNames: ["service", "share"],
      registers,
    });
    this.approvalTokens = new Counter({ name: "verify_guard_approval_tokens_issued_total", help: "Approval tokens issued by approving checks.", labelNames: ["service"], registers });
    this.webhookAttempts = new Counter({
      name: "verify_guard_webhook_attempts_total",
      help: "Webhook requests, by outcome (delivered, retry, failed for good) and the endpoint's HTTP status.",
      labelNames: ["outcome", "status"],
      registers,
    });
    this.alertChanges = new Counter({
      name: "verify_guard_delivery_alerts_total",
      help: "Delivery-rate alerts raised and cleared, by service, country, channel and metric.",
      labelNames: ["service", "country", "channel", "metric", "change"],
      registers,
    });
    this.purgedRows = new Counter({
      name: "verify_guard_purged_rows_total",
      help: "Rows the retention's purger deleted or anonymized, by table and action (runs of this instance).",
      labelNames: ["table", "action"],
      registers,
    });
    this.storeBytes = new Gauge({ name: "verify_guard_store_bytes", help: "The database's size on disk after this instance's last purge.", registers });
    this.lastPurge = new Gauge({ name: "verify_guard_last_purge_timestamp_seconds", help: "When this instance's last purge finished (0: none yet).", registers });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "" });
  }

  /** `other` for a country outside the list, `unknown` for none. */
  country(c: string | null | undefined): string {
    if (!c) return "unknown";
    return this.countries.has(c) ? c : "other";
  }

  /** Counts a domain event; the verification counters are all derived from the events. */
  event(e: VerificationEvent): void {
    const labels = { service: e.serviceId, channel: e.channel ?? "unknown", country: this.country(e.country) };
    switch (e.type) {
      case "CREATED":
        this.started.inc(labels);
        this.sends.inc(labels);
        return;
      case "RESENT":
        this.sends.inc(labels);
        return;
      case "APPROVED":
        this.approved.inc(labels);
        this.checks.inc({ ...labels, result: "approved" });
        return;
      case "CHECK_FAILED":
        this.checks.inc({ ...labels, result: "wrong" });
        return;
      case "MAX_ATTEMPTS_REACHED":
        this.checks.inc({ ...labels, result: "max_attempts" });
        this.ended.inc({ ...labels, status: e.type });
        return;
      case "CANCELED":
      case "EXPIRED":
      case "FAILED":
        this.ended.inc({ ...labels, status: e.type });
        return;
      default:
        return;
    }
  }

  /**
   * Spend charged to a service's daily budget (a reservation, or a charge the guard did not reserve
   * for), by the share it drew on: `capped` (MONITOR, new and unconverted destinations) or `protected`.
   */
  spent(serviceId: string, usdMicros: number, capped: boolean): void {
    this.spend.inc({ service: serviceId, share: capped ? "capped" : "protected" }, usdMicros / MICROS_PER_USD);
  }

  /** Counts a recorded risk decision (and what shadowed stages would have done). */
  decision(row: Pick<RiskDecisionRow, "kind" | "outcome" | "stage" | "code" | "shadow">): void {
    this.decisions.inc({ kind: row.kind, outcome: row.outcome, stage: row.stage ?? "none", code: row.code ?? "none" });
    if (row.shadow) for (const s of parseShadow(row.shadow)) this.shadowBlocks.inc(s);
  }

  attempt(channel: string, outcome: "sent" | "retry" | "failed" | "canceled", errorCode: number | null): void {
    this.deliveryAttempts.inc({ channel, outcome, error_code: errorCode === null ? "none" : String(errorCode) });
  }

  callback(channel: string, status: string, errorCode: number | null): void {
    this.deliveryCallbacks.inc({ channel, status, error_code: errorCode === null ? "none" : String(errorCode) });
  }

  /** An EventPublisher that counts each event, then hands it on. */
  countingPublisher(inner: EventPublisher): EventPublisher {
    return {
      publish: (e) => {
        this.event(e);
        inner.publish(e);
      },
    };
  }

  /**
   * Times every method of `target` that returns a promise into `storeSeconds{store=name, op=method}`
   * (or `limiterSeconds{op}` when name is `limiter`). Properties pass through.
   * `after` hooks see a method's result and arguments once it succeeded (e.g. to count the decisions a
   * store recorded, or the spend it charged).
   */
  timed<T extends object>(name: string, target: T, after: Partial<Record<string, (result: never, ...args: never[]) => void>> = {}): T {
    const wrapped = new Map<PropertyKey, unknown>();
    const histogram = this.storeSeconds;
    const limiter = this.limiterSeconds;
    return new Proxy(target, {
      get(t, prop) {
        const v = Reflect.get(t, prop, t) as unknown;
        if (typeof v !== "function" || typeof prop !== "string" || prop === "constructor") return v;
        let w = wrapped.get(prop);
        if (!w) {
          const fn = v as (...args: unknown[]) => unknown;
          const hook = after[prop] as ((result: unknown, ...args: unknown[]) => void) | undefined;
          // Bound once per method: an observation is then a clock read and a bucket increment.
          const series = name === "limiter" ? limiter.labels({ op: prop }) : histogram.labels({ store: name, op: prop });
          w = function (this: unknown, ...args: unknown[]) {
            const started = performance.now();
            const end = () => series.observe((performance.now() - started) / 1000);
            let r: unknown;
            try {
              r = fn.apply(t, args);
            } catch (err) {
              end();
              throw err;
            }
            if (r instanceof Promise) {
              return r.then(
                (value: unknown) => {
                  end();
                  hook?.(value, ...args);
                  return value;
                },
                (err: unknown) => {
                  end();
                  throw err;
                },
              );
            }
            end();
            hook?.(r, ...args);
            return r;
          };
          wrapped.set(prop, w);
        }
        return w;
      },
    });
  }

  /** A purge run of this instance: rows per table and action, the store's size after it. */
  purged(r: { tables: Record<string, { deleted: number; anonymized: number }>; finishedAt: number; sizeBytes: number }): void {
    for (const [table, c] of Object.entries(r.tables)) {
      if (c.deleted) this.purgedRows.inc({ table, action: "deleted" }, c.deleted);
      if (c.anonymized) this.purgedRows.inc({ table, action: "anonymized" }, c.anonymized);
    }
    this.storeBytes.set(r.sizeBytes);
    this.lastPurge.set(r.finishedAt / 1000);
  }

  /** `verify_guard_delivery_alerts_open`: 1 per open alert (as of this instance's last evaluation). */
  openAlertsGauge(read: () => readonly { serviceId: string; country: string; channel: string; metric: string }[]): void {
    const country = (c: string) => this.country(c);
    new Gauge({
      name: "verify_guard_delivery_alerts_open",
      help: "Open delivery-rate alerts (1 each), by service, country, channel and metric.",
      labelNames: ["service", "country", "channel", "metric"],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const a of read()) this.inc({ service: a.serviceId, country: country(a.country), channel: a.channel, metric: a.metric });
      },
    });
  }

  /** The text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Shadow findings are stored as `stage:CODE:reason; …` (verification/decisions.ts). */
function parseShadow(text: string): { stage: string; code: string }[] {
  return [...text.matchAll(/(?:^|; )([a-z][a-z0-9-]*):([A-Z][A-Z0-9_]*):/g)].map((m) => ({ stage: m[1]!, code: m[2]! }));
}

/** A gauge read at scrape time (open subscriptions, open alerts …). */
export function gaugeOf(m: Metrics, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [m.registry],
    collect() {
      this.set(read());
    },
  });
}
