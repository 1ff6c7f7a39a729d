import type { ErrorCode } from "../errors.js";
import type { ParsedPhone } from "../phone.js";
import type { Channel, RiskWrites, Role, ServiceRow } from "../store/types.js";
import type { CounterRead, CounterReads } from "./window-counter.js";

/** What a request brings to the risk pipeline. */
export interface RiskRequest {
  kind: "START" | "CHECK";
  service: ServiceRow;
  /** The number as the caller sent it (parsed by the phone stage). */
  rawTo: string;
  countryHint?: string;
  /** START: the requested channel. CHECK: the verification's channel, when known. */
  channel: Channel | null;
  /** Client IP (from the socket, or X-Forwarded-For behind a trusted proxy); null when unknown. */
  ip: string | null;
  role: Role;
  /** False when a trusted backend passed `riskCheck: DISABLE` (skips geo and prefix guard). */
  riskCheck: boolean;
  tags: Record<string, string>;
  /** Values for the service's named rate-limit buckets, e.g. { end_user_id: "u-42" }. */
  rateLimitValues: Record<string, string>;
}

/** The request plus what stages learned on the way. Stages add to it; none removes. */
export interface RiskContext extends RiskRequest {
  now: number;
  /**
   * How many times this request was decided before and its commit refused (a gate taken by other
   * requests meanwhile): 0 at first. A stage that decides optimistically reads what it needs on a retry.
   */
  retry: number;
  /** Set by the phone stage. */
  phone?: ParsedPhone;
  /** Set by the safe-list stage: trusted numbers skip fraud stages (never limits). */
  trusted?: boolean;
  /** Set by the geo stage: the destination's permission for this channel. */
  geoPermission?: "ALLOW" | "MONITOR" | "BLOCK";
  /** Shadow-mode findings: what stages would have blocked. */
  shadow: { stage: string; code: ErrorCode; reason: string }[];
}

export type { RiskWrites };

export type Decision =
  | { action: "allow"; writes?: Partial<RiskWrites> }
  | { action: "block"; code: ErrorCode; reason: string; retryAfterSeconds?: number; writes?: Partial<RiskWrites> };

export const allow: Decision = { action: "allow" };
export const block = (code: ErrorCode, reason: string, retryAfterSeconds?: number): Decision => ({
  action: "block",
  code,
  reason,
  retryAfterSeconds,
});
/** An input the request got wrong (60200), as "field: why": the lifecycle names the field in `detail.field`. */
export const invalid = (field: string, why: string): Decision => block("INVALID_PARAMETER", `${field}: ${why}`);

/** No writes. */
export const noWrites = (): RiskWrites => ({ counts: [] });

/** Adds `more` to `into` (counts and limits appended; a later spend replaces an earlier one). */
export function mergeWrites(into: RiskWrites, more: Partial<RiskWrites> | undefined): RiskWrites {
  if (!more) return into;
  if (more.counts) into.counts.push(...more.counts);
  if (more.limits?.length) (into.limits ??= []).push(...more.limits);
  if (more.spend) into.spend = more.spend;
  return into;
}

/**
 * The writes of a check that turned out to be no failed attempt (the right code, or a retry of a spent
 * verification): its wrong-guess limits are tested but not taken, so concurrent guesses still cannot
 * pass them, and the check costs the number's owner nothing.
 */
export function asNotFailure(w: RiskWrites): RiskWrites {
  if (!w.limits?.some((l) => l.failedOnly)) return w;
  return { ...w, limits: w.limits.map((l) => (l.failedOnly ? { key: l.key, bucket: l.bucket, add: 0, max: l.max - l.add } : l)) };
}

/**
 * One stage of the pipeline. A stage returns a decision; it never throws for a business outcome
 * (the runner treats a thrown error as an internal failure). A stage never imports another stage:
 * it reads what earlier stages put on the context.
 */
export interface RiskStage {
  readonly name: string;
  /** Which requests it looks at. */
  readonly appliesTo: ReadonlyArray<"START" | "CHECK">;
  /** Fraud stages are skipped for safe-listed numbers and `riskCheck: DISABLE`; limits never are. */
  readonly fraud: boolean;
  /**
   * The counter sums `evaluate` decides from. The pipeline fetches the reads of every stage (and
   * observer) of a request in one batch, before the first stage that has any; pure.
   */
  reads?(ctx: RiskContext): CounterRead[] | Promise<CounterRead[]>;
  /**
   * Decides from the context and the reads (given when it declared {@link reads}); returns the writes
   * it needs with the decision.
   */
  evaluate(ctx: RiskContext, reads?: CounterReads): Promise<Decision> | Decision;
  /**
   * What `evaluate` took for this request at once (limits consumed in Redis, outside the request's
   * commit) goes back: the part that counts failed checks when the check turned out to be no failed
   * attempt, or `all` of it when the request's commit was refused and it is decided again.
   */
  giveBack?(ctx: RiskContext, all?: boolean): Promise<void>;
}

/** Feedback the domain gives after the pipeline allowed a request (for detectors). */
export type RiskOutcome =
  | { type: "sent"; ctx: RiskContext; verificationId: string }
  /** `to` (E.164) lets the signals tell approved numbers from unapproved ones in a sequence. */
  | { type: "approved"; serviceId: string; verificationId: string; prefix: string | null; country?: string | null; now: number; to?: string };

/**
 * An observer's writes for an outcome, and what it does once the request committed: a rare action
 * that is a write and an event of its own (the pumping detector's block, at most once per attack).
 */
export type ObserverPlan = Partial<RiskWrites> & { afterCommit?: () => Promise<void> };

/**
 * What follows a request the pipeline allowed (the pumping detector, the signals, the spend guard):
 * its writes, planned before the request commits so they commit with it.
 */
export interface RiskObserver {
  /** The counter sums {@link plan} needs for a `sent` outcome (fetched with the stages' reads). */
  reads?(ctx: RiskContext): CounterRead[];
  /** The writes an outcome needs, decided from the reads (no I/O of its own beyond cached config). */
  plan(outcome: RiskOutcome, reads: CounterReads): Promise<ObserverPlan> | ObserverPlan;
  /** Plans and applies the writes itself, at once (tests and tools; the lifecycle commits instead). */
  observe(outcome: RiskOutcome): Promise<void>;
}

export interface PipelineResult {
  ctx: RiskContext;
  decision: Decision;
  /** The writes of every stage that ran (a blocking stage's included, and those of shadowed blocks). */
  writes: RiskWrites;
  /** What the stages and observers read (observers plan from it after the decision). */
  reads: CounterReads;
  /** The stage that blocked, when it did. */
  stage: string | null;
}
