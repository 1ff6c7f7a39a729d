import type { Config } from "../config.js";
import type { WindowCounter } from "../risk/window-counter.js";
import type { DeliveryAlertStore } from "./alerts.js";
import type { ApprovalStore } from "./approval.js";
import type { ConsentStore } from "./consent.js";
import type { PrivacyStore } from "./privacy.js";
import type { RetentionStore } from "./retention.js";
import type { DeliveryJobStore } from "./delivery.js";
import type { FraudStore } from "./fraud.js";
import type { LimitsStore } from "./limits.js";
import { ConfigCache } from "./config-cache.js";
import { SqlDeliveryAlertStore } from "./queries/alerts.js";
import { SqlApprovalStore } from "./queries/approval.js";
import { SqlConsentStore } from "./queries/consent.js";
import { SqlPrivacyStore } from "./queries/privacy.js";
import { SqlRetentionStore } from "./queries/retention.js";
import { SqlDeliveryJobs } from "./queries/delivery.js";
import { SqlFraudStore } from "./queries/fraud.js";
import { SqlLimitsStore } from "./queries/limits.js";
import { SqlStatsStore } from "./queries/stats.js";
import { SqlStore } from "./queries/store.js";
import { SqlWebhookStore } from "./queries/webhooks.js";
import { SqlWindowCounter } from "./queries/window-counter.js";
import { PgDb } from "./sql/pg.js";
import type { Db } from "./sql/query.js";
import { SqliteDb } from "./sql/sqlite.js";
import type { StatsStore } from "./stats.js";
import type { Store } from "./types.js";
import type { WebhookStore } from "./webhooks.js";

/**
 * Every store of one database, opened together: DATABASE_URL decides the dialect once, here, and the
 * rest of the app sees only interfaces. Every area's queries are written once (store/queries/*) over
 * the one connection (store/sql), so their writes can share its transactions.
 */
export interface Database {
  dialect: "sqlite" | "postgres";
  /** The query layer's handle on the database (tests and tools that run their own SQL). */
  db: Db;
  store: Store;
  limits: LimitsStore;
  delivery: DeliveryJobStore;
  /** Approval tokens' signing keys and redemptions. */
  approvals: ApprovalStore;
  /** Outbound webhook endpoints and their delivery outbox. */
  webhooks: WebhookStore;
  /** Delivery-rate alerts and the figures they are judged on. */
  alerts: DeliveryAlertStore;
  /** Safe list, geo permissions, blocked prefixes (the fraud stages). */
  fraud: FraudStore;
  /** Read side of the decision log: fraud statistics, the attempts log (store/stats.ts). */
  stats: SqlStatsStore & StatsStore;
  /** Evidence of opt-in consent (store/consent.ts). */
  consent: ConsentStore;
  /** Data-subject requests: a number's rows, their erasure, and its audit (store/privacy.ts). */
  privacy: PrivacyStore;
  /** The retention's deletes and anonymizations, the purger's lease, the store's size (store/retention.ts). */
  retention: RetentionStore;
  /** SQLite: opening rebuilt an existing file once (VACUUM) to switch it to incremental auto-vacuum. */
  rebuiltForIncrementalVacuum: boolean;
  /** The fraud detectors' window counters kept in the database (a Redis one may replace them). */
  windowCounter: WindowCounter;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens (and migrates) the database DATABASE_URL names: `file:` SQLite, `postgres://` PostgreSQL. */
export async function openDatabase(database: Config["database"]): Promise<Database> {
  const db: SqliteDb | PgDb = database.kind === "sqlite" ? new SqliteDb(database.file) : await PgDb.open(database.url);
  // Services, keys, safe list, geo permissions, blocks and prices: read from memory, invalidated across instances.
  const cache = new ConfigCache(db);
  await cache.start();
  return {
    dialect: db.dialect.name,
    db,
    store: new SqlStore(db, cache),
    limits: new SqlLimitsStore(db, cache),
    delivery: new SqlDeliveryJobs(db),
    approvals: new SqlApprovalStore(db),
    webhooks: new SqlWebhookStore(db, cache),
    alerts: new SqlDeliveryAlertStore(db),
    fraud: new SqlFraudStore(db, cache),
    stats: new SqlStatsStore(db),
    consent: new SqlConsentStore(db),
    privacy: new SqlPrivacyStore(db),
    retention: new SqlRetentionStore(db, db instanceof SqliteDb ? (pages) => db.vacuumStep(pages) : undefined),
    rebuiltForIncrementalVacuum: db instanceof SqliteDb && db.rebuiltForIncrementalVacuum,
    // Old buckets are the purger's to delete, in batches (retention/purger.ts), not a sweep on the request path.
    windowCounter: new SqlWindowCounter(db, { sweepEveryMs: Number.POSITIVE_INFINITY }),
    ping: () => db.ping(),
    close: () => {
      cache.stop();
      return db.close();
    },
  };
}
