import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { AppError, invalidParameter } from "../errors.js";
import { newSid } from "../ids.js";
import type { RateLimitSpec, ServiceRow } from "../store/types.js";
import type { Services } from "../verification/services.js";

/** Bounds on a service's own rate limits (Twilio's Service Rate Limits have similar ones). */
export const RATE_LIMIT_BOUNDS = { maxLimits: 10, maxBuckets: 5, maxPoints: 1_000_000, maxIntervalSeconds: 86_400, maxDescription: 256 } as const;

/** A bucket as the admin operations show it: its SID and when it was made and last changed. */
export interface BucketView {
  sid: string;
  rateLimitSid: string;
  serviceId: string;
  max: number;
  intervalSeconds: number;
  createdAt: number;
  updatedAt: number;
}

/** A named rate limit with its SID (`RK…`), description and buckets (`BL…`). */
export interface RateLimitView {
  sid: string;
  serviceId: string;
  uniqueName: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
  buckets: BucketView[];
}

/**
 * A service's named rate limits (Twilio's Service Rate Limits) one by one: a limit is created with a
 * unique name and no buckets (it counts nothing until it has one), then buckets are added, changed
 * and removed; or the whole list is replaced at once (GraphQL's setRateLimits). They live in the
 * service's `riskSettings` JSON, which the limits stage reads on every request.
 *
 * SIDs: every limit and bucket gets one when written. Limits written before SIDs existed get stable
 * derived ones on read (a hash of the service and name, and of the bucket's position), written down
 * with the next change, so a SID a client read keeps working.
 */
export class ServiceRateLimits {
  constructor(private readonly d: { services: Services; clock: Clock }) {}

  async list(serviceId: string): Promise<RateLimitView[]> {
    return rateLimitViews(await this.d.services.get(serviceId));
  }

  async get(serviceId: string, sid: string): Promise<RateLimitView> {
    return (await this.list(serviceId)).find((l) => l.sid === sid) ?? notFound("Rate limit");
  }

  /** Replaces the whole list (an empty one removes them all); a limit keeps its SID when its name stays. */
  async replace(serviceId: string, limits: RateLimitSpec[]): Promise<ServiceRow> {
    const row = await this.d.services.get(serviceId);
    const now = this.d.clock.now();
    const before = new Map(withSids(row).map((l) => [l.uniqueName, l]));
    return this.write(
      serviceId,
      limits.map((l) => {
        const old = before.get(l.uniqueName);
        return {
          uniqueName: l.uniqueName,
          sid: old?.sid ?? newSid("RK"),
          description: old?.description ?? null,
          createdAt: old?.createdAt ?? now,
          updatedAt: now,
          buckets: l.buckets.map((b) => {
            const same = old?.buckets.find((x) => x.max === b.max && x.intervalSeconds === b.intervalSeconds);
            return { max: b.max, intervalSeconds: b.intervalSeconds, sid: same?.sid ?? newSid("BL"), createdAt: same?.createdAt ?? now, updatedAt: now };
          }),
        };
      }),
    );
  }

  async create(serviceId: string, input: { uniqueName: string; description?: string | null }): Promise<RateLimitView> {
    const row = await this.d.services.get(serviceId);
    const now = this.d.clock.now();
    const limit: RateLimitSpec = { uniqueName: input.uniqueName, sid: newSid("RK"), description: input.description ?? null, createdAt: now, updatedAt: now, buckets: [] };
    if (withSids(row).some((l) => l.uniqueName === input.uniqueName)) throw invalidParameter("uniqueName", `a rate limit named ${input.uniqueName} exists already`);
    await this.write(serviceId, [...withSids(row), limit]);
    return view(serviceId, limit);
  }

  async update(serviceId: string, sid: string, input: { description?: string | null }): Promise<RateLimitView> {
    return this.change(serviceId, sid, (l, now) => ({ ...l, description: input.description === undefined ? l.description : input.description, updatedAt: now }));
  }

  async delete(serviceId: string, sid: string): Promise<void> {
    const row = await this.d.services.get(serviceId);
    const limits = withSids(row);
    if (!limits.some((l) => l.sid === sid)) notFound("Rate limit");
    await this.write(serviceId, limits.filter((l) => l.sid !== sid));
  }

  async addBucket(serviceId: string, rateLimitSid: string, input: { max: number; intervalSeconds: number }): Promise<BucketView> {
    const sid = newSid("BL");
    const limit = await this.change(serviceId, rateLimitSid, (l, now) => ({ ...l, updatedAt: now, buckets: [...l.buckets, { max: input.max, intervalSeconds: input.intervalSeconds, sid, createdAt: now, updatedAt: now }] }));
    return limit.buckets.find((b) => b.sid === sid)!;
  }

  async getBucket(serviceId: string, rateLimitSid: string, sid: string): Promise<BucketView> {
    return (await this.get(serviceId, rateLimitSid)).buckets.find((b) => b.sid === sid) ?? notFound("Bucket");
  }

  async updateBucket(serviceId: string, rateLimitSid: string, sid: string, input: { max?: number; intervalSeconds?: number }): Promise<BucketView> {
    const limit = await this.change(serviceId, rateLimitSid, (l, now) => {
      if (!l.buckets.some((b) => b.sid === sid)) notFound("Bucket");
      return { ...l, updatedAt: now, buckets: l.buckets.map((b) => (b.sid === sid ? { ...b, max: input.max ?? b.max, intervalSeconds: input.intervalSeconds ?? b.intervalSeconds, updatedAt: now } : b)) };
    });
    return limit.buckets.find((b) => b.sid === sid)!;
  }

  async deleteBucket(serviceId: string, rateLimitSid: string, sid: string): Promise<void> {
    await this.change(serviceId, rateLimitSid, (l, now) => {
      if (!l.buckets.some((b) => b.sid === sid)) notFound("Bucket");
      return { ...l, updatedAt: now, buckets: l.buckets.filter((b) => b.sid !== sid) };
    });
  }

  /** Applies `fn` to one limit and writes the list; returns the limit after. */
  private async change(serviceId: string, sid: string, fn: (l: RateLimitSpec, now: number) => RateLimitSpec): Promise<RateLimitView> {
    const row = await this.d.services.get(serviceId);
    const limits = withSids(row);
    const i = limits.findIndex((l) => l.sid === sid);
    if (i < 0) notFound("Rate limit");
    limits[i] = fn(limits[i]!, this.d.clock.now());
    await this.write(serviceId, limits);
    return view(serviceId, limits[i]!);
  }

  private async write(serviceId: string, limits: RateLimitSpec[]): Promise<ServiceRow> {
    validateRateLimits(limits);
    return this.d.services.updateRiskSettings(serviceId, { rateLimits: limits });
  }
}

function notFound(what: string): never {
  throw new AppError("NOT_FOUND", `${what} not found`);
}

/** The service's limits, each limit and bucket with a SID (derived for ones written before SIDs). */
function withSids(row: ServiceRow): RateLimitSpec[] {
  return (row.riskSettings.rateLimits ?? []).map((l) => {
    const sid = l.sid ?? derivedSid("RK", `${row.id}:${l.uniqueName}`);
    return {
      ...l,
      sid,
      description: l.description ?? null,
      createdAt: l.createdAt ?? row.createdAt,
      updatedAt: l.updatedAt ?? row.updatedAt,
      buckets: l.buckets.map((b, i) => ({ ...b, sid: b.sid ?? derivedSid("BL", `${sid}:${i}`), createdAt: b.createdAt ?? row.createdAt, updatedAt: b.updatedAt ?? row.updatedAt })),
    };
  });
}

function derivedSid(prefix: "RK" | "BL", key: string): string {
  return prefix + createHash("sha256").update(key).digest("hex").slice(0, 32);
}

function view(serviceId: string, l: RateLimitSpec): RateLimitView {
  const sid = l.sid!;
  return {
    sid,
    serviceId,
    uniqueName: l.uniqueName,
    description: l.description ?? null,
    createdAt: l.createdAt!,
    updatedAt: l.updatedAt!,
    buckets: l.buckets.map((b) => ({ sid: b.sid!, rateLimitSid: sid, serviceId, max: b.max, intervalSeconds: b.intervalSeconds, createdAt: b.createdAt!, updatedAt: b.updatedAt! })),
  };
}

/** Every rule a service's rate limits keep, however they are written. */
export function validateRateLimits(limits: RateLimitSpec[]): void {
  const b = RATE_LIMIT_BOUNDS;
  if (limits.length > b.maxLimits) throw invalidParameter("rateLimits", `at most ${b.maxLimits} per service`);
  const names = new Set<string>();
  for (const l of limits) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(l.uniqueName)) throw invalidParameter("uniqueName", "must be 1 to 64 of A-Z a-z 0-9 _");
    if (names.has(l.uniqueName)) throw invalidParameter("uniqueName", `${l.uniqueName} appears twice`);
    names.add(l.uniqueName);
    if (l.description != null && l.description.length > b.maxDescription) throw invalidParameter("description", `at most ${b.maxDescription} characters`);
    if (l.buckets.length > b.maxBuckets) throw invalidParameter("buckets", `a rate limit has at most ${b.maxBuckets} buckets`);
    for (const x of l.buckets) {
      if (!Number.isInteger(x.max) || x.max < 1 || x.max > b.maxPoints) throw invalidParameter("max", `must be an integer from 1 to ${b.maxPoints}`);
      if (!Number.isInteger(x.intervalSeconds) || x.intervalSeconds < 1 || x.intervalSeconds > b.maxIntervalSeconds) {
        throw invalidParameter("intervalSeconds", `must be an integer from 1 to ${b.maxIntervalSeconds}`);
      }
    }
  }
}

/** The limits of a service row as views (SIDs derived where none was written yet), without a read. */
export function rateLimitViews(row: ServiceRow): RateLimitView[] {
  return withSids(row).map((l) => view(row.id, l));
}
