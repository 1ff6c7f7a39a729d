import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { systemClock, type Clock } from "../clock.js";
import { backoffDelay, type RetryPolicy } from "../delivery/retry.js";
import { seal, unseal } from "../delivery/seal.js";
import { invalidParameter } from "../errors.js";
import type { EventOutbox } from "../events/outbox.js";
import type { EventPublisher, VerificationEvent } from "../events/types.js";
import { currentRequestId, requestContext, type Logger } from "../log.js";
import type { ServiceWebhookRow, WebhookDeliveryRow, WebhookStore } from "../store/webhooks.js";
import { orderKeyOf, WEBHOOK_EVENTS, webhookBody, webhookEventOf, type WebhookEvent } from "./events.js";
import { newWebhookSecret, signWebhook } from "./signing.js";

/** A service's endpoint as admins see it (the secret only when it was just made). */
export interface WebhookEndpoint {
  serviceId: string;
  url: string;
  events: WebhookEvent[];
  secret: string | null;
}

export interface WebhooksOptions {
  store: WebhookStore;
  codeSecret: string;
  log: Logger;
  /** Wall clock: timestamps receivers check against theirs, and retry times. @default systemClock */
  clock?: Clock;
  /** Per-request timeout (ms). @default 5000 */
  timeoutMs?: number;
  /** @default { maxAttempts: 12, baseDelayMs: 1000, maxDelayMs: 3_600_000 } */
  retry?: RetryPolicy;
  /** Deliveries in flight at once. @default 8 */
  concurrency?: number;
  /** Polling period for due retries and expired leases (ms). @default 1000 */
  pollMs?: number;
  /** Plain http:// endpoints are refused in production (secrets and events would travel in clear). */
  requireHttps?: boolean;
  /** Counts each try's outcome (metrics). */
  onAttempt?: (outcome: "delivered" | "retry" | "failed", status: number | null) => void;
}

const MAX_URL_LENGTH = 2048;

/**
 * Signed outbound webhooks (Standard Webhooks). A service sets a URL and the events it wants; every
 * such event is written to the webhook outbox (store/webhooks.ts) in the same transaction as the
 * change it reports ({@link Webhooks.rowsFor} builds the rows, the store write inserts them), and sent
 * from there by the worker below: signed, retried with backoff while the endpoint fails, in order per
 * verification, and picked up by the next instance if this one dies. Requests wait for one more
 * INSERT in their transaction, never for the endpoint: a slow or dead one only delays its own queue.
 */
export class Webhooks implements EventOutbox {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly concurrency: number;
  /** The endpoints as last read (the publisher's test of whether an event was written). */
  private known: ReadonlyMap<string, ServiceWebhookRow> = new Map();
  private readonly inFlight = new Set<Promise<void>>();
  private seq = 0;
  private filling: Promise<void> | null = null;
  private again = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: WebhooksOptions) {
    this.clock = o.clock ?? systemClock;
    this.timeoutMs = o.timeoutMs ?? 5_000;
    this.retry = o.retry ?? { maxAttempts: 12, baseDelayMs: 1_000, maxDelayMs: 3_600_000 };
    this.concurrency = o.concurrency ?? 8;
  }

  // ---- admin ----

  /** Sets (or replaces) a service's endpoint. A new secret is made on first set or when asked. */
  async set(serviceId: string, url: string, events: WebhookEvent[], rotateSecret = false): Promise<WebhookEndpoint> {
    this.assertUrl(url);
    const wanted = [...new Set(events)].filter((e) => (WEBHOOK_EVENTS as readonly string[]).includes(e));
    if (wanted.length === 0) throw invalidParameter("events", "name at least one event");
    const now = this.clock.now();
    const existing = await this.o.store.getEndpoint(serviceId);
    const secret = !existing || rotateSecret ? newWebhookSecret() : null;
    await this.o.store.upsertEndpoint({
      serviceId,
      url,
      events: JSON.stringify(wanted),
      sealedSecret: secret ? seal(this.o.codeSecret, "webhook-secret:v1", serviceId, secret) : existing!.sealedSecret,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    return { serviceId, url, events: wanted, secret };
  }

  async get(serviceId: string): Promise<WebhookEndpoint | null> {
    const row = await this.o.store.getEndpoint(serviceId);
    return row ? { serviceId, url: row.url, events: JSON.parse(row.events) as WebhookEvent[], secret: null } : null;
  }

  async remove(serviceId: string): Promise<boolean> {
    return this.o.store.deleteEndpoint(serviceId);
  }

  listDeliveries(serviceId: string, limit = 50): Promise<WebhookDeliveryRow[]> {
    return this.o.store.listDeliveries(serviceId, limit);
  }

  // ---- the outbox ----

  /**
   * The builder of the webhook deliveries of events of `serviceId` (of any service, when omitted), for
   * a write to commit with the change it reports (EventOutbox); undefined when no such webhook is set,
   * and the write then runs alone. Endpoints come from the configuration cache: a webhook set on
   * another instance is seen here within its poll period.
   */
  async rowsFor(serviceId?: string): Promise<((e: VerificationEvent) => WebhookDeliveryRow[]) | undefined> {
    const endpoints = await this.o.store.endpoints();
    this.known = endpoints;
    if (serviceId ? !endpoints.has(serviceId) : endpoints.size === 0) return undefined;
    return (e) => {
      const type = this.wanted(e, endpoints.get(e.serviceId));
      return type ? [this.delivery(e, type)] : [];
    };
  }

  /**
   * An EventPublisher that hands each event on and, when a webhook wants it, wakes the worker: the
   * event's delivery was committed with its change (the event is published after the commit).
   */
  publisher(inner: EventPublisher): EventPublisher {
    return {
      publish: (e) => {
        inner.publish(e);
        if (this.wanted(e, this.known.get(e.serviceId))) this.notify();
      },
    };
  }

  /** The body `type` `e` is sent as, when `endpoint` wants it; else null. */
  private wanted(e: VerificationEvent, endpoint: ServiceWebhookRow | undefined): string | null {
    const mapped = webhookEventOf(e);
    return mapped && endpoint && (JSON.parse(endpoint.events) as string[]).includes(mapped.event) ? mapped.type : null;
  }

  /** The outbox row of `e`, due now. */
  private delivery(e: VerificationEvent, type: string): WebhookDeliveryRow {
    const now = this.clock.now();
    const id = "msg_" + randomBytes(16).toString("hex");
    return {
      id,
      serviceId: e.serviceId,
      orderKey: orderKeyOf(e, id),
      seq: now * 4096 + (this.seq++ % 4096),
      eventType: type,
      payload: webhookBody(type, e),
      status: "pending",
      attempts: 0,
      runAt: now,
      leaseOwner: null,
      leaseUntil: null,
      lastStatus: null,
      lastError: null,
      requestId: currentRequestId(),
      createdAt: now,
      updatedAt: now,
    };
  }

  private assertUrl(url: string): void {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw invalidParameter("url", "not a URL");
    }
    if (url.length > MAX_URL_LENGTH) throw invalidParameter("url", `at most ${MAX_URL_LENGTH} characters`);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw invalidParameter("url", "must be http(s)");
    if (this.o.requireHttps && u.protocol !== "https:") throw invalidParameter("url", "must be https in production");
    if (u.username || u.password) throw invalidParameter("url", "must not carry credentials");
  }

  // ---- the worker ----

  start(): void {
    if (this.running) return;
    this.running = true;
    this.timer = setInterval(() => this.notify(), this.o.pollMs ?? 1000);
    this.timer.unref();
    this.notify();
  }

  notify(): void {
    requestContext.exit(() => void this.fill());
  }

  /** Resolves once every delivery due now was tried and none is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    if (!this.running) return;
    for (;;) {
      await this.fill();
      if (this.inFlight.size === 0) return;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.filling;
    await Promise.allSettled([...this.inFlight]);
  }

  private fill(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.filling) {
      this.again = true;
      return this.filling;
    }
    this.filling = this.claimLoop().finally(() => {
      this.filling = null;
    });
    return this.filling;
  }

  private async claimLoop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (this.running && this.inFlight.size < this.concurrency) {
          const free = this.concurrency - this.inFlight.size;
          // A claim must outlast one request, or a slow endpoint's delivery would be taken over mid-flight.
          const rows = await this.o.store.claimDue(this.owner, this.clock.now(), 3 * this.timeoutMs + 1000, free);
          for (const row of rows) {
            const run = () => this.send(row);
            const p: Promise<void> = (row.requestId ? requestContext.run({ requestId: row.requestId }, run) : run()).finally(() => {
              this.inFlight.delete(p);
              this.notify(); // the next delivery of its key may be due now
            });
            this.inFlight.add(p);
          }
          if (rows.length < free) break;
        }
      } while (this.again && this.running);
    } catch (err) {
      this.o.log.error("webhooks: claiming deliveries failed", { error: String(err) });
    }
  }

  private async send(row: WebhookDeliveryRow): Promise<void> {
    const { store, log } = this.o;
    try {
      const endpoint = await store.getEndpoint(row.serviceId);
      const now = () => this.clock.now();
      if (!endpoint) {
        await store.finish(row.id, this.owner, "failed", null, "the service has no webhook any more", now());
        return;
      }
      const secret = unseal(this.o.codeSecret, "webhook-secret:v1", row.serviceId, endpoint.sealedSecret);
      const timestamp = Math.floor(now() / 1000);
      let status: number | null = null;
      let error: string | null = null;
      try {
        const res = await fetch(endpoint.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "verify-guard-webhooks/1",
            "webhook-id": row.id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signWebhook(secret, row.id, timestamp, row.payload),
          },
          body: row.payload,
          redirect: "manual",
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = res.status;
        await res.body?.cancel().catch(() => undefined);
        if (res.status >= 200 && res.status < 300) {
          await store.finish(row.id, this.owner, "delivered", status, null, now());
          this.o.onAttempt?.("delivered", status);
          log.debug("webhook: delivered", { id: row.id, type: row.eventType, status, attempt: row.attempts });
          return;
        }
        error = `HTTP ${res.status}`;
      } catch (err) {
        error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      if (row.attempts >= this.retry.maxAttempts) {
        await store.finish(row.id, this.owner, "failed", status, error, now());
        this.o.onAttempt?.("failed", status);
        log.warn("webhook: failed for good", { id: row.id, serviceId: row.serviceId, type: row.eventType, attempts: row.attempts, status, error });
        return;
      }
      const delay = backoffDelay(this.retry, row.attempts);
      await store.reschedule(row.id, this.owner, now() + delay, status, error ?? "failed", now());
      this.o.onAttempt?.("retry", status);
      log.info("webhook: will retry", { id: row.id, serviceId: row.serviceId, type: row.eventType, attempt: row.attempts, retryInMs: delay, status, error });
    } catch (err) {
      // The database or a bug: leave the lease to expire and the delivery to be tried again.
      log.error("webhooks: delivery crashed", { id: row.id, error: err instanceof Error ? err.stack : String(err) });
    }
  }
}
