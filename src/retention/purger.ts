import type { Clock } from "../clock.js";
import type { Logger } from "../log.js";
import { anonymizedNumber } from "../privacy/privacy.js";
import type { NumberKey } from "../risk/number-key.js";
import type { ConsentStore } from "../store/consent.js";
import type { LogPosition, PurgeReport, PurgerState, RetentionStore, RowCount, StoreSize } from "../store/retention.js";
import type { ServiceRow } from "../store/types.js";

export const DAY_MS = 86_400_000;

/**
 * How long each kind of data is kept (milliseconds). The numbers horizon and the raw horizon may be
 * overridden per service (`riskSettings.retention`, in days).
 */
export interface RetentionPolicy {
  /** Verifications and risk decisions keep the number (and decisions the IP and tags) this long; then it is replaced by its keyed token. */
  numbersMs: number;
  /** Risk decisions, and the verifications (with send attempts and jobs) they refer to, are deleted after this. */
  rawMs: number;
  /** Hourly, daily and prefix roll-ups (and spend days, cleared alerts, erasure audits) are deleted after this. */
  rollupsMs: number;
  /** Delivery jobs and webhook deliveries are deleted this long after they finished. */
  finishedJobsMs: number;
  /** Consent records are deleted after this (CONSENT_RETENTION_DAYS). */
  consentMs: number;
  /** Detector buckets older than this can no longer count (the longest detector window, and one bucket). */
  countersMs: number;
}

/** A service's own horizons (riskSettings.retention), in days; absent = the deployment's. */
export interface ServiceRetention {
  numbersDays?: number;
  rawDays?: number;
}

export interface PurgerOptions {
  store: RetentionStore;
  consent: Pick<ConsentStore, "deleteConsentBefore">;
  /** The services and their own horizons. */
  services: () => Promise<ServiceRow[]>;
  numberKey: NumberKey;
  clock: Clock;
  log: Logger;
  policy: RetentionPolicy;
  /** This instance (the lease's owner). */
  owner: string;
  /** Rows per statement. @default 500 */
  batch?: number;
  /** Pages per incremental_vacuum step (SQLite). @default 256 (1 MiB) */
  vacuumPages?: number;
  /** Lease length; renewed while the run lasts. @default 60 s */
  leaseMs?: number;
  /** After each run (metrics). */
  onRun?: (report: PurgeReport) => void;
  /**
   * The wall clock, for what is written by it rather than by the injected clock: the limiter's window
   * expiry (rate-limiter-flexible's) and webhook deliveries' times (receivers compare them with theirs).
   * @default Date.now
   */
  wallClock?: () => number;
}

/** The store's size and the last purge, as /readyz and `storeStatus` show them. */
export interface StoreStatus extends StoreSize {
  lastRun: PurgeReport | null;
  /** The instance purging right now, if one is. */
  runningOn: string | null;
}

const JOB = "purger";
/** At least this long between two batches, and at least twice the last batch's time: the purger takes at most a third of the writer. */
const MIN_PAUSE_MS = 2;
/** Slack for the TTL of a verification that has no decision to go with (the orphan sweep). */
const ORPHAN_SLACK_MS = DAY_MS;

/**
 * The retention, run in the background: every interval one instance (the holder of a lease row in the
 * `maintenance` table) deletes or anonymizes what is past its horizon, in batches of `batch` rows, each
 * one statement or one short transaction, pausing between batches so that requests get the writer (the
 * pause is twice what the last batch took). On SQLite it then hands the freed pages back to the file
 * system with incremental_vacuum, in steps of a few hundred pages.
 *
 * Decisions drive the work on verifications: a service's decision log is read through its
 * (service_id, created_at, id) index, from the oldest row; a verification is deleted with its first
 * decision past the raw horizon, and anonymized with its first decision past the numbers horizon.
 * Anonymization resumes from a watermark per service (kept in the lease row's state), so rows already
 * anonymized are never read again. Anonymization cannot be undone: lengthening a horizon later keeps
 * what was already anonymized.
 */
export class Purger {
  private readonly batch: number;
  private readonly vacuumPages: number;
  private readonly leaseMs: number;
  private running: Promise<PurgeReport | null> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private lastRenew = 0;
  private cached: { at: number; status: StoreStatus } | null = null;

  constructor(private readonly d: PurgerOptions) {
    this.batch = d.batch ?? 500;
    this.vacuumPages = d.vacuumPages ?? 256;
    this.leaseMs = d.leaseMs ?? 60_000;
  }

  /** Runs now and then every `intervalMs` (timers never keep the process alive). */
  start(intervalMs: number): void {
    const tick = () => void this.runOnce().catch((err) => this.d.log.error("purge failed", { error: String(err) }));
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Stops after the current batch and releases the lease. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One run, unless one is going on here or another instance holds the lease (then null). */
  runOnce(): Promise<PurgeReport | null> {
    if (this.running) return this.running;
    this.running = this.run().finally(() => (this.running = null));
    return this.running;
  }

  /** Size and last run, read at most every few seconds (load balancers poll /readyz). */
  async status(maxAgeMs = 5_000): Promise<StoreStatus> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < maxAgeMs) return this.cached.status;
    const [size, lease] = await Promise.all([this.d.store.size(), this.d.store.lease(JOB)]);
    const runningOn = lease?.owner && lease.leaseUntil !== null && lease.leaseUntil > this.d.clock.now() ? lease.owner : null;
    const status = { ...size, lastRun: lease?.lastRun ?? null, runningOn };
    this.cached = { at: now, status };
    return status;
  }

  /** The horizons of one service (its own, else the deployment's). */
  policyOf(service: Pick<ServiceRow, "riskSettings"> | undefined): { numbersMs: number; rawMs: number } {
    const own = (service?.riskSettings.retention ?? {}) as ServiceRetention;
    return {
      numbersMs: own.numbersDays !== undefined ? own.numbersDays * DAY_MS : this.d.policy.numbersMs,
      rawMs: own.rawDays !== undefined ? own.rawDays * DAY_MS : this.d.policy.rawMs,
    };
  }

  get policy(): RetentionPolicy {
    return this.d.policy;
  }

  private async run(): Promise<PurgeReport | null> {
    const { store, clock } = this.d;
    const startedAt = clock.now();
    if (this.stopping || !(await store.acquire(JOB, this.d.owner, startedAt, startedAt + this.leaseMs))) return null;
    this.lastRenew = Date.now();
    const tables: Record<string, RowCount> = {};
    const count = (table: string, deleted: number, anonymized = 0) => {
      const c = (tables[table] ??= { deleted: 0, anonymized: 0 });
      c.deleted += deleted;
      c.anonymized += anonymized;
    };
    const counts = (r: Record<string, number>) => {
      for (const [t, n] of Object.entries(r)) count(t, n);
    };
    const state: PurgerState = (await store.lease(JOB))?.state ?? {};
    let vacuumedBytes = 0;
    let sizeBytes = 0;
    let error: string | null = null;
    try {
      const now = clock.now();
      const services = new Map((await this.d.services()).map((s) => [s.id, s]));
      const logServices = await store.decisionServices();
      const marks: Record<string, LogPosition> = {};
      for (const serviceId of logServices) {
        const p = this.policyOf(services.get(serviceId));
        await this.drain((limit) => store.deleteDecisions(serviceId, now - p.rawMs, now, limit), (r) => (counts(r), r.risk_decisions ?? 0));
        marks[serviceId] = await this.anonymizeService(serviceId, state.anonymizedUntil?.[serviceId] ?? [0, ""], now - p.numbersMs, now, count);
      }
      state.anonymizedUntil = marks;
      // Verifications no decision brought here (older data, tools): by their expiry, past every service's raw horizon.
      const longestRaw = Math.max(this.d.policy.rawMs, ...[...services.values()].map((s) => this.policyOf(s).rawMs));
      await this.drain((limit) => store.deleteVerificationsExpiredBefore(now - longestRaw - ORPHAN_SLACK_MS, limit), (r) => (counts(r), r.verifications ?? 0));
      const p = this.d.policy;
      await this.drain((limit) => store.deleteFinishedJobs(now - p.finishedJobsMs, limit), (n) => (count("delivery_jobs", n), n));
      const wall = this.d.wallClock ?? Date.now;
      await this.drain((limit) => store.deleteFinishedWebhooks(wall() - p.finishedJobsMs, limit), (n) => (count("webhook_deliveries", n), n));
      await this.drain((limit) => store.deleteExpiredLimits(wall(), limit), (n) => (count("rate_limits", n), n));
      await this.drain((limit) => store.deleteCountersBefore(now - p.countersMs, limit), (n) => (count("risk_counters", n), n));
      await this.drain((limit) => this.d.consent.deleteConsentBefore(now - p.consentMs, limit), (n) => (count("consent_records", n), n));
      await this.drain((limit) => store.deleteRollupsBefore(now - p.rollupsMs, limit), (r) => (counts(r), Math.max(r.risk_rollups ?? 0, r.risk_prefix_rollups ?? 0)));
      vacuumedBytes = await this.vacuum();
      sizeBytes = (await store.size()).bytes;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      this.d.log.error("purge stopped", { error });
    }
    const report: PurgeReport = { owner: this.d.owner, startedAt, finishedAt: clock.now(), tables, vacuumedBytes, sizeBytes, error };
    await store.release(JOB, this.d.owner, report, state, clock.now());
    this.cached = null;
    this.d.onRun?.(report);
    const touched = Object.entries(tables).filter(([, c]) => c.deleted + c.anonymized > 0);
    if (touched.length || vacuumedBytes) this.d.log.info("purge done", { ms: report.finishedAt - startedAt, tables: Object.fromEntries(touched), vacuumedBytes });
    return report;
  }

  /** Replaces the numbers of one service's decisions (and their verifications) from `from` up to `cutoff`. */
  private async anonymizeService(serviceId: string, from: LogPosition, cutoff: number, now: number, count: (t: string, d: number, a: number) => void): Promise<LogPosition> {
    let after = from;
    if (after[0] >= cutoff) return after; // a horizon lengthened since: what is anonymized stays so
    for (;;) {
      const started = Date.now();
      const rows = await this.d.store.decisionsBefore(serviceId, after, cutoff, this.batch);
      const decisions: { id: string; to: string | null }[] = [];
      const verifications = new Map<string, string>();
      for (const r of rows) {
        const clear = r.to !== null && r.to.startsWith("+");
        const anon = clear ? anonymizedNumber(this.d.numberKey(r.to!)) : r.to;
        decisions.push({ id: r.id, to: anon });
        if (clear && r.verificationId) verifications.set(r.verificationId, anon!);
      }
      if (rows.length) {
        const done = await this.d.store.anonymize(decisions, [...verifications].map(([id, to]) => ({ id, to })), now);
        count("risk_decisions", 0, done.decisions);
        count("verifications", 0, done.verifications);
        const last = rows.at(-1)!;
        after = [last.createdAt, last.id];
      }
      if (rows.length < this.batch || this.stopping) return rows.length < this.batch ? [cutoff, ""] : after;
      await this.breathe(Date.now() - started);
    }
  }

  /** Runs `step` in batches until one comes back short; `n` says how many rows a batch took. */
  private async drain<R>(step: (limit: number) => Promise<R>, n: (r: R) => number): Promise<void> {
    for (;;) {
      const started = Date.now();
      const took = n(await step(this.batch));
      if (took < this.batch || this.stopping) return;
      await this.breathe(Date.now() - started);
    }
  }

  /** SQLite: hands free pages back in steps; returns the bytes handed back. */
  private async vacuum(): Promise<number> {
    const before = await this.d.store.size();
    if (before.freeBytes === 0) return 0;
    for (;;) {
      const started = Date.now();
      const pages = await this.d.store.vacuumStep(this.vacuumPages);
      if (pages < this.vacuumPages || this.stopping) break;
      await this.breathe(Date.now() - started);
    }
    return before.bytes - (await this.d.store.size()).bytes;
  }

  /** Lets requests have the writer (twice as long as the last batch held it), and keeps the lease. */
  private async breathe(lastBatchMs: number): Promise<void> {
    await new Promise((r) => setTimeout(r, Math.max(MIN_PAUSE_MS, 2 * lastBatchMs)));
    if (Date.now() - this.lastRenew > this.leaseMs / 3) {
      const now = this.d.clock.now();
      if (!(await this.d.store.acquire(JOB, this.d.owner, now, now + this.leaseMs))) throw new Error("purge lease lost");
      this.lastRenew = Date.now();
    }
  }
}
