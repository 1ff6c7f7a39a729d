import type { Caller } from "../auth/keys.js";
import type { Clock } from "../clock.js";
import type { OutboxChannel } from "../delivery/outbox.js";
import { invalidParameter } from "../errors.js";
import { newSid } from "../ids.js";
import type { Logger } from "../log.js";
import { parsePhone } from "../phone.js";
import type { NumberKey } from "../risk/number-key.js";
import type { FraudStore } from "../store/fraud.js";
import type { ErasedCount, ErasureRow, NumberQuery, PrivacyStore } from "../store/privacy.js";

/**
 * Data-subject requests (GDPR art. 15 and 17, CCPA): everything held about a phone number, as JSON,
 * and its erasure, across every service and table, audited without the number.
 *
 * Erasure deletes what exists only because of the person (verifications with their send attempts,
 * delivery jobs and webhook deliveries; consent records; the safe-list entry; limiter and detector
 * counters keyed by the number's token; the development outbox's messages) and keeps the risk
 * decisions, which the statistics count, with the number, the IP and the tags taken out. A second
 * erasure of the same number finds nothing and is audited too.
 */

/** What a row anonymized by the retention holds in `to_number`: `#` and the number's keyed token. */
export function anonymizedNumber(token: string): string {
  return `#${token}`;
}

/**
 * Counter keys kept outside the database (Redis, when REDIS_URL is set): the limiter's windows and the
 * detectors' buckets whose key carries the number's token.
 */
export interface ExternalCounters {
  keysContaining(token: string): Promise<string[]>;
  remove(keys: string[]): Promise<number>;
}

/** Columns that are secrets of the service, not data about the person: never exported. */
const SECRET_COLUMNS = new Set(["codeHash", "codeSeed", "sealedCode"]);
/** Columns holding epoch milliseconds, exported as ISO 8601. */
const TIME_COLUMN = /^(at|expire|bucket)$|At$|Until$/;

function exported(row: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (SECRET_COLUMNS.has(k)) continue;
    out[k] = typeof v === "number" && TIME_COLUMN.test(k) ? new Date(v).toISOString() : v;
  }
  return out;
}

export class Privacy {
  constructor(
    private readonly d: {
      store: PrivacyStore;
      /** The safe list (its cache hears of the removal). */
      fraud: Pick<FraudStore, "removeSafeNumber">;
      numberKey: NumberKey;
      clock: Clock;
      log: Logger;
      outbox: OutboxChannel | null;
      external?: ExternalCounters | null;
    },
  ) {}

  /** Everything held about `to` as a JSON document (a data-subject access request). */
  async exportNumber(to: string): Promise<Record<string, unknown>> {
    const n = this.numberQuery(to);
    const rows = await this.d.store.numberRows(n);
    const external = this.d.external ? await this.d.external.keysContaining(n.token) : [];
    const outbox = this.d.outbox?.list(n.to, Number.MAX_SAFE_INTEGER) ?? [];
    return {
      number: n.to,
      exportedAt: new Date(this.d.clock.now()).toISOString(),
      note: "Rows whose `to` reads `#…` were anonymized by the retention: the number was replaced by its keyed token.",
      verifications: rows.verifications.map((v) => ({
        ...exported(v),
        sendAttempts: rows.sendAttempts.filter((a) => a.verificationId === v.id).map(exported),
        deliveryJobs: rows.deliveryJobs.filter((j) => j.verificationId === v.id).map(exported),
        webhookDeliveries: rows.webhookDeliveries.filter((w) => w.orderKey === v.id).map(exported),
      })),
      riskDecisions: rows.decisions.map(exported),
      consentRecords: rows.consentRecords.map(exported),
      safeList: rows.safeList.map(exported),
      counters: [...rows.counters.map(exported), ...external.map((key) => ({ table: "redis", key }))],
      outboxMessages: outbox.map(exported),
    };
  }

  /** Erases `to` everywhere (admin); returns the audit row written for it. */
  async eraseNumber(to: string, caller: Caller, requestId: string | null): Promise<ErasureRow> {
    const n = this.numberQuery(to);
    const counts: Record<string, ErasedCount> = await this.d.store.eraseNumber(n);
    counts.safe_numbers = { deleted: (await this.d.fraud.removeSafeNumber(n.to)) ? 1 : 0, anonymized: 0 };
    if (this.d.external) counts.redis = { deleted: await this.d.external.remove(await this.d.external.keysContaining(n.token)), anonymized: 0 };
    if (this.d.outbox) counts.outbox = { deleted: this.d.outbox.forget(n.to), anonymized: 0 };
    const row: ErasureRow = { id: newSid("ER"), at: this.d.clock.now(), actorKeyId: caller.keyId, requestId, counts };
    await this.d.store.insertErasure(row);
    this.d.log.info("privacy: number erased", { erasureId: row.id, actorKeyId: caller.keyId, counts });
    return row;
  }

  listErasures(limit: number): Promise<ErasureRow[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw invalidParameter("first", "must be from 1 to 500");
    return this.d.store.listErasures(limit);
  }

  private numberQuery(raw: string): NumberQuery {
    const parsed = parsePhone(raw);
    if (!parsed.ok) throw invalidParameter("to", parsed.reason);
    const token = this.d.numberKey(parsed.phone.e164);
    return { to: parsed.phone.e164, token, anonymized: anonymizedNumber(token) };
  }
}
