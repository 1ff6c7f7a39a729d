import { describe, expect, it } from "vitest";
import { AppError } from "../src/errors.js";
import { createEventBus } from "../src/events/pubsub.js";
import { liveStream } from "../src/events/stream.js";
import type { VerificationEvent } from "../src/events/types.js";
import type { WatchEvent } from "../src/verification/watch.js";

/**
 * The per-subscriber stream behind every subscription (events/stream.ts) on the real PubSub: the
 * first message comes first, a subscriber that stops reading is cut off with SUBSCRIBER_TOO_SLOW
 * after a bounded backlog (its memory stays bounded, the process never sees the PubSub's overflow),
 * others on the same topic are not held up, and unsubscribing stops listening at once.
 */

const event = (n: number): VerificationEvent => ({ type: "CHECK_FAILED", serviceId: "VA1", verificationId: "VE1", status: "PENDING", channel: "SMS", at: n });
const tooSlow = () => new AppError("SUBSCRIBER_TOO_SLOW");

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe("liveStream", () => {
  it("yields the first value before any event, even one published while the first value was produced", async () => {
    const { pubSub, publisher } = createEventBus();
    const stream = liveStream<WatchEvent>(pubSub.subscribe("verification", "VE1"), {
      first: async () => {
        publisher.publish(event(1)); // happens "during the snapshot read"
        return { ...event(0), type: "SUBSCRIBED" as const };
      },
      onOverflow: tooSlow,
    });
    expect((await take(stream, 2)).map((e) => [e.type, e.at])).toEqual([
      ["SUBSCRIBED", 0],
      ["CHECK_FAILED", 1],
    ]);
    await stream.return?.();
  });

  it("listens from the first read: an event published while that read waits is delivered", async () => {
    const { pubSub, publisher } = createEventBus();
    const stream = liveStream(pubSub.subscribe("verification", "VE1"), { onOverflow: tooSlow });
    const first = stream.next();
    await new Promise((r) => setImmediate(r));
    publisher.publish(event(7));
    expect((await first).value!.at).toBe(7);
    await stream.return?.();
  });

  it("cuts off a subscriber that stops reading after maxPending events, in order, while another gets all of them", async () => {
    const { pubSub, publisher } = createEventBus();
    const stalled = liveStream(pubSub.subscribe("verification", "VE1"), { maxPending: 10, onOverflow: tooSlow });
    const reading = liveStream(pubSub.subscribe("verification", "VE1"), { maxPending: 10, onOverflow: tooSlow });
    // Both read once (as graphql-ws does when a subscription starts); then `stalled` stops reading.
    const firsts = [stalled.next(), reading.next()];
    await new Promise((r) => setImmediate(r));
    publisher.publish(event(0));
    expect((await Promise.all(firsts)).map((r) => r.value!.at)).toEqual([0, 0]);
    const got: number[] = [];
    for (let i = 1; i <= 25; i++) {
      publisher.publish(event(i));
      got.push((await reading.next()).value!.at); // the reader keeps up
    }
    expect(got).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));

    const backlog = await take(stalled, 10);
    expect(backlog.map((e) => e.at)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const end = await stalled.next().then(
      () => null,
      (err: unknown) => err,
    );
    expect(end).toBeInstanceOf(AppError);
    expect((end as AppError).code).toBe("SUBSCRIBER_TOO_SLOW");
    expect((end as AppError).errorCode).toBe(20429);
    await reading.return?.();
  });

  it("unsubscribing ends a pending read and stops listening: thousands of later events neither queue nor throw", async () => {
    const { pubSub, publisher } = createEventBus();
    const stream = liveStream(pubSub.subscribe("service", "VA1"), { onOverflow: tooSlow });
    const pending = stream.next();
    await new Promise((r) => setImmediate(r));
    await stream.return?.();
    expect(await pending).toEqual({ done: true, value: undefined });
    // More than the PubSub repeater's own 1,024-event queue: a listener left behind would throw.
    for (let i = 0; i < 3000; i++) publisher.publish({ ...event(i), verificationId: null });
    await new Promise((r) => setImmediate(r));
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});
