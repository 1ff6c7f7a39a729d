import { requireAdmin, type Caller } from "../auth/keys.js";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import type { VerifyPubSub } from "../events/pubsub.js";
import { liveStream } from "../events/stream.js";
import type { VerificationEvent, VerificationEventType } from "../events/types.js";
import type { Store, VerificationRow } from "../store/types.js";
import type { Lifecycle } from "./lifecycle.js";

/** What a subscriber receives: the domain's events, after a first SUBSCRIBED message. */
export type WatchEvent = Omit<VerificationEvent, "type"> & { type: VerificationEventType | "SUBSCRIBED" };

export interface WatcherDeps {
  pubSub: VerifyPubSub;
  store: Pick<Store, "getVerification" | "getService">;
  lifecycle: Pick<Lifecycle, "get">;
  clock: Clock;
}

/**
 * Who may watch what, and the live streams they get (GraphQL subscriptions call this).
 *
 * Access is decided before anything is subscribed. A client key watches only its own service's
 * verifications; for any other id it gets 20404, the same as for an id that does not exist, so a key
 * cannot probe other services. Only admins watch a whole service (20403 for client keys).
 *
 * Every stream starts with SUBSCRIBED, sent once the subscription is listening: events after it are
 * never missed. For a verification it carries the current status, read after listening began (an
 * expired one is moved to EXPIRED by that read, as any read does), so a client that subscribes after
 * starting knows where it stands; an event that happened during that read may follow it.
 */
export class EventWatcher {
  constructor(private readonly d: WatcherDeps) {}

  async verification(caller: Caller | null, verificationId: string): Promise<AsyncIterableIterator<WatchEvent>> {
    if (!caller) throw new AppError("UNAUTHENTICATED");
    const row = await this.d.store.getVerification(verificationId);
    if (!row || (caller.role !== "ADMIN" && caller.serviceId !== row.serviceId)) throw new AppError("NOT_FOUND", "Verification not found");
    return liveStream<WatchEvent>(this.d.pubSub.subscribe("verification", row.id), {
      first: async () => {
        // Over Redis, "listening" means the SUBSCRIBE was acknowledged: only then is nothing missed.
        await this.d.pubSub.listening("verification", row.id);
        return snapshot(await this.d.lifecycle.get(row.serviceId, row.id), this.d.clock.now());
      },
      onOverflow: () => new AppError("SUBSCRIBER_TOO_SLOW"),
    });
  }

  async service(caller: Caller | null, serviceId: string): Promise<AsyncIterableIterator<WatchEvent>> {
    requireAdmin(caller);
    if (!(await this.d.store.getService(serviceId))) throw new AppError("NOT_FOUND", "Service not found");
    return liveStream<WatchEvent>(this.d.pubSub.subscribe("service", serviceId), {
      first: async () => {
        await this.d.pubSub.listening("service", serviceId);
        return { type: "SUBSCRIBED", serviceId, verificationId: null, status: null, channel: null, at: this.d.clock.now() };
      },
      onOverflow: () => new AppError("SUBSCRIBER_TOO_SLOW"),
    });
  }
}

function snapshot(v: VerificationRow, now: number): WatchEvent {
  return { type: "SUBSCRIBED", serviceId: v.serviceId, verificationId: v.id, status: v.status, channel: v.channel, at: now, country: v.countryCode };
}
