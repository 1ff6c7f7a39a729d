import type { Config } from "../config.js";
import type { Counters } from "../risk/limiter.js";
import type { WindowCounter } from "../risk/window-counter.js";
import type { ApprovalStore } from "./approval.js";
import type { DeliveryJobStore } from "./delivery.js";
import type { FraudStore } from "./fraud.js";
import type { LimitsStore } from "./limits.js";
import type { StatsStore } from "./stats.js";
import { PgApprovalStore } from "./pg/approval.js";
import { pgCounters, PgLimitsStore, sweepPgRateLimits } from "./pg/limits.js";
import { PgDeliveryJobs } from "./pg/delivery.js";
import { PgFraudStore } from "./pg/fraud.js";
import { PgStatsStore } from "./pg/stats.js";
import { PgStore } from "./pg/store.js";
import { PgWindowCounter } from "./pg/window-counter.js";
import { SqliteApprovalStore } from "./sqlite/approval.js";
import { SqliteDeliveryJobs } from "./sqlite/delivery.js";
import { SqliteFraudStore } from "./sqlite/fraud.js";
import { SqliteLimitsStore, sqliteCounters, sweepRateLimits } from "./sqlite/limits.js";
import { SqliteStatsStore } from "./sqlite/stats.js";
import { SqliteStore } from "./sqlite/store.js";
import { SqliteWindowCounter } from "./sqlite/window-counter.js";
import type { Store } from "./types.js";

/**
 * Every store of one database, opened together: DATABASE_URL decides the dialect once, here, and the
 * rest of the app sees only interfaces. Each area's store shares the connection (SQLite file or
 * PostgreSQL pool) of the verification store, so their writes can join its transactions later.
 * An area that adds a store adds it to {@link Database} and to both branches of {@link openDatabase}.
 */
export interface Database {
  dialect: "sqlite" | "postgres";
  store: Store;
  limits: LimitsStore;
  delivery: DeliveryJobStore;
  /** Approval tokens' signing keys and redemptions. */
  approvals: ApprovalStore;
  /** Safe list, geo permissions, blocked prefixes (the fraud stages). */
  fraud: FraudStore;
  /** Read side of the decision log: fraud statistics, the attempts log (store/stats.ts). */
  stats: StatsStore;
  /** The fraud detectors' window counters kept in the database (a Redis one may replace them). */
  windowCounter: WindowCounter;
  /** Limiter counters kept in the database (REDIS_URL replaces them with Redis ones). */
  counters: Counters;
  /** Deletes expired limiter counters (runs on the app's sweeper). */
  sweepCounters(): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Opens (and migrates) the database DATABASE_URL names: `file:` SQLite, `postgres://` PostgreSQL. */
export async function openDatabase(database: Config["database"]): Promise<Database> {
  if (database.kind === "sqlite") {
    const store = new SqliteStore(database.file);
    return {
      dialect: "sqlite",
      store,
      limits: new SqliteLimitsStore(store.db),
      delivery: new SqliteDeliveryJobs(store.db),
      approvals: new SqliteApprovalStore(store.db),
      fraud: new SqliteFraudStore(store.db),
      stats: new SqliteStatsStore(store),
      windowCounter: new SqliteWindowCounter(store.db),
      counters: sqliteCounters(store.sqlite),
      sweepCounters: async () => sweepRateLimits(store.sqlite),
      ping: () => store.ping(),
      close: () => store.close(),
    };
  }
  const store = await PgStore.open(database.url);
  return {
    dialect: "postgres",
    store,
    limits: new PgLimitsStore(store.db),
    delivery: new PgDeliveryJobs(store.db),
    approvals: new PgApprovalStore(store.db),
    fraud: new PgFraudStore(store.db),
    stats: new PgStatsStore(store.db),
    windowCounter: new PgWindowCounter(store.db),
    counters: pgCounters(store.pool),
    sweepCounters: () => sweepPgRateLimits(store.pool),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
