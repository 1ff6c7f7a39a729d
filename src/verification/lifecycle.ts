import type { Caller } from "../auth/keys.js";
import type { Clock } from "../clock.js";
import type { Dispatcher } from "../delivery/worker.js";
import { newDeliveryJob } from "../delivery/jobs.js";
import { AppError, ErrorCatalog, invalidParameter } from "../errors.js";
import { eventRows, type EventOutbox } from "../events/outbox.js";
import type { EventPublisher, VerificationEvent, VerificationEventType } from "../events/types.js";
import { newSid } from "../ids.js";
import { parsePhone } from "../phone.js";
import type { Logger } from "../log.js";
import type { RiskPipeline } from "../risk/pipeline.js";
import { asNotFailure, mergeWrites, noWrites, type PipelineResult, type RiskRequest } from "../risk/types.js";
import type { WindowCounter } from "../risk/window-counter.js";
import type { Channel, CreateOrResendResult, RiskWrites, SendAttemptRow, ServiceRow, Store, VerificationRow } from "../store/types.js";
import type { EventRows } from "../store/webhooks.js";
import { deriveCode, hashCode, hashesEqual, newCodeSeed } from "./codes.js";
import { assertConsent, type ConsentInput, type ConsentRecords } from "./consent.js";
import { decisionRow, type BlockRecord } from "./decisions.js";
import { assertResendMatches, resendCode } from "./resend.js";
import type { ApprovalTokens } from "./approval-tokens.js";
import { assertCheckInput, assertStartInput, assertStartPrivileges, notFound, notPendingError, sendCapError } from "./rules.js";

export interface StartInput {
  serviceId: string;
  to: string;
  channel: Channel;
  locale?: string | null;
  customCode?: string | null;
  amount?: string | null;
  payee?: string | null;
  countryHint?: string | null;
  /** False = `riskCheck: DISABLE` (admin keys only). */
  riskCheck?: boolean;
  /** Up to 10 tags kept on the decision row (keys 1-64, values up to 256 characters). */
  tags?: Record<string, string>;
  rateLimitValues?: Record<string, string>;
  /** The name this send's message uses instead of the service's (1 to 30 characters). */
  customFriendlyName?: string | null;
  /**
   * The end user's IP, passed by a backend (admin keys only): the request then counts against that IP
   * (per-IP limits, IP signals, the decision row) as if the end user had called with a client key.
   */
  deviceIp?: string | null;
  /** Evidence of the user's opt-in (required when the service says so). */
  consent?: ConsentInput | null;
}

/** A verification named by its id, or (as Twilio allows in place of the SID) by its number's pending one. */
export type VerificationRef = { id: string } | { to: string };

export interface CheckInput {
  serviceId: string;
  to?: string | null;
  verificationId?: string | null;
  code: string;
  amount?: string | null;
  payee?: string | null;
}

/** Where the request came from, as the pipeline needs it. */
export interface RequestOrigin {
  caller: Caller;
  ip: string | null;
}

export interface CheckResult {
  verification: VerificationRow;
  valid: boolean;
  /** APPROVED only: the signed approval token for the app's backend (null if it could not be signed). */
  approvalToken: string | null;
}

export interface LifecycleDeps {
  store: Store;
  clock: Clock;
  codeSecret: string;
  pipeline: RiskPipeline;
  dispatcher: Dispatcher;
  events: EventPublisher;
  /**
   * The transactional outbox of events (webhooks): each write below that publishes an event commits
   * the event's webhook deliveries with it. Absent = no webhooks.
   */
  eventOutbox?: EventOutbox;
  log: Logger;
  /**
   * The risk stages' window counters. When they live in the store's database their increments commit
   * with the request; otherwise (Redis) they are sent right after the commit.
   */
  counters: Pick<WindowCounter, "inStore" | "incrMany">;
  /** Signs approval tokens for approving checks; absent = none issued. */
  approvals?: Pick<ApprovalTokens, "issue">;
  consent: ConsentRecords;
}

/**
 * The verification lifecycle (start, resend, check, cancel, expire). Every status move is one guarded
 * write in the store; this class decides what to ask for and what to answer.
 *
 * One write per request: the risk pipeline decides from what it read and returns the writes its
 * stages and observers need; a start commits them with the verification, its send attempt, its
 * delivery job and its decision row in one transaction (store.commitStart), a check with its guarded
 * status move (store.commitCheck), and a blocked request with its decision (store.commitDecision).
 * The rate limits and the spend reservation are among those writes, bounded: a commit they no longer
 * fit (other requests took them meanwhile) writes nothing, and the pipeline decides the request again
 * (RiskPipeline.decide). With REDIS_URL the limits are consumed in Redis before the commit instead.
 */
export class Lifecycle {
  constructor(private readonly d: LifecycleDeps) {}

  /** The risk pipeline's stage names, in order (what a service's `shadowStages` may name). */
  get riskStages(): string[] {
    return this.d.pipeline.stageNames;
  }

  async start(input: StartInput, origin: RequestOrigin): Promise<VerificationRow> {
    assertStartPrivileges(input, origin.caller);
    const service = await this.service(input.serviceId);
    assertStartInput(service, input);
    assertConsent(service, input.consent, this.d.clock.now());

    const request: RiskRequest = {
      kind: "START",
      service,
      rawTo: input.to,
      countryHint: input.countryHint ?? undefined,
      channel: input.channel,
      // A backend's DeviceIp is an end user's address: the IP rules treat it as a client key's.
      ip: input.deviceIp ?? origin.ip,
      role: input.deviceIp ? "CLIENT" : origin.caller.role,
      riskCheck: input.riskCheck ?? true,
      tags: input.tags ?? {},
      rateLimitValues: input.rateLimitValues ?? {},
    };
    // The verification's own rules come before the risk pipeline: a request they refuse costs no
    // limiter points, and the per-number send limit (which counts the same sends) cannot answer 20429
    // where Twilio answers 60203. The guarded write below still decides any race.
    const noPending = await this.assertSendable(request, input);

    return this.d.pipeline.decide(request, (risk) => this.commitStart(input, origin, service, noPending, risk));
  }

  /** A start the pipeline decided: refused with its block, or committed with everything it writes. */
  private async commitStart(input: StartInput, origin: RequestOrigin, service: ServiceRow, noPending: boolean, risk: PipelineResult): Promise<VerificationRow> {
    if (risk.decision.action === "block") throw await this.blocked(risk, "START");
    const phone = risk.ctx.phone!;

    const now = this.d.clock.now();
    const id = newSid("VE");
    const codeSeed = input.customCode != null ? null : newCodeSeed();
    const code = input.customCode ?? deriveCode(this.d.codeSecret, codeSeed!, service.codeLength);
    const fresh: VerificationRow = {
      id,
      serviceId: service.id,
      to: phone.e164,
      channel: input.channel,
      status: "PENDING",
      codeHash: hashCode(this.d.codeSecret, id, code),
      codeSeed,
      locale: input.locale ?? null,
      amount: input.amount ?? null,
      payee: input.payee ?? null,
      countryCode: phone.country,
      lineType: phone.lineType,
      checkAttempts: 0,
      sendAttempts: 1,
      expiresAt: now + service.ttlSeconds * 1000,
      createdAt: now,
      updatedAt: now,
    };
    const attempt = { id: newSid("VL"), verificationId: id, channel: input.channel, at: now, deliveryStatus: "queued", providerSid: null, price: null, priceUnit: null, errorCode: null };
    // A resend sends the same code again: re-derive it, or, for a custom code, send the one the caller
    // passed. The row found in the transaction may not be the one assertSendable saw (a race), so the
    // resend rules are asserted again here; a throw rolls the whole write back.
    const codeFor = (v: VerificationRow): string => {
      if (v.id === id) return code;
      assertResendMatches(this.d.codeSecret, v, input);
      return v.codeSeed ? resendCode(this.d.codeSecret, v, service.codeLength) : input.customCode!;
    };
    // What the send itself writes (the detectors' and signals' counts, a verdict, a shadowed charge),
    // planned from what the pipeline read, so it commits with the send.
    const sent = await this.d.pipeline.plan({ type: "sent", ctx: risk.ctx, verificationId: id }, risk.reads);
    const writes = mergeWrites(mergeWrites(noWrites(), risk.writes), sent.writes);
    const startEvent = (r: CreateOrResendResult) => (r.kind === "max_sends" ? null : this.event(r.verification, r.kind === "created" ? "CREATED" : "RESENT"));
    const result = await this.d.store.commitStart({
      events: await this.outbox(service.id, startEvent),
      fresh,
      attempt,
      maxSendAttempts: service.maxSendAttempts,
      now,
      noPendingSeen: noPending,
      // The transactional outbox: the send job (code sealed) commits with the send attempt.
      job: (v, a) =>
        newDeliveryJob({ verification: v, attempt: a, code: codeFor(v), locale: input.locale ?? v.locale, friendlyName: input.customFriendlyName?.trim() ?? null, codeSecret: this.d.codeSecret, now }),
      decision: {
        sent: decisionRow(risk, "START", { verificationId: null }),
        capped: decisionRow(risk, "START", { verificationId: null, block: { stage: "verification", code: "MAX_SEND_ATTEMPTS_REACHED", reason: "send cap of the verification reached" } }),
      },
      writes: this.storeWrites(writes),
      // The evidence commits with the send it allows: a code is never queued without it.
      // Its IP is the end user's: a backend's DeviceIp when it passed one, else the caller's.
      consent: input.consent ? this.d.consent.recordOf(service, phone.e164, input.consent, input.deviceIp ?? origin.ip) : null,
    });

    if (result.kind === "max_sends") throw sendCapError(result.verification, now);
    const v = result.verification;
    // Published before the worker is woken: the worker's DELIVERY_STATUS/FAILED events must follow
    // CREATED, and on PostgreSQL the awaits below give a fast-failing send time to overtake it.
    this.d.events.publish(startEvent(result)!);
    // The job is committed: wake the delivery worker. The send happens in the background, so this
    // request never waits on the provider (and a crash from here on loses nothing).
    this.d.dispatcher.notify();
    // Then what follows the send (Redis counts, a detector's block and its AUTO_BLOCKED event).
    await this.afterCommit(writes, now, sent.afterCommit);
    return v;
  }

  async check(input: CheckInput, origin: RequestOrigin): Promise<CheckResult> {
    const service = await this.service(input.serviceId);
    assertCheckInput(input);

    let v: VerificationRow | null = null;
    if (input.verificationId) {
      v = await this.d.store.getVerification(input.verificationId);
      if (v && v.serviceId !== service.id) v = null;
      if (!v) throw notFound();
    }
    const request: RiskRequest = {
      kind: "CHECK",
      service,
      rawTo: input.to ?? v?.to ?? "",
      channel: v?.channel ?? null,
      ip: origin.ip,
      role: origin.caller.role,
      riskCheck: true,
      tags: {},
      rateLimitValues: {},
    };
    return this.d.pipeline.decide(request, async (risk) => {
      if (risk.decision.action === "block") throw await this.blocked(risk, "CHECK");
      return this.settleCheck(input, service, v, risk);
    });
  }

  /**
   * A check the pipeline allowed: find the verification, compare the code, move the status.
   *
   * The limits counted this check as a failed attempt before any code was compared (so concurrent
   * guesses cannot overshoot). The right code is no failed attempt, and neither is a 60202 answer (the
   * verification was spent by wrong guesses already counted, so retrying it costs the owner nothing):
   * those commit `asNotFailure` (tested, not taken) and give back what was consumed at once. A 20404
   * stays counted: checks against numbers with nothing to check are limited like guesses, so a
   * never-seen number behaves as a known one.
   */
  private async settleCheck(input: CheckInput, service: ServiceRow, found: VerificationRow | null, risk: PipelineResult): Promise<CheckResult> {
    let v = found;
    if (!input.verificationId) {
      const e164 = risk.ctx.phone!.e164;
      v = (await this.d.store.findPending(service.id, e164)) ?? (await this.d.store.findLatest(service.id, e164));
    }
    // Every check the pipeline allowed is one decision row, whatever it finds.
    const decision = decisionRow(risk, "CHECK", { verificationId: v?.id ?? null });
    const now = this.d.clock.now();
    /** A check that moves nothing: its decision and counts committed, and the answer to throw. */
    const settled = async (answer: AppError): Promise<AppError> => {
      const notAFailure = answer.code === "MAX_CHECK_ATTEMPTS_REACHED";
      const writes = notAFailure ? asNotFailure(risk.writes) : risk.writes;
      await this.d.store.commitDecision(decision, this.storeWrites(writes));
      if (notAFailure) await this.giveBack(risk);
      await this.afterCommit(writes, now);
      return answer;
    };

    if (!v || (input.to && v.to !== risk.ctx.phone!.e164)) throw await settled(notFound());
    if (v.status !== "PENDING") throw await settled(notPendingError(v, now));
    if (v.expiresAt <= now) {
      const answer = await settled(notFound());
      await this.moveTo(v, "EXPIRED", now);
      throw answer;
    }

    // Compare always (constant time), then apply PSD2: a different amount or payee is a wrong code.
    const codeOk = hashesEqual(v.codeHash, hashCode(this.d.codeSecret, v.id, input.code));
    const psd2Ok = (v.amount ?? null) === (input.amount ?? null) && (v.payee ?? null) === (input.payee ?? null);
    const onApproved = await this.d.pipeline.plan({ type: "approved", serviceId: service.id, verificationId: v.id, prefix: risk.ctx.phone?.prefix ?? null, country: risk.ctx.phone?.country ?? null, now, to: v.to }, risk.reads);
    const approvedWrites = mergeWrites(asNotFailure({ ...risk.writes, counts: [...risk.writes.counts] }), onApproved.writes);
    const checked = (row: VerificationRow) => this.event(row, row.status === "APPROVED" || row.status === "MAX_ATTEMPTS_REACHED" ? row.status : "CHECK_FAILED");
    const write = await this.d.store.commitCheck({
      events: await this.outbox(service.id, checked),
      id: v.id,
      matched: codeOk && psd2Ok,
      maxCheckAttempts: service.maxCheckAttempts,
      now,
      decision,
      writes: this.storeWrites(risk.writes),
      approved: this.storeWrites(approvedWrites),
    });
    // Lost a race (or the row moved meanwhile): nothing was written; answer for the state it is in now.
    if (write.kind === "not_pending") throw await settled(write.verification ? notPendingError(write.verification, now) : notFound());
    const after = write.verification;
    if (write.kind === "approved") {
      await this.giveBack(risk);
      await this.afterCommit(approvedWrites, now, onApproved.afterCommit);
      this.d.events.publish(checked(after));
      return { verification: after, valid: true, approvalToken: await this.approvalToken(after) };
    }
    await this.afterCommit(risk.writes, now);
    this.d.events.publish(checked(after));
    return { verification: after, valid: false, approvalToken: null };
  }

  /** Gives back the wrong-guess limits a check consumed at once (Redis) when it was no failed attempt. */
  private async giveBack(risk: PipelineResult): Promise<void> {
    await this.d.pipeline.giveBack(risk.ctx).catch((err: unknown) => this.d.log.error("could not give back a check's limiter points", { error: String(err) }));
  }

  /** PENDING to CANCELED: its code stops working. A final verification answers 20404. */
  async cancel(serviceId: string, ref: string | VerificationRef): Promise<VerificationRow> {
    const v = await this.find(serviceId, typeof ref === "string" ? { id: ref } : ref);
    const moved = await this.moveTo(v, "CANCELED", this.d.clock.now());
    if (!moved) throw notFound();
    return moved;
  }

  /**
   * PENDING to APPROVED without a code: the caller verified the user some other way (Twilio's
   * `Status=approved` update). Only admin keys may (the adapters check the role, as for cancel). It
   * counts as a conversion, like a right code, so statistics and the pumping detector see it.
   */
  async approve(serviceId: string, ref: VerificationRef): Promise<VerificationRow> {
    const v = await this.find(serviceId, ref);
    const now = this.d.clock.now();
    const moved = await this.moveTo(v, "APPROVED", now, { publish: false });
    if (!moved) throw notFound();
    await this.d.store.markConverted(moved.id);
    const prefix = parsePhone(moved.to);
    await this.d.pipeline.observe({ type: "approved", serviceId, verificationId: moved.id, prefix: prefix.ok ? prefix.phone.prefix : null, country: prefix.ok ? prefix.phone.country : null, now, to: moved.to });
    this.d.events.publish(this.event(moved, "APPROVED"));
    return moved;
  }

  /**
   * One verification of a service by id, or the PENDING one of a number: an unknown id, another
   * service's, or a number with nothing pending answer 20404 alike.
   */
  async find(serviceId: string, ref: VerificationRef): Promise<VerificationRow> {
    if ("id" in ref) return this.get(serviceId, ref.id);
    const parsed = parsePhone(ref.to);
    if (!parsed.ok) throw invalidParameter("to", parsed.reason);
    const v = await this.d.store.findPending(serviceId, parsed.phone.e164);
    if (!v) throw notFound();
    return this.current(v);
  }

  /** Marks a verification FAILED (e.g. the provider refused the number) and tells subscribers. */
  async fail(id: string): Promise<VerificationRow | null> {
    return this.moveTo({ id, serviceId: null }, "FAILED", this.d.clock.now());
  }

  /** The send attempts of a verification, in the order they were made. */
  sendAttempts(verificationId: string): Promise<SendAttemptRow[]> {
    return this.d.store.listSendAttempts(verificationId);
  }

  /** Reads one verification of a service; a PENDING row past its TTL is reported (and moved) EXPIRED. */
  async get(serviceId: string, id: string): Promise<VerificationRow> {
    const v = await this.d.store.getVerification(id);
    if (!v || v.serviceId !== serviceId) throw notFound();
    return this.current(v);
  }

  /** The row as it stands now: a PENDING one past its TTL is moved to EXPIRED first. */
  private async current(v: VerificationRow): Promise<VerificationRow> {
    const now = this.d.clock.now();
    if (v.status === "PENDING" && v.expiresAt <= now) {
      const expired = await this.moveTo(v, "EXPIRED", now);
      if (expired) return expired;
      return (await this.d.store.getVerification(v.id)) ?? v;
    }
    return v;
  }

  /** Expires every PENDING verification past its TTL and pushes EXPIRED events. Runs on a timer. */
  async sweepExpired(): Promise<number> {
    const expired = (v: VerificationRow) => this.event(v, "EXPIRED");
    const rows = await this.d.store.expireDue(this.d.clock.now(), undefined, await this.outbox(undefined, expired));
    for (const r of rows) this.d.events.publish(expired(r));
    return rows.length;
  }

  /**
   * When the number has a live PENDING verification, this start is a resend of it: refuse it with 60203
   * when its sends are used up (recorded like a pipeline block), or with 60200 when it contradicts the
   * pending code or PSD2 pair. An unparsable number is left to the pipeline's phone stage. True when
   * the number had no PENDING row at all (the start's commit then tries the plain insert first).
   */
  private async assertSendable(request: RiskRequest, input: StartInput): Promise<boolean> {
    const parsed = parsePhone(request.rawTo, request.countryHint);
    if (!parsed.ok) return false;
    const now = this.d.clock.now();
    const pending = await this.d.store.findPending(request.service.id, parsed.phone.e164);
    if (!pending) return true;
    if (pending.expiresAt <= now) return false;
    if (pending.sendAttempts >= request.service.maxSendAttempts) {
      const reason = "send cap of the verification reached";
      const ctx = { ...request, now, retry: 0, phone: parsed.phone, shadow: [] };
      await this.d.store.commitDecision(decisionRow({ ctx }, "START", { verificationId: pending.id, block: { stage: "verification", code: "MAX_SEND_ATTEMPTS_REACHED", reason } }), noWrites());
      throw sendCapError(pending, now);
    }
    assertResendMatches(this.d.codeSecret, pending, input);
    return false;
  }

  /**
   * The approval is committed whatever happens here: a token that cannot be signed (the key store is
   * down) is logged and left out, and the backend falls back to asking for the verification's status.
   */
  private async approvalToken(v: VerificationRow): Promise<string | null> {
    if (!this.d.approvals) return null;
    try {
      return await this.d.approvals.issue(v);
    } catch (err) {
      this.d.log.error("approval token could not be signed", { verificationId: v.id, error: String(err) });
      return null;
    }
  }

  private async service(id: string): Promise<ServiceRow> {
    const s = await this.d.store.getService(id);
    if (!s) throw new AppError("NOT_FOUND", "Service not found");
    return s;
  }

  private async blocked(risk: PipelineResult, kind: "START" | "CHECK"): Promise<AppError> {
    if (risk.decision.action !== "block") throw new Error("blocked() on an allowed decision");
    const { code, reason, retryAfterSeconds } = risk.decision;
    // The decision and what the stages that ran counted (a blocked check's counts, a refused attempt
    // under an auto-block) commit together.
    // So do the webhook deliveries of its RISK_BLOCKED event.
    const event: VerificationEvent = {
      type: "RISK_BLOCKED",
      serviceId: risk.ctx.service.id,
      verificationId: null,
      status: null,
      channel: risk.ctx.channel,
      at: risk.ctx.now,
      stage: risk.stage,
      errorCode: ErrorCatalog[code].errorCode,
      country: risk.ctx.phone?.country ?? null,
    };
    const decision = decisionRow(risk, kind, { verificationId: null, block: { stage: risk.stage!, code, reason } });
    await this.d.store.commitDecision(decision, this.storeWrites(risk.writes), await this.outbox(event.serviceId, () => event));
    await this.afterCommit(risk.writes, risk.ctx.now);
    this.d.events.publish(event);
    // Input errors may say what was wrong (stages write "field: why", and the field is named in
    // detail.field as every 60200 names it); fraud blocks say only their code (no hints for attackers).
    if (code === "INVALID_PARAMETER") {
      const named = /^(\w+): ([^]*)$/.exec(reason);
      return named ? invalidParameter(named[1]!, named[2]!) : new AppError(code, reason);
    }
    return new AppError(code, undefined, { retryAfterSeconds });
  }

  /** The writes that commit with the request: without the counts when the counters live elsewhere. */
  private storeWrites(w: RiskWrites): RiskWrites {
    return this.d.counters.inStore ? w : { ...w, counts: [] };
  }

  /**
   * What follows a committed request: its counts when the counters live outside the database (Redis),
   * and the observers' after-commit actions (the pumping detector's block). The request is committed,
   * so a failure here is logged, never turned into a failed request.
   */
  private async afterCommit(w: RiskWrites, at: number, actions: (() => Promise<void>)[] = []): Promise<void> {
    const fail = (err: unknown) => this.d.log.error("risk counters could not record a request", { error: String(err) });
    if (!this.d.counters.inStore && w.counts.length) await this.d.counters.incrMany(w.counts, at).catch(fail);
    for (const act of actions) await act().catch(fail);
  }

  /**
   * A guarded move of a PENDING verification to a final status, the event's webhook deliveries
   * committed with it; the event is published after (unless the caller publishes it later itself).
   * A null `serviceId` (unknown to the caller) prepares the deliveries of whichever service it is.
   */
  private async moveTo(
    v: { id: string; serviceId: string | null },
    status: "CANCELED" | "FAILED" | "EXPIRED" | "APPROVED",
    now: number,
    opts: { publish: boolean } = { publish: true },
  ): Promise<VerificationRow | null> {
    const moved = await this.d.store.setFinalStatus(v.id, status, now, await this.outbox(v.serviceId ?? undefined, (row: VerificationRow) => this.event(row, status)));
    if (moved && opts.publish) this.d.events.publish(this.event(moved, status));
    return moved;
  }

  /** The webhook deliveries to commit with a write, of the event `eventOf` makes of the written row. */
  private outbox<T>(serviceId: string | undefined, eventOf: (row: T) => VerificationEvent | null): Promise<EventRows<T> | undefined> {
    return eventRows(this.d.eventOutbox, serviceId, eventOf);
  }

  /** The event a verification's change reports (never the number or the code). */
  private event(v: VerificationRow, type: VerificationEventType): VerificationEvent {
    return { type, serviceId: v.serviceId, verificationId: v.id, status: v.status, channel: v.channel, at: v.updatedAt, country: v.countryCode };
  }
}
