/**
 * What the domain sees of delivery. The lifecycle writes a delivery job in the same transaction as the
 * verification (a transactional outbox, see `Store.createOrResend`) and then only calls `notify()`:
 * the send happens in the background (delivery/worker.ts), so `startVerification` never waits on the
 * provider's latency, and a job whose process died is sent by whichever instance runs next.
 */
export interface Dispatcher {
  /** A job was committed: look for due jobs now (never waits on the provider). */
  notify(): void;
  /** Resolves once every job due now has been tried and no send is in flight (tests, shutdown). */
  idle(): Promise<void>;
  /** Starts polling for due jobs (and jobs whose worker died). */
  start(): void;
  /** Stops claiming new jobs and waits for the sends in flight; open jobs stay for the next start. */
  stop(): Promise<void>;
}
