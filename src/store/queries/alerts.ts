import type { AlertFigures, DeliveryAlertRow, DeliveryAlertStore } from "../alerts.js";
import { insertValues, selectList } from "../schema/define.js";
import { deliveryAlerts } from "../schema/tables.js";
import { query, run, type Db } from "../sql/query.js";
import type { EventRows } from "../webhooks.js";
import { enqueueEvents, getWithEvents } from "./webhooks.js";

const A = selectList(deliveryAlerts);

const q = {
  /** One grouped scan of the send attempts of the baseline and the recent window. */
  figures: query<{ from: number; recentFrom: number; until: number }, AlertFigures>(
    `select v.service_id as "serviceId", coalesce(v.country_code, 'unknown') as "country", s.channel as "channel",
       sum(case when s.at >= :recentFrom then 1 else 0 end) as "recentSends",
       sum(case when s.at >= :recentFrom and s.delivery_status = 'delivered' then 1 else 0 end) as "recentDelivered",
       sum(case when s.at >= :recentFrom and v.status = 'APPROVED' then 1 else 0 end) as "recentApproved",
       sum(case when s.at < :recentFrom then 1 else 0 end) as "baseSends",
       sum(case when s.at < :recentFrom and s.delivery_status = 'delivered' then 1 else 0 end) as "baseDelivered",
       sum(case when s.at < :recentFrom and v.status = 'APPROVED' then 1 else 0 end) as "baseApproved"
     from send_attempts s join verifications v on v.id = s.verification_id
     where s.at >= :from and s.at < :until
     group by v.service_id, coalesce(v.country_code, 'unknown'), s.channel`,
  ),
  /** The unique open key decides between instances raising the same alert. */
  raise: query<DeliveryAlertRow>(`insert into delivery_alerts ${insertValues(deliveryAlerts)} on conflict do nothing`),
  resolve: query<{ id: string; at: number; rate: number; sends: number }, DeliveryAlertRow>(
    `update delivery_alerts set open_key = null, resolved_at = :at, recovered_rate = :rate, recovered_sends = :sends where id = :id and resolved_at is null returning ${A}`,
  ),
  listOpen: query<object, DeliveryAlertRow>(`select ${A} from delivery_alerts where resolved_at is null`),
  /** `open`: 1 only open, 0 only cleared, null both. */
  list: query<{ serviceId: string | null; open: number | null; limit: number }, DeliveryAlertRow>(
    (d) => `select ${A} from delivery_alerts
     where (${d.text(":serviceId")} is null or service_id = :serviceId)
       and (${d.int(":open")} is null or (:open = 1 and resolved_at is null) or (:open = 0 and resolved_at is not null))
     order by raised_at desc, id limit :limit`,
  ),
};

/** Delivery-rate alerts and the figures they are judged on. */
export class SqlDeliveryAlertStore implements DeliveryAlertStore {
  constructor(private readonly db: Db) {}

  figures(from: number, recentFrom: number, until: number): Promise<AlertFigures[]> {
    return this.db.all(q.figures, { from, recentFrom, until });
  }

  async raise(row: DeliveryAlertRow, events?: EventRows<DeliveryAlertRow>): Promise<boolean> {
    if (!events) return (await this.db.run(q.raise, row)) > 0;
    return this.db.transaction(function* () {
      if ((yield* run(q.raise, row)) === 0) return false;
      yield* enqueueEvents(events, row);
      return true;
    });
  }

  async resolve(id: string, at: number, rate: number, sends: number, events?: EventRows<DeliveryAlertRow>): Promise<DeliveryAlertRow | null> {
    return (await getWithEvents(this.db, q.resolve, { id, at, rate, sends }, events)) ?? null;
  }

  listOpen(): Promise<DeliveryAlertRow[]> {
    return this.db.all(q.listOpen, {});
  }

  list(f: { serviceId?: string | null; open?: boolean | null; limit: number }): Promise<DeliveryAlertRow[]> {
    return this.db.all(q.list, { serviceId: f.serviceId ?? null, open: f.open == null ? null : f.open ? 1 : 0, limit: f.limit });
  }
}
