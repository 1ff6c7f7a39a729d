import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { EventTransport } from "./pubsub.js";

type Listener = (event: CustomEvent) => void;
type ListenerArg = Listener | { handleEvent: Listener } | null;

export interface RedisEventTargetOptions {
  /** Connection for PUBLISH (a normal client). */
  publisher: Redis;
  /** Connection for SUBSCRIBE: Redis puts it in subscriber mode, so it cannot be shared. */
  subscriber: Redis;
  /** Prepended to every channel, so several deployments can share one Redis. */
  prefix: string;
  log: Logger;
}

/**
 * The event target behind the PubSub when REDIS_URL is set, so a subscription opened on one instance
 * hears status changes made on any other. Same shape as @graphql-yoga/redis-event-target (topic =
 * channel, payload = JSON), written here for two reasons: channels carry our prefix, and a failed
 * PUBLISH/SUBSCRIBE while Redis is away is logged instead of becoming an unhandled rejection, which
 * would kill the process. Delivery is Redis pub/sub's: at most once, to instances subscribed at the
 * time of the publish; the database stays the truth, events are notifications.
 *
 * Every instance, the publishing one included, receives an event through Redis, so all subscribers see
 * one order.
 */
export function createRedisEventTarget(opts: RedisEventTargetOptions): EventTransport {
  const { publisher, subscriber, prefix, log } = opts;
  const listeners = new Map<string, Set<Listener>>();
  /** Per topic with listeners: settles when Redis acknowledged its SUBSCRIBE. */
  const live = new Map<string, Promise<void>>();

  subscriber.on("message", (channel: string, message: string) => {
    if (!channel.startsWith(prefix)) return;
    const topic = channel.slice(prefix.length);
    const callbacks = listeners.get(topic);
    if (!callbacks) return;
    let detail: unknown;
    try {
      detail = message === "" ? null : JSON.parse(message);
    } catch {
      log.warn("dropped a malformed event from redis", { topic });
      return;
    }
    const event = new CustomEvent(topic, { detail });
    for (const cb of [...callbacks]) cb(event);
  });

  const fnOf = (arg: ListenerArg): Listener | null => (arg == null ? null : typeof arg === "function" ? arg : arg.handleEvent);

  const target = {
    addEventListener(topic: string, arg: ListenerArg) {
      const cb = fnOf(arg);
      if (!cb) return;
      let set = listeners.get(topic);
      if (!set) {
        listeners.set(topic, (set = new Set()));
        const acked = subscriber.subscribe(prefix + topic).then(
          () => undefined,
          (err: Error) => log.error("redis subscribe failed", { topic, error: err.message }),
        );
        live.set(topic, acked);
      }
      set.add(cb);
    },
    removeEventListener(topic: string, arg: ListenerArg) {
      const cb = fnOf(arg);
      const set = listeners.get(topic);
      if (!cb || !set) return;
      set.delete(cb);
      if (set.size > 0) return;
      listeners.delete(topic);
      live.delete(topic);
      subscriber.unsubscribe(prefix + topic).catch(() => undefined);
    },
    /**
     * Settles once the topic's SUBSCRIBE is acknowledged: from then on, Redis delivers every message
     * published to it, by any instance. (Also after a failed SUBSCRIBE, which was logged: waiting
     * forever would hang the subscriber; ioredis re-subscribes when the connection comes back.)
     */
    subscribed(topic: string): Promise<void> {
      return live.get(topic) ?? Promise.resolve();
    },
    dispatchEvent(event: CustomEvent) {
      const body = event.detail === undefined || event.detail === null ? "" : JSON.stringify(event.detail);
      publisher.publish(prefix + event.type, body).catch((err: Error) => log.error("redis publish failed", { topic: event.type, error: err.message }));
      return true;
    },
  };
  return target as unknown as EventTransport;
}
