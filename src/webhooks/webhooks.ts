import { randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../clock.js";
import { QueueRunner } from "../delivery/queue-runner.js";
import { backoffDelay, type RetryPolicy } from "../delivery/retry.js";
import { seal, unseal } from "../delivery/seal.js";
import { invalidParameter } from "../errors.js";
import type { EventOutbox } from "../events/outbox.js";
import type { EventPublisher, VerificationEvent } from "../events/types.js";
import { currentRequestId, type Logger } from "../log.js";
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
  /** The longest the worker sleeps between looks at the outbox (see QueueRunner). @default 30000 */
  maxSleepMs?: number;
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
export class Webhooks extends QueueRunner<WebhookDeliveryRow> implements EventOutbox {
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  /** The endpoints as last read (the publisher's test of whether an event was written). */
  private known: ReadonlyMap<string, ServiceWebhookRow> = new Map();
  private seq = 0;

  constructor(private readonly o: WebhooksOptions) {
    // The worker: claims, batches, slots and sleeping until the next delivery is due (the runner shared
    // with delivery jobs). A claim must outlast one request, or a slow endpoint's delivery would be
    // taken over mid-flight.
    const timeoutMs = o.timeoutMs ?? 5_000;
    const clock = o.clock ?? systemClock;
    super({ name: "webhooks", queue: o.store, clock, log: o.log, leaseMs: 3 * timeoutMs + 1000, concurrency: o.concurrency, maxSleepMs: o.maxSleepMs });
    this.clock = clock;
    this.timeoutMs = timeoutMs;
    this.retry = o.retry ?? { maxAttempts: 12, baseDelayMs: 1_000, maxDelayMs: 3_600_000 };
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

  // ---- the worker (QueueRunner's loop) ----

  /** One try of a claimed delivery: delivered, rescheduled with backoff, or given up. */
  protected async handle(row: WebhookDeliveryRow): Promise<void> {
    const { store, log } = this.o;
    const owner = this.owner;
    const endpoint = await store.getEndpoint(row.serviceId);
    const now = () => this.clock.now();
    if (!endpoint) {
      await store.finish(row.id, owner, "failed", null, "the service has no webhook any more", now());
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
        await store.finish(row.id, owner, "delivered", status, null, now());
        this.o.onAttempt?.("delivered", status);
        log.debug("webhook: delivered", { id: row.id, type: row.eventType, status, attempt: row.attempts });
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    if (row.attempts >= this.retry.maxAttempts) {
      await store.finish(row.id, owner, "failed", status, error, now());
      this.o.onAttempt?.("failed", status);
      log.warn("webhook: failed for good", { id: row.id, serviceId: row.serviceId, type: row.eventType, attempts: row.attempts, status, error });
      return;
    }
    const delay = backoffDelay(this.retry, row.attempts);
    await store.reschedule(row.id, owner, now() + delay, status, error ?? "failed", now());
    this.o.onAttempt?.("retry", status);
    log.info("webhook: will retry", { id: row.id, serviceId: row.serviceId, type: row.eventType, attempt: row.attempts, retryInMs: delay, status, error });
  }
}
