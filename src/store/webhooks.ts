/**
 * Outbound webhooks' state: each service's endpoint (URL, events, sealed secret) and the durable
 * queue of deliveries, the same transactional-outbox pattern as delivery jobs (store/delivery.ts):
 * rows written in the transaction of the change they report ({@link EventRows}), claimed under a
 * lease, retried with backoff, taken over when their worker died.
 *
 * Order: deliveries that share an `orderKey` (a verification's events, or one alert's) go out one at
 * a time in `seq` order: only the oldest open delivery of a key can be claimed, so a later event never
 * overtakes an earlier one, even while the earlier one is being retried.
 */
export interface ServiceWebhookRow {
  serviceId: string;
  url: string;
  /** WebhookEventType[] as JSON. */
  events: string;
  /** The signing secret, sealed under a key derived from CODE_SECRET (delivery/seal.ts), the service id as AAD. */
  sealedSecret: string;
  createdAt: number;
  updatedAt: number;
}

export type WebhookDeliveryStatus = "pending" | "sending" | "delivered" | "failed";

export interface WebhookDeliveryRow {
  /** `msg_` + 32 hex: the `webhook-id` header, the same on every try (receivers deduplicate on it). */
  id: string;
  serviceId: string;
  orderKey: string;
  /** Enqueue order: ms × 4096 + a per-process counter, so events of one key keep their order. */
  seq: number;
  eventType: string;
  /** The JSON body, exactly as signed and sent. */
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  runAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** HTTP status of the last answer (null: no answer). */
  lastStatus: number | null;
  lastError: string | null;
  requestId: string | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * The webhook deliveries an event needs, built from the row of the state change the event reports,
 * inside that change's transaction, so they commit or roll back together (the transactional outbox,
 * as delivery jobs are: a crash can no longer fall between a change and its event). Synchronous
 * (SQLite's transactions never await); [] when no webhook wants the event. Writes that report events
 * take one as their last argument; without it they run as they always did.
 */
export type EventRows<T> = (row: T) => WebhookDeliveryRow[];

export interface WebhookStore {
  /** Every service's endpoint, by service id (configuration: read from the instances' cache). */
  endpoints(): Promise<ReadonlyMap<string, ServiceWebhookRow>>;
  getEndpoint(serviceId: string): Promise<ServiceWebhookRow | null>;
  /** Configuration writes: every instance's cache drops the endpoints within its poll period. */
  upsertEndpoint(row: ServiceWebhookRow): Promise<void>;
  deleteEndpoint(serviceId: string): Promise<boolean>;
  enqueue(row: WebhookDeliveryRow): Promise<void>;
  /**
   * Claims up to `limit` due deliveries for `owner` until `now + leaseMs`, each the oldest open one of
   * its order key: `pending` ones whose `runAt` came, and `sending` ones whose lease expired. The claim
   * re-tests "due" on every row it takes, so two workers never hold the same delivery.
   */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<WebhookDeliveryRow[]>;
  /**
   * When the next open delivery becomes claimable: the earliest head of a queue that is pending, or a
   * lease's end; null when none is open. A delivery waiting behind its key's head is not due on its own.
   */
  nextDueAt(): Promise<number | null>;
  /** Final state (`delivered` or `failed`); guarded by `status = 'sending' AND lease_owner = owner`. */
  finish(id: string, owner: string, status: "delivered" | "failed", httpStatus: number | null, error: string | null, now: number): Promise<boolean>;
  /** Back to `pending` at `runAt` after a failed try; guarded like {@link finish}. */
  reschedule(id: string, owner: string, runAt: number, httpStatus: number | null, error: string, now: number): Promise<boolean>;
  listDeliveries(serviceId: string, limit: number): Promise<WebhookDeliveryRow[]>;
}
