import type { ApiKeys, Caller } from "../auth/keys.js";
import type { Clock } from "../clock.js";
import type { OutboxChannel } from "../delivery/outbox.js";
import type { Logger } from "../log.js";
import type { Privacy } from "../privacy/privacy.js";
import type { RetentionAdmin } from "../retention/admin.js";
import type { FraudAdmin } from "../risk/fraud-admin.js";
import type { LimitsAdmin } from "../risk/limits-admin.js";
import type { DecisionLog } from "../stats/decision-log.js";
import type { FraudStats } from "../stats/fraud-stats.js";
import type { Store } from "../store/types.js";
import type { DeliveryAlerts } from "../alerts/delivery-alerts.js";
import type { Webhooks } from "../webhooks/webhooks.js";
import type { ApprovalTokens } from "../verification/approval-tokens.js";
import type { ConsentRecords } from "../verification/consent.js";
import type { Lifecycle } from "../verification/lifecycle.js";
import type { Services } from "../verification/services.js";
import type { EventWatcher } from "../verification/watch.js";

/** The domain services resolvers call; built once in the composition root. */
export interface AppServices {
  /** For tests and tools that inspect rows; resolvers and adapters call the domain services below, never this. */
  store: Store;
  clock: Clock;
  log: Logger;
  services: Services;
  lifecycle: Lifecycle;
  apiKeys: ApiKeys;
  /** Present when the outbox is the delivery channel. */
  outbox: OutboxChannel | null;
  /** Rate limits, daily budgets, spend and prices (admin operations of the limits and spend stages). */
  limits: LimitsAdmin;
  /** Safe list, geo permissions, blocked prefixes, protection level, shadow mode (admin operations of the fraud stages). */
  fraud: FraudAdmin;
  /** Fraud statistics and the conversion summary (admin queries). */
  stats: FraudStats;
  /** The attempts log (admin query `verificationAttempts`). */
  decisionLog: DecisionLog;
  /** Who may watch what, and the live event streams (subscriptions). */
  watcher: EventWatcher;
  /** Approval tokens: signing keys, JWKS, redemption. */
  approvals: ApprovalTokens;
  /** Consent evidence: recorded with starts, listed and exported by admins. */
  consent: ConsentRecords;
  /** Outbound webhooks: endpoints and their outbox. */
  webhooks: Webhooks;
  /** Delivery-rate alerts. */
  alerts: DeliveryAlerts;
  /** Data-subject requests: export and erasure of a number. */
  privacy: Privacy;
  /** The retention: the store's size, the last purge, services' own horizons. */
  retention: RetentionAdmin;
}

/** Per-request context: who calls, from where, and the app. */
export interface GraphQLContext {
  caller: Caller | null;
  ip: string | null;
  requestId: string;
  app: AppServices;
}
