import { createPubSub, type PubSub } from "@graphql-yoga/subscription";
import { setMaxListeners } from "node:events";
import type { EventPublisher, EventTopics } from "./types.js";

export type VerifyPubSub = PubSub<EventTopics> & {
  /**
   * Resolves once events of a topic subscribed to on this instance also arrive from every other
   * instance. In process that is at once; over Redis it is when Redis acknowledged the SUBSCRIBE, so
   * a stream can promise "nothing published after this is missed" (verification/watch.ts).
   */
  listening<K extends keyof EventTopics>(routingKey: K, id: EventTopics[K][0]): Promise<void>;
};

/** An EventTarget-like transport (e.g. @graphql-yoga/redis-event-target) for cross-instance events. */
export type EventTransport = NonNullable<NonNullable<Parameters<typeof createPubSub>[0]>["eventTarget"]> & {
  /** When a topic with listeners is live across instances (see {@link VerifyPubSub.listening}). */
  subscribed?(topic: string): Promise<void>;
};

/**
 * Builds the PubSub both the domain (publisher) and type-graphql (subscriber) use. Without an event
 * target it is in-process; scale-out passes a Redis event target so instances share events.
 */
export function createEventBus(eventTarget?: EventTransport): { pubSub: VerifyPubSub; publisher: EventPublisher } {
  const target = eventTarget ?? inProcessTarget();
  // createPubSub names a keyed topic `${routingKey}:${id}` (the channel a Redis target subscribes to).
  const pubSub: VerifyPubSub = Object.assign(createPubSub<EventTopics>({ eventTarget: target }), {
    listening: (routingKey: string, id: string) => target.subscribed?.(`${routingKey}:${id}`) ?? Promise.resolve(),
  });
  const publisher: EventPublisher = {
    publish(event) {
      if (event.verificationId) pubSub.publish("verification", event.verificationId, event);
      pubSub.publish("service", event.serviceId, event);
    },
  };
  return { pubSub, publisher };
}

/**
 * The in-process transport. Node's EventTarget warns past 10 listeners on one topic, but many
 * subscribers on one verification or one service feed are normal here (each removes its listener
 * when its subscription ends), so the limit is lifted.
 */
function inProcessTarget(): EventTransport {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target as EventTransport;
}
