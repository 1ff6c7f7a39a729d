/**
 * Evidence of opt-in consent, one row per consent event a start brought: what the user was shown
 * (`textVersion`), when they agreed (their clock), their user agent, and what the server saw (client IP,
 * the time it recorded the event). Twilio asks senders to keep this and produce it on request; CTIA
 * asks for the notice. Rows are found by number (`to`, also how a GDPR erasure removes them) and by the
 * time they were recorded (exports and retention).
 */
export interface ConsentRecordRow {
  /** CR + 32 hex. */
  id: string;
  serviceId: string;
  /** The verification the start created or resent (written in the same transaction). */
  verificationId: string | null;
  /** E.164. */
  to: string;
  textVersion: string;
  /** When the user agreed, as their page reported it (epoch ms). */
  agreedAt: number;
  userAgent: string | null;
  /** The client IP the request came from (TRUST_PROXY-aware); null when unknown. */
  ip: string | null;
  /** When the server recorded it (epoch ms): the time ranges and the retention use this clock. */
  createdAt: number;
}

export interface ConsentFilter {
  to?: string;
  serviceId?: string;
  /** Recorded at or after (epoch ms). */
  from?: number;
  /** Recorded before (epoch ms). */
  until?: number;
}

/** Where a page of records ends: the next page starts after it. */
export interface ConsentCursor {
  createdAt: number;
  id: string;
}

export interface ConsentStore {
  /** One record on its own (a start's is written with its verification: Store.commitStart). */
  insertConsent(row: ConsentRecordRow): Promise<void>;
  /** Matching records, oldest first (by recorded time, then id), after `after` when given. */
  listConsent(filter: ConsentFilter, limit: number, after?: ConsentCursor): Promise<ConsentRecordRow[]>;
  /** Deletes up to `limit` records recorded before `cutoff`; returns how many. */
  deleteConsentBefore(cutoff: number, limit: number): Promise<number>;
}
