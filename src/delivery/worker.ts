import type { Clock } from "../clock.js";
import { eventRows, type EventOutbox } from "../events/outbox.js";
import type { EventPublisher } from "../events/types.js";
import type { Logger } from "../log.js";
import type { DeliveryMetrics } from "../metrics.js";
import { maskPhone } from "../phone.js";
import type { AttemptWithVerification, DeliveryJobRow, DeliveryJobStore } from "../store/delivery.js";
import type { Store, VerificationRow } from "../store/types.js";
import { DeliveryError, type DeliveryChannel } from "./channel.js";
import { composeMessage } from "./compose.js";
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy } from "./retry.js";
import { QueueRunner } from "./queue-runner.js";
import { openCode } from "./seal.js";
import { deliveryStatusEvent } from "./status-event.js";

/**
 * What the domain sees of delivery. The lifecycle writes a delivery job in the same transaction as the
 * verification (a transactional outbox, see `Store.createOrResend`) and then only calls `notify()`:
 * the send happens in the background ({@link DeliveryWorker}), so `startVerification` never waits on the
 * provider's latency, and a job whose process died is sent by whichever instance runs next.
 */
export interface Dispatcher {
  /** A job was committed: look for due jobs now (never waits on the provider). */
  notify(): void;
  /** Resolves once every job due now has been tried and no send is in flight (tests, shutdown). */
  idle(): Promise<void>;
  /** Starts sending due jobs (and jobs whose worker died), then sleeps until the next is due. */
  start(): void;
  /** Stops claiming new jobs and waits for the sends in flight; open jobs stay for the next start. */
  stop(): Promise<void>;
}

export interface WorkerOptions {
  jobs: DeliveryJobStore;
  store: Store;
  channel: DeliveryChannel;
  clock: Clock;
  log: Logger;
  codeSecret: string;
  events: EventPublisher;
  /** The event outbox (webhooks): DELIVERY_STATUS's deliveries commit with the status it reports. */
  eventOutbox?: EventOutbox;
  /** Moves a verification to FAILED and tells subscribers (the lifecycle's `fail`). */
  failVerification: (verificationId: string) => Promise<unknown>;
  retry?: RetryPolicy;
  /** How long a claim lasts; must outlast one provider request. @default 30000 */
  leaseMs?: number;
  /** Sends in flight at once. @default 8 */
  concurrency?: number;
  /**
   * The longest the worker sleeps between looks at the jobs (wall clock). It sleeps until the next
   * job is due (a retry's runAt, a lease's end), and at most this long, for jobs another instance
   * committed and never got to send (it died right after its commit). @default 30000
   */
  maxSleepMs?: number;
  /** Counts each try's outcome (metrics). */
  metrics?: Pick<DeliveryMetrics, "attempt">;
}

/**
 * The in-process delivery worker. It claims due jobs with a lease (one guarded UPDATE, so two
 * workers, in this process or another instance, never hold the same job), renders and sends each,
 * and records the outcome: sent; retried later with backoff (429, 5xx, timeouts); or failed for good
 * (invalid, unreachable or blocked number, or out of tries), which also fails the verification.
 *
 * Exactly once, as far as the provider allows: a job is only re-sent when its lease expired, i.e.
 * when its worker died or hung mid-send. The retry then carries the job id as Twilio's idempotency
 * token (`I-Twilio-Idempotency-Token`), so a request Twilio already accepted is not sent twice.
 */
export class DeliveryWorker extends QueueRunner<DeliveryJobRow> implements Dispatcher {
  private readonly retry: RetryPolicy;

  constructor(private readonly o: WorkerOptions) {
    // Claims, batches, slots and sleeping until the next job is due: the runner shared with webhooks.
    super({ name: "delivery", queue: o.jobs, clock: o.clock, log: o.log, leaseMs: o.leaseMs ?? 30_000, concurrency: o.concurrency, maxSleepMs: o.maxSleepMs });
    this.retry = o.retry ?? DEFAULT_RETRY;
  }

  /** One claimed job: sent, rescheduled or given up (a throw, the database or a bug, leaves its lease to expire). */
  protected async handle(job: DeliveryJobRow): Promise<void> {
    const { store, jobs, clock, log } = this.o;
    const v = await store.getVerification(job.verificationId);
    const now = clock.now();
    if (!v || v.status !== "PENDING" || v.expiresAt <= now) {
      // No code for a verification that can no longer be approved (expired, canceled, approved …).
      if (await jobs.finish(job.id, this.owner, { status: "canceled", error: `verification is ${v ? (v.status === "PENDING" ? "expired" : v.status) : "gone"}` }, now)) {
        this.o.metrics?.attempt(job.channel, "canceled", null);
        if (v) await jobs.recordAttemptStatus(job.sendAttemptId, { status: "canceled" });
      }
      return;
    }
    if (job.attempts > this.retry.maxAttempts) {
      // Claimed again and again without an outcome: its worker keeps dying on it. Stop here.
      return await this.giveUp(job, v, new DeliveryError(`no outcome after ${job.attempts - 1} tries`, false));
    }
    const service = await store.getService(v.serviceId);
    if (!service || !job.sealedCode) return await this.giveUp(job, v, new DeliveryError("nothing to send", false));
    const message = composeMessage(job, v, service, openCode(this.o.codeSecret, job.id, job.sealedCode));
    let receipt;
    try {
      receipt = await this.o.channel.send(message);
    } catch (err) {
      return await this.failed(job, v, err instanceof DeliveryError ? err : new DeliveryError(String(err), true));
    }
    await jobs.finish(job.id, this.owner, { status: "sent", providerSid: receipt.providerSid }, clock.now());
    this.o.metrics?.attempt(job.channel, "sent", null);
    await jobs.recordAttemptStatus(job.sendAttemptId, { status: receipt.status, providerSid: receipt.providerSid });
    log.debug("delivery: sent", { jobId: job.id, to: maskPhone(v.to), channel: job.channel, providerSid: receipt.providerSid, attempt: job.attempts });
  }

  private async failed(job: DeliveryJobRow, v: VerificationRow, err: DeliveryError): Promise<void> {
    if (!err.retryable || job.attempts >= this.retry.maxAttempts) return this.giveUp(job, v, err);
    const now = this.o.clock.now();
    const delay = backoffDelay(this.retry, job.attempts);
    await this.o.jobs.reschedule(job.id, this.owner, now + delay, err.errorCode, err.message, now);
    this.o.metrics?.attempt(job.channel, "retry", err.errorCode);
    this.o.log.warn("delivery: will retry", {
      jobId: job.id,
      to: maskPhone(v.to),
      channel: job.channel,
      attempt: job.attempts,
      retryInMs: delay,
      status: err.status,
      errorCode: err.errorCode,
      error: err.message,
    });
  }

  /** A send that will not succeed: the job, its attempt and the verification become FAILED. */
  private async giveUp(job: DeliveryJobRow, v: VerificationRow, err: DeliveryError): Promise<void> {
    const now = this.o.clock.now();
    if (!(await this.o.jobs.finish(job.id, this.owner, { status: "failed", errorCode: err.errorCode, error: err.message }, now))) return;
    this.o.metrics?.attempt(job.channel, "failed", err.errorCode);
    // DELIVERY_STATUS `failed`, its webhook deliveries committed with the status (the event outbox).
    const statusEvent = (r: AttemptWithVerification) => deliveryStatusEvent(r, now);
    const attempt = await this.o.jobs.recordAttemptStatus(job.sendAttemptId, { status: "failed", errorCode: err.errorCode }, await eventRows(this.o.eventOutbox, v.serviceId, statusEvent));
    this.o.log.warn("delivery: failed", {
      code: "DELIVERY_FAILED",
      jobId: job.id,
      verificationId: v.id,
      to: maskPhone(v.to),
      channel: job.channel,
      attempts: job.attempts,
      status: err.status,
      errorCode: err.errorCode,
      error: err.message,
    });
    if (attempt) this.o.events.publish(statusEvent({ attempt, verification: v }));
    await this.o.failVerification(v.id);
  }
}
