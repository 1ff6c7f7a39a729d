import { FixedBuffer, Repeater } from "@graphql-yoga/subscription";

/** Events a subscriber may fall behind by before its subscription is ended (memory stays bounded). */
export const MAX_PENDING_EVENTS = 5_000;

export interface LiveStreamOptions<T> {
  /**
   * Produces the first value, called once `source` is listening: anything that happens while it
   * runs is queued behind it, so a snapshot taken here is never older than the events that follow.
   */
  first?: () => Promise<T> | T;
  /** Pending events allowed per subscriber. Default {@link MAX_PENDING_EVENTS}. */
  maxPending?: number;
  /** The error the subscription ends with when its subscriber falls further behind. */
  onOverflow: () => Error;
}

/**
 * Wraps a PubSub subscription for one subscriber: on the subscriber's first read (graphql-ws reads
 * as soon as the subscription is set up) it starts listening, then produces `first`, which therefore
 * comes before every event and is never older than them; and it bounds the queue.
 *
 * Why the bound: graphql-ws awaits each socket write, so a subscriber that stops reading holds its
 * events in memory. The PubSub's own repeater would throw past 1,024 of them inside the event
 * dispatch, which is an uncaught exception for the whole process. Here the source is always drained
 * and a subscriber more than `maxPending` events behind gets the events it has, then `onOverflow()`;
 * other subscribers never wait for it. `return()` (unsubscribe) stops listening at once.
 */
let open = 0;

/** Subscriptions streaming right now in this process (the `verify_guard_open_subscriptions` gauge). */
export function openStreams(): number {
  return open;
}

export function liveStream<T>(source: AsyncIterable<T>, opts: LiveStreamOptions<T>): AsyncIterableIterator<T> {
  const buffer = new FixedBuffer(opts.maxPending ?? MAX_PENDING_EVENTS);
  return new Repeater<T>(async (push, stop) => {
    const it = source[Symbol.asyncIterator]();
    let ended = false;
    stop.then(() => {
      ended = true;
      void it.return?.();
    });
    const forward = (value: T): void => {
      if (ended) return;
      if (buffer.full) {
        ended = true;
        stop(opts.onOverflow());
        return;
      }
      void push(value);
    };
    const firstNext = it.next(); // the source listens from here on
    open++;
    try {
      if (opts.first) forward(await opts.first());
      for (let r = await firstNext; !r.done && !ended; r = await it.next()) forward(r.value);
    } catch (err) {
      stop(err);
      return;
    } finally {
      open--;
    }
    stop();
  }, buffer);
}
