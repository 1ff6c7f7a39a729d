import type { Clock } from "../clock.js";
import { AppError, invalidParameter } from "../errors.js";
import { newSid } from "../ids.js";
import { parsePhone } from "../phone.js";
import type { ConsentCursor, ConsentFilter, ConsentRecordRow, ConsentStore } from "../store/consent.js";
import type { ServiceRow } from "../store/types.js";

/**
 * Consent evidence (seed 003: "obtain the recipient's opt-in consent … store evidence of each consent
 * event and provide it on request"; CTIA: terms, privacy, "Message and data rates may apply"). A start
 * may bring what its page showed and when the user agreed; the server adds the client IP and its own
 * time. A service with `requireConsent` refuses starts without it (CONSENT_REQUIRED), before anything
 * is counted or sent.
 */
export interface ConsentInput {
  /** Which notice the user saw, e.g. "signup-2026-01" (1 to 64 characters). */
  textVersion: string;
  /** When the user agreed, epoch ms (their clock). */
  agreedAt: number;
  /** The user's browser, as their page reports it. */
  userAgent?: string | null;
}

/** A consent is given where the code is asked for: an agreement older than this is not that one. */
const MAX_AGE_MS = 24 * 3600_000;
/** Clocks differ: an agreement this far in the future is still believed. */
const MAX_SKEW_MS = 5 * 60_000;
const MAX_USER_AGENT = 512;
export const MAX_CONSENT_PAGE = 1000;

/** A start's consent against its service's rule and the input rules (CONSENT_REQUIRED, 60200). */
export function assertConsent(service: ServiceRow, consent: ConsentInput | null | undefined, now: number): void {
  if (!consent) {
    if (service.requireConsent) throw new AppError("CONSENT_REQUIRED", undefined, { detail: { field: "consent" } });
    return;
  }
  if (!/^[\x21-\x7e][\x20-\x7e]{0,63}$/.test(consent.textVersion)) throw invalidParameter("consent.textVersion", "must be 1 to 64 printable ASCII characters");
  if (!Number.isFinite(consent.agreedAt) || consent.agreedAt > now + MAX_SKEW_MS) throw invalidParameter("consent.agreedAt", "must not be in the future");
  if (consent.agreedAt < now - MAX_AGE_MS) throw invalidParameter("consent.agreedAt", "must be within the last 24 hours: record the consent given for this code");
  if (consent.userAgent != null && consent.userAgent.length > MAX_USER_AGENT) throw invalidParameter("consent.userAgent", `at most ${MAX_USER_AGENT} characters`);
}

/** Recording, listing and exporting consent records (the purger deletes them after CONSENT_RETENTION_DAYS). */
export class ConsentRecords {
  constructor(private readonly d: { store: ConsentStore; clock: Clock }) {}

  /**
   * The record of a consent event for `to` (E.164), from what the page reported and what the server
   * saw (client IP, its own time). The lifecycle commits it with the start it came with.
   */
  recordOf(service: ServiceRow, to: string, consent: ConsentInput, ip: string | null): ConsentRecordRow {
    return {
      id: newSid("CR"),
      serviceId: service.id,
      verificationId: null,
      to,
      textVersion: consent.textVersion,
      agreedAt: consent.agreedAt,
      userAgent: consent.userAgent ?? null,
      ip,
      createdAt: this.d.clock.now(),
    };
  }

  /** One page, oldest first; `after` is the previous page's `nextCursor`. */
  async list(filter: ConsentQuery, limit: number, after?: string | null): Promise<{ records: ConsentRecordRow[]; nextCursor: string | null }> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CONSENT_PAGE) throw invalidParameter("first", `must be from 1 to ${MAX_CONSENT_PAGE}`);
    const records = await this.d.store.listConsent(normalize(filter), limit + 1, after ? decodeCursor(after) : undefined);
    const more = records.length > limit;
    if (more) records.pop();
    const last = records.at(-1);
    return { records, nextCursor: more && last ? encodeCursor(last) : null };
  }

  /** Every matching record, oldest first, read a page at a time (exports). */
  async *all(filter: ConsentQuery): AsyncGenerator<ConsentRecordRow> {
    const f = normalize(filter);
    let after: ConsentCursor | undefined;
    for (;;) {
      const page = await this.d.store.listConsent(f, MAX_CONSENT_PAGE, after);
      yield* page;
      if (page.length < MAX_CONSENT_PAGE) return;
      after = page.at(-1)!;
    }
  }

}

/** A listing as callers ask for it: the number in any format libphonenumber reads as E.164. */
export interface ConsentQuery {
  to?: string | null;
  serviceId?: string | null;
  from?: number | null;
  until?: number | null;
}

function normalize(q: ConsentQuery): ConsentFilter {
  const f: ConsentFilter = {};
  if (q.to != null) {
    const parsed = parsePhone(q.to);
    if (!parsed.ok) throw invalidParameter("to", parsed.reason);
    f.to = parsed.phone.e164;
  }
  if (q.serviceId != null) f.serviceId = q.serviceId;
  if (q.from != null) f.from = q.from;
  if (q.until != null) f.until = q.until;
  if (f.from !== undefined && f.until !== undefined && f.from >= f.until) throw invalidParameter("from", "must be before until");
  return f;
}

function encodeCursor(r: ConsentRecordRow): string {
  return Buffer.from(`${r.createdAt}:${r.id}`).toString("base64url");
}

function decodeCursor(cursor: string): ConsentCursor {
  const m = cursor.length <= 100 ? /^(\d{1,16}):(CR[0-9a-f]{32})$/.exec(Buffer.from(cursor, "base64url").toString()) : null;
  if (!m) throw invalidParameter("after", "not a cursor from this API");
  return { createdAt: Number(m[1]), id: m[2]! };
}
