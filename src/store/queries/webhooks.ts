import { cached, writeConfig, type ConfigCache } from "../config-cache.js";
import { insertValues, selectList } from "../schema/define.js";
import { serviceWebhooks, webhookDeliveries } from "../schema/tables.js";
import { all, get, query, run, type Db, type Query, type Step } from "../sql/query.js";
import type { EventRows, ServiceWebhookRow, WebhookDeliveryRow, WebhookStore } from "../webhooks.js";

const E = selectList(serviceWebhooks);
const W = selectList(webhookDeliveries);
/** Guarded like every write of a claimed delivery: still `sending`, and still ours. */
const OWNED = "id = :id and status = 'sending' and lease_owner = :owner";
/** No open delivery of the same order key was enqueued before this one (`w` is the candidate). */
const HEAD = "not exists (select 1 from webhook_deliveries e where e.order_key = w.order_key and e.seq < w.seq and e.status in ('pending', 'sending'))";

const q = {
  endpoints: query<object, ServiceWebhookRow>(`select ${E} from service_webhooks`),
  upsertEndpoint: query<ServiceWebhookRow>(
    `insert into service_webhooks ${insertValues(serviceWebhooks)}
     on conflict (service_id) do update set url = excluded.url, events = excluded.events, sealed_secret = excluded.sealed_secret, updated_at = excluded.updated_at`,
  ),
  deleteEndpoint: query<{ serviceId: string }>("delete from service_webhooks where service_id = :serviceId"),
  enqueue: query<WebhookDeliveryRow>(`insert into webhook_deliveries ${insertValues(webhookDeliveries)}`),
  /**
   * As the delivery jobs' claim (queries/delivery.ts): stale leases first, then due deliveries, each by
   * its own index range and LIMIT (PostgreSQL: locked SKIP LOCKED), and "due" tested again on every
   * row the UPDATE takes. Only the head of its order key's queue is a candidate, so a later event of
   * a verification never overtakes an earlier one, even while the earlier one is being retried.
   */
  claim: query<{ owner: string; now: number; leaseUntil: number; limit: number }, WebhookDeliveryRow>(
    (d) => `update webhook_deliveries set status = 'sending', lease_owner = :owner, lease_until = :leaseUntil, attempts = attempts + 1, updated_at = :now
     where id in (
       with stale as (select id, lease_until as at from webhook_deliveries w where status = 'sending' and lease_until <= :now order by lease_until limit :limit ${d.skipLocked}),
            due as (select id, run_at as at from webhook_deliveries w where status = 'pending' and run_at <= :now and ${HEAD} order by run_at limit :limit ${d.skipLocked})
       select id from (select id, 0 as pri, at from stale union all select id, 1 as pri, at from due) c order by pri, at limit :limit)
     and ((status = 'pending' and run_at <= :now) or (status = 'sending' and lease_until <= :now))
     returning ${W}`,
  ),
  /** Each part by its own index range: the first pending head by run_at, the earliest lease's end. */
  nextDue: query<object, { pending: number | null; lease: number | null }>(
    `select (select run_at from webhook_deliveries w where status = 'pending' and ${HEAD} order by run_at limit 1) as pending,
            (select min(lease_until) from webhook_deliveries where status = 'sending') as lease`,
  ),
  finish: query<{ id: string; owner: string; status: string; httpStatus: number | null; error: string | null; now: number }>(
    `update webhook_deliveries set status = :status, lease_owner = null, lease_until = null, last_status = :httpStatus, last_error = :error, updated_at = :now where ${OWNED}`,
  ),
  reschedule: query<{ id: string; owner: string; runAt: number; httpStatus: number | null; error: string; now: number }>(
    `update webhook_deliveries set status = 'pending', run_at = :runAt, lease_owner = null, lease_until = null, last_status = :httpStatus, last_error = :error, updated_at = :now where ${OWNED}`,
  ),
  list: query<{ serviceId: string; limit: number }, WebhookDeliveryRow>(`select ${W} from webhook_deliveries where service_id = :serviceId order by seq desc limit :limit`),
};

/** In a transaction body: inserts the webhook deliveries `events` builds for `row` (the transactional outbox). */
export function* enqueueEvents<T>(events: EventRows<T> | undefined, row: T): Generator<Step, void, unknown> {
  if (!events) return;
  for (const d of events(row)) yield* run(q.enqueue, d);
}

/**
 * A one-statement write that reports an event: alone when no webhook can want it (`events` absent),
 * else the write and the deliveries of its event in one transaction (none when it changed nothing).
 */
export async function getWithEvents<P extends object, R>(db: Db, write: Query<P, R>, params: P, events: EventRows<R> | undefined): Promise<R | undefined> {
  if (!events) return db.get(write, params);
  return db.transaction(function* () {
    const row = yield* get(write, params);
    if (row !== undefined) yield* enqueueEvents(events, row);
    return row;
  });
}

/** {@link getWithEvents} for a write that changes many rows, each reporting its event. */
export async function allWithEvents<P extends object, R>(db: Db, write: Query<P, R>, params: P, events: EventRows<R> | undefined): Promise<R[]> {
  if (!events) return db.all(write, params);
  return db.transaction(function* () {
    const rows = yield* all(write, params);
    for (const row of rows) yield* enqueueEvents(events, row);
    return rows;
  });
}

/** Webhook endpoints (cached configuration) and the webhook outbox; every write one guarded statement. */
export class SqlWebhookStore implements WebhookStore {
  /** `cache` serves the endpoints (store/config-cache.ts); without one every read queries. */
  constructor(
    private readonly db: Db,
    private readonly cache?: ConfigCache,
  ) {}

  endpoints(): Promise<ReadonlyMap<string, ServiceWebhookRow>> {
    return cached(this.cache, "webhooks", async () => new Map((await this.db.all(q.endpoints, {})).map((r) => [r.serviceId, r])));
  }

  async getEndpoint(serviceId: string): Promise<ServiceWebhookRow | null> {
    return (await this.endpoints()).get(serviceId) ?? null;
  }

  async upsertEndpoint(row: ServiceWebhookRow): Promise<void> {
    await writeConfig(this.db, this.cache, () => run(q.upsertEndpoint, row));
  }

  async deleteEndpoint(serviceId: string): Promise<boolean> {
    return (await writeConfig(this.db, this.cache, () => run(q.deleteEndpoint, { serviceId }))) > 0;
  }

  async enqueue(row: WebhookDeliveryRow): Promise<void> {
    await this.db.run(q.enqueue, row);
  }

  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<WebhookDeliveryRow[]> {
    return this.db.all(q.claim, { owner, now, leaseUntil: now + leaseMs, limit });
  }

  async nextDueAt(): Promise<number | null> {
    const r = await this.db.get(q.nextDue, {});
    const at = [r?.pending, r?.lease].filter((x): x is number => x !== null && x !== undefined);
    return at.length ? Math.min(...at) : null;
  }

  async finish(id: string, owner: string, status: "delivered" | "failed", httpStatus: number | null, error: string | null, now: number): Promise<boolean> {
    return (await this.db.run(q.finish, { id, owner, status, httpStatus, error, now })) > 0;
  }

  async reschedule(id: string, owner: string, runAt: number, httpStatus: number | null, error: string, now: number): Promise<boolean> {
    return (await this.db.run(q.reschedule, { id, owner, runAt, httpStatus, error, now })) > 0;
  }

  listDeliveries(serviceId: string, limit: number): Promise<WebhookDeliveryRow[]> {
    return this.db.all(q.list, { serviceId, limit });
  }
}
