import type { Logger } from "../log.js";
import type { ProtectionLevel } from "../store/types.js";
import { ipGroup } from "./ip-group.js";
import type { NumberKey } from "./number-key.js";
import { scaledCount } from "./protection-levels.js";
import type { RiskContext, RiskObserver, RiskOutcome, RiskWrites } from "./types.js";
import { CounterReads, type CounterRead, type WindowCounter } from "./window-counter.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Behavioural signals beyond the prefix detector, each one row of data: what it watches, over which
 * window, from which threshold, and what it does when it fires:
 *  - `block`: the signals stage refuses with 60410 (the same code as the prefix guard, so a caller
 *    learns nothing about which rule caught it; the decision row names the signal);
 *  - `record`: the finding goes into the decision row's `shadow` column ("signals:PREFIX_BLOCKED:…
 *    (record-only)") and the request goes on. Admins read those rows to decide on promoting it.
 *
 * The counts are the STANDARD level's; the service's protection level scales them
 * ({@link signalAt}: BASIC doubles them, MAX halves them), and a signal may only record at some levels
 * (`recordOnlyAt`). Thresholds are conservative on purpose: each blocking signal needs a pattern no
 * real user population produces. IP-based signals look only at CLIENT-key requests (a device talking
 * to us): behind an ADMIN key is a backend whose one IP speaks for all of its users.
 */
export const SIGNALS = {
  /** One IP asking for numbers in many countries within an hour (an IRSF "country tour"). */
  ipCountries: { name: "ip-countries", mode: "block", windowMs: HOUR, clientOnly: true, maxDistinct: 5 },
  /** One IP asking for numbers under many prefixes within an hour. Record-only: CGNAT and office NAT share IPs. */
  ipPrefixes: { name: "ip-prefixes", mode: "record", windowMs: HOUR, clientOnly: true, maxDistinct: 10 },
  /**
   * Numbers close together (same or adjacent block of `blockSize` numbers, so within 2 blocks of each
   * other) requested within 15 minutes and not yet approved: pumping rents number ranges and walks
   * them. The (maxNeighbours + 1)th such number is refused. Approved numbers do not count, so an
   * office onboarding staff with consecutive numbers is not blocked.
   */
  sequentialNumbers: { name: "sequential-numbers", mode: "block", windowMs: 15 * MINUTE, clientOnly: false, blockSize: 100, maxNeighbours: 4 },
  /**
   * A client IP whose sends of the last day are (almost) never followed by a check (sends older than
   * `graceMs` are judged). Blocks from STANDARD up: a shared address (CGNAT, an office) carries many
   * real users, and real users check 80 % of their codes and more; an IP that asked for ten codes and
   * checked none is a script. The day-long window keeps it blocked after the per-IP limit's hour.
   */
  uncheckedSendsIp: { name: "unchecked-sends-ip", mode: "block", recordOnlyAt: ["BASIC"], windowMs: DAY, graceMs: 5 * MINUTE, clientOnly: true, minSends: 10, minCheckedRatio: 0.1 },
  /** Sends under one prefix that are never followed by a check. Record-only: the pumping detector blocks on approvals. */
  uncheckedSendsPrefix: { name: "unchecked-sends-prefix", mode: "record", windowMs: HOUR, graceMs: 5 * MINUTE, clientOnly: false, minSends: 10, minCheckedRatio: 0.1 },
} as const satisfies Record<string, { name: string; mode: "block" | "record"; recordOnlyAt?: readonly ProtectionLevel[]; windowMs: number; clientOnly: boolean } & Record<string, unknown>>;

export type SignalId = keyof typeof SIGNALS;

/** The count thresholds the protection level scales. */
const COUNTS = ["maxDistinct", "maxNeighbours", "minSends"] as const;

/** A signal's row at a protection level: its counts scaled ({@link scaledCount}), its mode resolved. */
export function signalAt<K extends SignalId>(id: K, level: ProtectionLevel): SignalRow<K> {
  return AT_LEVEL[level][id] as SignalRow<K>;
}

type SignalRow<K extends SignalId> = Omit<(typeof SIGNALS)[K], "mode"> & { mode: "block" | "record" };

/** Every signal at every level, worked out once (the stage reads them on each request). */
const AT_LEVEL = Object.fromEntries(
  (["BASIC", "STANDARD", "MAX"] as const).map((level) => [
    level,
    Object.fromEntries(
      (Object.keys(SIGNALS) as SignalId[]).map((id) => {
        const row: Record<string, unknown> = { ...SIGNALS[id] };
        for (const c of COUNTS) if (typeof row[c] === "number") row[c] = scaledCount(row[c] as number, level);
        if ((row.recordOnlyAt as readonly ProtectionLevel[] | undefined)?.includes(level)) row.mode = "record";
        return [id, row];
      }),
    ),
  ]),
) as Record<ProtectionLevel, { [K in SignalId]: SignalRow<K> }>;

/**
 * Counter keys of the signals, built in one place. `ip` is the /64-grouped IP (see ip-group.ts); a
 * number appears only as its keyed hash (`numberKey`, see number-key.ts), never in clear.
 */
export const signalKeys = {
  ipCountry: (svc: string, ip: string, country: string) => `sig:ipc:${svc}:${ip}:${country}`,
  ipNewCountry: (svc: string, ip: string) => `sig:ipc-new:${svc}:${ip}`,
  ipPrefix: (svc: string, ip: string, prefix: string) => `sig:ipp:${svc}:${ip}:${prefix}`,
  ipNewPrefix: (svc: string, ip: string) => `sig:ipp-new:${svc}:${ip}`,
  seqNumber: (svc: string, numberKey: string) => `sig:seq-n:${svc}:${numberKey}`,
  seqBlock: (svc: string, blockKey: string) => `sig:seq:${svc}:${blockKey}`,
  seqBlockApproved: (svc: string, blockKey: string) => `sig:seq-ok:${svc}:${blockKey}`,
  sendsByIp: (svc: string, ip: string) => `sig:sent-ip:${svc}:${ip}`,
  checksByIp: (svc: string, ip: string) => `sig:chk-ip:${svc}:${ip}`,
  sendsByPrefix: (svc: string, prefix: string) => `sig:sent-px:${svc}:${prefix}`,
  checksByPrefix: (svc: string, prefix: string) => `sig:chk-px:${svc}:${prefix}`,
};

/** The block of `blockSize` consecutive numbers an E.164 number falls in (its digits, divided). */
export function numberBlock(e164: string): number {
  return Math.floor(Number(e164.replace(/\D/g, "")) / SIGNALS.sequentialNumbers.blockSize);
}

/** A block's counter-key token: keyed like a number, since a block of 100 names a number but for two digits. */
export function blockKey(numberKey: NumberKey, block: number): string {
  return numberKey(`block:${block}`);
}

/** The IP the IP signals key on: a CLIENT request's /64-grouped IP, or null (not looked at). */
export function signalIp(ctx: Pick<RiskContext, "role" | "ip">): string | null {
  return ctx.role === "CLIENT" && ctx.ip ? ipGroup(ctx.ip) : null;
}

/**
 * Feeds the signals' counters from the pipeline's outcomes: every allowed send, and approvals (for
 * the sequential signal). Checks are counted by the signals stage itself when a CHECK passes it.
 * "Distinct" counts are kept as first-seen events: a country counts for an IP when the IP had not
 * asked for it within the window. That undercounts slightly at window edges, never overcounts.
 */
export class SignalRecorder implements RiskObserver {
  constructor(
    private readonly counter: WindowCounter,
    private readonly numberKey: NumberKey,
    private readonly log?: Logger,
  ) {}

  /** The first-seen tests of a send: has this IP asked for this country / prefix, this number been sent to? */
  reads(ctx: RiskContext): CounterRead[] {
    return this.firstSeen(ctx).map(({ item, windowMs }) => ({ key: item, from: ctx.now - windowMs, to: ctx.now }));
  }

  plan(outcome: RiskOutcome, reads: CounterReads): Partial<RiskWrites> {
    if (outcome.type === "approved") {
      return { counts: outcome.to ? [signalKeys.seqBlockApproved(outcome.serviceId, blockKey(this.numberKey, numberBlock(outcome.to)))] : [] };
    }
    const { ctx } = outcome;
    if (!ctx.phone || ctx.trusted || !ctx.riskCheck) return {};
    const counts: string[] = [];
    for (const { item, fresh, windowMs } of this.firstSeen(ctx)) {
      if (reads.count(item, ctx.now - windowMs, ctx.now) === 0) counts.push(fresh);
      counts.push(item);
    }
    const ip = signalIp(ctx);
    if (ip) counts.push(signalKeys.sendsByIp(ctx.service.id, ip));
    counts.push(signalKeys.sendsByPrefix(ctx.service.id, ctx.phone.prefix));
    return { counts };
  }

  async observe(outcome: RiskOutcome): Promise<void> {
    // After the send is committed: a counter failure is logged, never turned into a failed request.
    try {
      const reads = outcome.type === "sent" ? await CounterReads.fetch(this.counter, this.reads(outcome.ctx)) : new CounterReads([], []);
      const { counts = [] } = this.plan(outcome, reads);
      await this.counter.incrMany(counts, outcome.type === "sent" ? outcome.ctx.now : outcome.now);
    } catch (err) {
      this.log?.error("signals: could not record an outcome", { error: String(err) });
    }
  }

  /**
   * The first-seen items of a send, each counted under its own key and, when new within its window,
   * under the "new item" key of the IP (distinct countries, prefixes) or of the number's block (a
   * resend of the same number is one number, not a sequence).
   */
  private firstSeen(ctx: RiskContext): { item: string; fresh: string; windowMs: number }[] {
    if (!ctx.phone || ctx.trusted || !ctx.riskCheck) return [];
    const svc = ctx.service.id;
    const { phone } = ctx;
    const ip = signalIp(ctx);
    const out: { item: string; fresh: string; windowMs: number }[] = [];
    if (ip) {
      if (phone.country) out.push({ item: signalKeys.ipCountry(svc, ip, phone.country), fresh: signalKeys.ipNewCountry(svc, ip), windowMs: SIGNALS.ipCountries.windowMs });
      out.push({ item: signalKeys.ipPrefix(svc, ip, phone.prefix), fresh: signalKeys.ipNewPrefix(svc, ip), windowMs: SIGNALS.ipPrefixes.windowMs });
    }
    const seq = { item: signalKeys.seqNumber(svc, this.numberKey(phone.e164)), fresh: signalKeys.seqBlock(svc, blockKey(this.numberKey, numberBlock(phone.e164))) };
    out.push({ ...seq, windowMs: SIGNALS.sequentialNumbers.windowMs });
    return out;
  }
}
