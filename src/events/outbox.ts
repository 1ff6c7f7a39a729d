import type { EventRows, WebhookDeliveryRow } from "../store/webhooks.js";
import type { VerificationEvent } from "./types.js";

/**
 * The transactional outbox of events (webhooks/webhooks.ts implements it). Code that writes a change
 * and publishes its event first asks {@link eventRows} for the rows the event needs, hands them to the
 * store write (whose transaction inserts them with the change: store/webhooks.ts's EventRows), and
 * publishes once the write returned. An event a webhook wants is then never lost between a commit and
 * a crash, and a change that rolls back sends nothing.
 */
export interface EventOutbox {
  /** Undefined when no webhook of `serviceId` (of any service, when omitted) is set: the write then runs alone. */
  rowsFor(serviceId?: string): Promise<((e: VerificationEvent) => WebhookDeliveryRow[]) | undefined>;
}

/**
 * The rows to commit with a write whose written row `eventOf` turns into its event (null: the row
 * reports none); undefined when there is no outbox or no webhook of the service can want it.
 */
export async function eventRows<T>(outbox: EventOutbox | undefined, serviceId: string | undefined, eventOf: (row: T) => VerificationEvent | null): Promise<EventRows<T> | undefined> {
  const rows = await outbox?.rowsFor(serviceId);
  if (!rows) return undefined;
  return (row) => {
    const e = eventOf(row);
    return e ? rows(e) : [];
  };
}
