import type { EventRows } from "./webhooks.js";

/** Delivery-rate alerts' state (alerts/delivery-alerts.ts): the figures they are judged on, and the alerts. */
export type RateMetric = "DELIVERED_RATE" | "APPROVED_RATE";

/** Send attempts of one service × country × channel: in the recent window and in the baseline before it. */
export interface AlertFigures {
  serviceId: string;
  /** ISO country, or `unknown`. */
  country: string;
  channel: string;
  recentSends: number;
  recentDelivered: number;
  recentApproved: number;
  baseSends: number;
  baseDelivered: number;
  baseApproved: number;
}

export interface DeliveryAlertRow {
  id: string;
  serviceId: string;
  country: string;
  channel: string;
  metric: RateMetric;
  /** `service|country|channel|metric` while open, null once resolved (unique while set). */
  openKey: string | null;
  raisedAt: number;
  resolvedAt: number | null;
  /** Sends and rate of the recent window when raised, and the baseline's. */
  sends: number;
  rate: number;
  baseline: number;
  baselineSends: number;
  recoveredRate: number | null;
  recoveredSends: number | null;
}

export interface DeliveryAlertStore {
  /**
   * Per service × country × channel: sends made in [from, until), split at `recentFrom` into baseline
   * and recent, with how many of each were delivered (status callback) and approved.
   */
  figures(from: number, recentFrom: number, until: number): Promise<AlertFigures[]>;
  /**
   * Inserts an open alert unless one is open for its key (another instance raised it): false then.
   * `events` (here and in resolve): the webhook deliveries of the alert's event, committed with it.
   */
  raise(row: DeliveryAlertRow, events?: EventRows<DeliveryAlertRow>): Promise<boolean>;
  /** Clears an open alert with the recovered figures; null when it was already cleared. */
  resolve(id: string, at: number, rate: number, sends: number, events?: EventRows<DeliveryAlertRow>): Promise<DeliveryAlertRow | null>;
  listOpen(): Promise<DeliveryAlertRow[]>;
  /** Newest first; optionally one service's, optionally only open (true) or only cleared (false). */
  list(filter: { serviceId?: string | null; open?: boolean | null; limit: number }): Promise<DeliveryAlertRow[]>;
}
