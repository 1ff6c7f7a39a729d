import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Clock } from "../clock.js";
import { requestContext, type Logger } from "../log.js";

/** How long a notification waits for others to join its claim (ms): a batch, at a cost below any provider's latency. */
const NOTIFY_BATCH_MS = 2;

/** A durable queue a {@link QueueRunner} works off: rows claimed under a lease (delivery jobs, webhook deliveries). */
export interface LeasedQueue<Row> {
  /**
   * Claims up to `limit` due rows for `owner` until `now + leaseMs` (pending ones whose time came,
   * and claimed ones whose lease ran out); two claimers never get the same row.
   */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<Row[]>;
  /** When the next open row becomes claimable (a retry's time, a lease's end), or null when none is open. */
  nextDueAt(): Promise<number | null>;
}

/** What a runner needs of a row: its id (logs) and the request that created it (its scope). */
export interface QueueRow {
  id: string;
  requestId: string | null;
}

export interface QueueRunnerOptions<Row extends QueueRow> {
  /** What the log lines call it ("delivery", "webhooks"). */
  name: string;
  queue: LeasedQueue<Row>;
  clock: Clock;
  log: Logger;
  /** How long a claim lasts; must outlast one `handle`. */
  leaseMs: number;
  /** Rows in hand at once. @default 8 */
  concurrency?: number;
  /**
   * The longest the runner sleeps between looks at the queue (wall clock). It sleeps until the next
   * row is due, and at most this long, for rows another instance committed and never got to work (it
   * died right after its commit). @default 30000
   */
  maxSleepMs?: number;
}

/**
 * The worker loop of a transactional outbox, written once for delivery jobs (delivery/worker.ts) and
 * webhook deliveries (webhooks/webhooks.ts), which extend it with their {@link handle}: claims due
 * rows in batches up to the free slots, hands each to `handle`, and sleeps until the next row is due.
 * `notify()` (a row was committed here, or a slot freed) wakes it a couple of milliseconds later, so
 * rows committed together share one claim; in between, nothing polls.
 */
export abstract class QueueRunner<Row extends QueueRow> {
  /** This process's claims: `host:pid:random`. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly concurrency: number;
  private readonly inFlight = new Set<Promise<void>>();
  private filling: Promise<void> | null = null;
  private again = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  /** The pending wake-up of {@link notify} (notifications within NOTIFY_BATCH_MS share it). */
  private soon: NodeJS.Timeout | undefined;

  constructor(private readonly runner: QueueRunnerOptions<Row>) {
    this.concurrency = runner.concurrency ?? 8;
  }

  /**
   * Works one claimed row to its next state (done, rescheduled, given up), guarded by this runner's
   * lease ({@link owner}). Runs in the scope of the request that created the row (its log lines carry
   * that id). A throw is logged and leaves the lease to expire, so the row is tried again.
   */
  protected abstract handle(row: Row): Promise<void>;

  /** Starts working off due rows (those left by a previous run or a dead instance go first). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.notify();
  }

  /** Rows were committed (or a slot freed): look for due rows soon; never waits. */
  notify(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      // Claims run outside the scope of whatever poked the runner: each row gets its own.
      requestContext.exit(() => void this.fill());
    }, NOTIFY_BATCH_MS);
  }

  /** Resolves once every row due now has been worked and none is in hand (tests, shutdown). */
  async idle(): Promise<void> {
    if (!this.running) return;
    for (;;) {
      await this.fill();
      if (this.inFlight.size === 0) return;
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** Stops claiming and waits for the rows in hand; open rows stay for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.filling;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims due rows up to the free slots; one claimer at a time, re-run when poked meanwhile. */
  private fill(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.filling) {
      this.again = true;
      return this.filling;
    }
    this.filling = this.claimLoop()
      .then(() => this.sleepUntilDue())
      .finally(() => {
        this.filling = null;
      });
    return this.filling;
  }

  private async claimLoop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (this.running && this.inFlight.size < this.concurrency) {
          const free = this.concurrency - this.inFlight.size;
          const rows = await this.runner.queue.claimDue(this.owner, this.runner.clock.now(), this.runner.leaseMs, free);
          for (const row of rows) {
            const run = () => this.work(row);
            const p: Promise<void> = (row.requestId ? requestContext.run({ requestId: row.requestId }, run) : requestContext.exit(run)).finally(() => {
              this.inFlight.delete(p);
              this.notify(); // a slot is free, and the next row of an ordered queue may be due now
            });
            this.inFlight.add(p);
          }
          if (rows.length < free) break;
        }
      } while (this.again && this.running);
    } catch (err) {
      this.runner.log.error(`${this.runner.name}: claiming failed`, { error: String(err) });
    }
  }

  private async work(row: Row): Promise<void> {
    try {
      await this.handle(row);
    } catch (err) {
      // The database or a bug: leave the lease to expire, and the row to be tried again.
      this.runner.log.error(`${this.runner.name}: crashed`, { id: row.id, error: err instanceof Error ? err.stack : String(err) });
    }
  }

  /**
   * Sets the one wake-up timer: when the next open row becomes claimable (the queue knows), at most
   * `maxSleepMs` away. Every slot busy: the next one to free wakes the runner (notify), no timer needed.
   */
  private async sleepUntilDue(): Promise<void> {
    if (!this.running || this.inFlight.size >= this.concurrency) return;
    const max = this.runner.maxSleepMs ?? 30_000;
    let wait = max;
    try {
      const at = await this.runner.queue.nextDueAt();
      // A few ms at least: a row due now that another instance is claiming is not worth a busy loop.
      if (at !== null) wait = Math.min(max, Math.max(5, at - this.runner.clock.now()));
    } catch (err) {
      this.runner.log.error(`${this.runner.name}: looking for the next due row failed`, { error: String(err) });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.notify(), wait);
    this.timer.unref();
  }
}
