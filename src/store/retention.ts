/**
 * The retention's work on the store (retention/purger.ts has the rules and the loop). Every method
 * is one bounded statement or one short transaction of a few: the purger calls them in small batches
 * and lets requests run in between, so none holds the write lock for long.
 */

/** Rows of one table a run deleted, and rows it kept with the personal data taken out. */
export interface RowCount {
  deleted: number;
  anonymized: number;
}

/** A position in a service's decision log, (createdAt, id): the anonymization resumes after it. */
export type LogPosition = [at: number, id: string];

/** What the purger keeps between runs (shared by every instance: any of them may hold the lease next). */
export interface PurgerState {
  /** Per service: every decision up to this position has had its number replaced. */
  anonymizedUntil?: Record<string, LogPosition>;
}

/** The last finished run, as `/readyz` and the admin query `storeStatus` show it. */
export interface PurgeReport {
  /** The instance that ran it. */
  owner: string;
  startedAt: number;
  finishedAt: number;
  /** Per table: rows deleted and rows anonymized. */
  tables: Record<string, RowCount>;
  /** SQLite: bytes handed back to the file system by incremental_vacuum. */
  vacuumedBytes: number;
  /** The database's size on disk after the run. */
  sizeBytes: number;
  /** The run stopped on an error (the next run picks up where it stopped). */
  error: string | null;
}

export interface LeaseRow {
  owner: string | null;
  leaseUntil: number | null;
  lastRun: PurgeReport | null;
  state: PurgerState;
}

/** A decision the anonymization looks at: its number (null, E.164, or already `#` + token) and its verification. */
export interface DecisionRef {
  id: string;
  createdAt: number;
  to: string | null;
  verificationId: string | null;
}

export interface StoreSize {
  /** The database's size on disk (SQLite: pages in the file; PostgreSQL: pg_database_size). */
  bytes: number;
  /** Of those, pages free for reuse (SQLite's freelist; 0 on PostgreSQL, whose autovacuum manages it). */
  freeBytes: number;
}

export interface RetentionStore {
  /**
   * Takes (or renews) the lease of job `name` for `owner` until `until`, when it is free, expired or
   * already `owner`'s. One conditional upsert: of two instances asking at once, one gets it.
   */
  acquire(name: string, owner: string, now: number, until: number): Promise<boolean>;
  /** Ends `owner`'s lease, recording the run's report and the job's state. */
  release(name: string, owner: string, report: PurgeReport, state: PurgerState, now: number): Promise<void>;
  lease(name: string): Promise<LeaseRow | null>;

  /** The services the decision log has rows of (deleted services included): a few index seeks. */
  decisionServices(): Promise<string[]>;
  /**
   * Deletes up to `limit` of the service's oldest decisions made before `cutoff`, with their
   * verifications (and those's send attempts and delivery jobs), except verifications still PENDING
   * within their TTL. One transaction.
   */
  deleteDecisions(serviceId: string, cutoff: number, now: number, limit: number): Promise<Record<string, number>>;
  /** Up to `limit` of the service's decisions after `after` and before `cutoff`, oldest first. */
  decisionsBefore(serviceId: string, after: LogPosition, cutoff: number, limit: number): Promise<DecisionRef[]>;
  /**
   * Replaces numbers: on the given decisions (IP and tags set to null too) and on the given
   * verifications that still hold a number in clear (their code hash and seed and PSD2 amount and payee
   * wiped; PENDING ones within their TTL are left). One transaction.
   */
  anonymize(decisions: { id: string; to: string | null }[], verifications: { id: string; to: string }[], now: number): Promise<{ decisions: number; verifications: number }>;
  /** Verifications (with their attempts and jobs) that expired before `cutoff` whatever their decisions say. */
  deleteVerificationsExpiredBefore(cutoff: number, limit: number): Promise<Record<string, number>>;
  /** Delivery jobs that reached a final state before `cutoff`. */
  deleteFinishedJobs(cutoff: number, limit: number): Promise<number>;
  /** Webhook deliveries delivered or given up before `cutoff`. */
  deleteFinishedWebhooks(cutoff: number, limit: number): Promise<number>;
  /** Limiter windows whose expiry (wall clock, as the limiter writes it) passed. */
  deleteExpiredLimits(now: number, limit: number): Promise<number>;
  /** Detector buckets that started before `before`. */
  deleteCountersBefore(before: number, limit: number): Promise<number>;
  /** Roll-up rows (hourly, daily, per prefix) of buckets that ended before `cutoff`, with spend days, old alerts and erasure audits. */
  deleteRollupsBefore(cutoff: number, limit: number): Promise<Record<string, number>>;

  size(): Promise<StoreSize>;
  /** SQLite: hands up to `pages` free pages back to the file system; the number handed back. 0 elsewhere. */
  vacuumStep(pages: number): Promise<number>;
}
