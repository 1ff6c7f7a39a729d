import "reflect-metadata";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventBus } from "../src/events/pubsub.js";
import { createRedisEventTarget } from "../src/events/redis.js";
import type { VerificationEvent } from "../src/events/types.js";
import { createLogger } from "../src/log.js";
import { backendStatus, randomRedisPrefix } from "./helpers/backends.js";

const redisStatus = backendStatus().redis;

/** An event with recognisable fields. */
const event = (serviceId: string, verificationId: string, type: VerificationEvent["type"] = "CANCELED"): VerificationEvent => ({
  type,
  serviceId,
  verificationId,
  status: type === "CREATED" ? "PENDING" : "CANCELED",
  channel: "SMS",
  at: 1_750_000_000_000,
  country: "GB",
});

/**
 * The cross-instance event bus: two buses, each on its own pair of Redis connections (as two
 * instances have), sharing a channel prefix. What one publishes, the other's subscribers receive.
 */
describe.skipIf(redisStatus.reason !== null)(redisStatus.reason ? `Redis events not run: ${redisStatus.reason}` : "Events across instances through Redis pub/sub", () => {
  const clients: Redis[] = [];
  const prefix = randomRedisPrefix();
  const log = createLogger("silent");
  const connect = () => {
    const r = new Redis(redisStatus.url, { maxRetriesPerRequest: 1 });
    clients.push(r);
    return r;
  };
  const bus = (p = prefix) => createEventBus(createRedisEventTarget({ publisher: connect(), subscriber: connect(), prefix: p, log }));
  let a: ReturnType<typeof bus>;
  let b: ReturnType<typeof bus>;

  beforeAll(() => {
    a = bus();
    b = bus();
  });
  afterAll(() => clients.forEach((c) => c.disconnect()));

  /**
   * Subscribes on `sub` and waits until the subscription is live across instances
   * (`pubSub.listening`: Redis acknowledged the SUBSCRIBE). From then on nothing published is missed.
   */
  async function liveSubscription(sub: typeof a, serviceId: string) {
    const it = sub.pubSub.subscribe("service", serviceId)[Symbol.asyncIterator]();
    const first = it.next(); // a PubSub subscription starts listening on its first next()
    await sub.pubSub.listening("service", serviceId);
    return { it, first };
  }

  it("delivers an event published on one instance, once it is listening, to a subscriber on another", async () => {
    const { it, first } = await liveSubscription(a, "VA-one");
    b.publisher.publish(event("VA-one", "VE-real"));
    expect((await first).value).toEqual(event("VA-one", "VE-real"));
    await it.return?.();
  });

  it("routes by topic key: a verification subscriber hears only its verification", async () => {
    const { it } = await liveSubscription(a, "VA-two");
    const mine = a.pubSub.subscribe("verification", "VE-mine")[Symbol.asyncIterator]();
    const next = mine.next();
    await a.pubSub.listening("verification", "VE-mine");
    b.publisher.publish(event("VA-two", "VE-other"));
    b.publisher.publish(event("VA-two", "VE-mine"));
    expect((await next).value).toMatchObject({ verificationId: "VE-mine" });
    await mine.return?.();
    await it.return?.();
  });

  it("keeps deployments with different prefixes apart", async () => {
    const other = bus(randomRedisPrefix());
    const { it: foreign, first: foreignFirst } = await liveSubscription(other, "VA-three");
    const { it, first } = await liveSubscription(a, "VA-three");
    b.publisher.publish(event("VA-three", "VE-ours"));
    expect(((await first).value as VerificationEvent).verificationId).toBe("VE-ours");
    // Redis pushes messages to a subscriber in publish order: had `foreign` shared our channel, VE-ours
    // (published and delivered above) would reach it before this sentinel does.
    other.publisher.publish(event("VA-three", "VE-sentinel"));
    const heard: string[] = [((await foreignFirst).value as VerificationEvent).verificationId!];
    while (heard.at(-1) !== "VE-sentinel") heard.push(((await foreign.next()).value as VerificationEvent).verificationId!);
    expect(heard).not.toContain("VE-ours");
    expect(heard.at(-1)).toBe("VE-sentinel");
    await foreign.return?.();
    await it.return?.();
  });

  it("unsubscribes from Redis when the last subscriber of a topic leaves", async () => {
    const { it } = await liveSubscription(a, "VA-four");
    const channel = `${prefix}service:VA-four`;
    const probe = connect();
    expect(await probe.pubsub("NUMSUB", channel)).toEqual([channel, 1]);
    await it.return?.();
    // UNSUBSCRIBE is asynchronous too; PUBSUB NUMSUB reflects it once Redis has processed it.
    let n = 1;
    for (let i = 0; i < 50 && n !== 0; i++) {
      n = Number(((await probe.pubsub("NUMSUB", channel)) as [string, number])[1]);
      if (n) await new Promise((r) => setTimeout(r, 20));
    }
    expect(n).toBe(0);
  });
});
