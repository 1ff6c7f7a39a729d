import { GraphQLError } from "graphql";
import { randomUUID } from "node:crypto";
import type { WebSocket } from "ws";
import type { ApiKeys, Caller } from "../auth/keys.js";
import { AppError } from "../errors.js";
import type { Logger } from "../log.js";
import { ipGroup } from "../risk/ip-group.js";
import type { Slots } from "./slots.js";

/** Limits on live subscriptions (issue 13, finding 2: one key once held 10,000). */
export interface WsLimitOptions {
  /** Subscriptions one API key holds at once, across its sockets (and instances, with Redis). @default 100 */
  subscriptionsPerKey: number;
  /** Subscriptions one socket holds at once. @default 20 */
  subscriptionsPerSocket: number;
  /** Sockets one API key holds open at once. @default 100 */
  socketsPerKey: number;
  /** Sockets one client IP group (IPv4 address, IPv6 /64) holds open at once. @default 50 */
  socketsPerIp: number;
  /** How often the keys of open sockets are read again (revoked or expired: their sockets close). @default 2000 */
  revalidateMs: number;
}

export const DEFAULT_WS_LIMITS: WsLimitOptions = { subscriptionsPerKey: 100, subscriptionsPerSocket: 20, socketsPerKey: 100, socketsPerIp: 50, revalidateMs: 2_000 };

/** Close codes of our own, in graphql-ws' 4xxx range. */
export const WsCloseCode = {
  /** graphql-ws' Forbidden: no valid key, or the key was revoked or expired while the socket was open. */
  Forbidden: 4403,
  /** Too many sockets for this key or this address. */
  TooManyConnections: 4429,
} as const;

/** What one socket holds. */
export interface SocketSlots {
  id: string;
  caller: Caller;
  group: string;
  /** Subscription ids holding a slot (set before the slot is asked for, so a burst cannot overshoot). */
  subscriptions: Set<string>;
}

/**
 * Who may hold how many WebSockets and subscriptions, and the end of those of a revoked key. The
 * counts live in {@link Slots} (in-process, or Redis across instances); the per-socket cap is local.
 * Going over a subscription limit is an `error` message for that one subscription (the socket stays
 * usable); going over a socket limit closes the new socket with 4429 and a reason that carries 20429.
 */
export class WsLimits {
  private readonly open = new Map<string, Set<{ socket: WebSocket; slots: SocketSlots }>>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly d: { slots: Slots; apiKeys: ApiKeys; log: Logger; options?: Partial<WsLimitOptions> },
    private readonly o: WsLimitOptions = { ...DEFAULT_WS_LIMITS, ...d.options },
  ) {
    this.timer = setInterval(() => void this.revalidate(), this.o.revalidateMs);
    this.timer.unref();
  }

  /** Takes the socket's slots; null (and the socket closed with 4429) when over a limit. */
  async connect(socket: WebSocket, caller: Caller, ip: string | null): Promise<SocketSlots | null> {
    const slots: SocketSlots = { id: randomUUID(), caller, group: (ip ? ipGroup(ip) : null) ?? "unknown", subscriptions: new Set() };
    const byKey = await this.d.slots.acquire(pools.socketsOfKey(caller.keyId), slots.id, this.o.socketsPerKey);
    const byIp = byKey && (await this.d.slots.acquire(pools.socketsOfIp(slots.group), slots.id, this.o.socketsPerIp));
    if (!byKey || !byIp) {
      await this.d.slots.release(pools.socketsOfKey(caller.keyId), slots.id);
      const reason = byKey ? `20429 Too many connections from this address (at most ${this.o.socketsPerIp})` : `20429 Too many connections for this API key (at most ${this.o.socketsPerKey})`;
      socket.close(WsCloseCode.TooManyConnections, reason);
      return null;
    }
    let set = this.open.get(caller.keyId);
    if (!set) this.open.set(caller.keyId, (set = new Set()));
    set.add({ socket, slots });
    return slots;
  }

  /** Takes a subscription slot; the error to answer with when over a limit, else null. */
  async subscribe(s: SocketSlots, id: string): Promise<GraphQLError | null> {
    if (s.subscriptions.size >= this.o.subscriptionsPerSocket) return tooMany(`at most ${this.o.subscriptionsPerSocket} subscriptions per connection`);
    s.subscriptions.add(id);
    const taken = await this.d.slots.acquire(pools.subscriptionsOfKey(s.caller.keyId), `${s.id}:${id}`, this.o.subscriptionsPerKey).catch((err: unknown) => {
      s.subscriptions.delete(id);
      throw err;
    });
    if (taken) return null;
    s.subscriptions.delete(id);
    return tooMany(`at most ${this.o.subscriptionsPerKey} subscriptions per API key`);
  }

  /** Gives a subscription's slot back (it completed, or its socket closed). */
  async unsubscribe(s: SocketSlots, id: string): Promise<void> {
    if (!s.subscriptions.delete(id)) return;
    await this.d.slots.release(pools.subscriptionsOfKey(s.caller.keyId), `${s.id}:${id}`);
  }

  /** Gives back everything a closed socket held. */
  async disconnect(socket: WebSocket, s: SocketSlots): Promise<void> {
    const set = this.open.get(s.caller.keyId);
    for (const entry of set ?? []) if (entry.socket === socket) set!.delete(entry);
    if (set?.size === 0) this.open.delete(s.caller.keyId);
    await Promise.all([...s.subscriptions].map((id) => this.unsubscribe(s, id)));
    await this.d.slots.release(pools.socketsOfKey(s.caller.keyId), s.id);
    await this.d.slots.release(pools.socketsOfIp(s.group), s.id);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.d.slots.close();
  }

  /**
   * Reads each key with an open socket again: a revoked or expired key's sockets close with 4403, which
   * ends their subscriptions (within `revalidateMs`, on every instance, whichever one revoked it).
   */
  private async revalidate(): Promise<void> {
    for (const [keyId, sockets] of [...this.open]) {
      let valid: boolean;
      try {
        valid = await this.d.apiKeys.stillValid(keyId);
      } catch (err) {
        this.d.log.warn("could not re-read an API key with open WebSockets", { keyId, error: String(err) });
        continue;
      }
      if (valid) continue;
      this.d.log.info("closing the WebSockets of a revoked or expired API key", { keyId, sockets: sockets.size });
      for (const { socket } of sockets) socket.close(WsCloseCode.Forbidden, "Forbidden: API key revoked or expired");
    }
  }
}

/** Pool names: what is counted, and whose. */
const pools = {
  socketsOfKey: (keyId: string) => ["ws", "sockets", "key", keyId].join(":"),
  socketsOfIp: (group: string) => ["ws", "sockets", "ip", group].join(":"),
  subscriptionsOfKey: (keyId: string) => ["ws", "subscriptions", "key", keyId].join(":"),
};

function tooMany(detail: string): GraphQLError {
  const message = `Too many subscriptions: ${detail}; end one first`;
  return new GraphQLError(message, { originalError: new AppError("TOO_MANY_SUBSCRIPTIONS", message) });
}
