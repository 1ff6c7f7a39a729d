import { maskPhone } from "../phone.js";
import type { Channel } from "../store/types.js";
import type { DeliveryChannel, DeliveryReceipt, OutboundMessage } from "./channel.js";
import type { Logger } from "../log.js";

export interface OutboxMessage {
  id: string;
  serviceId: string;
  verificationId: string;
  to: string;
  channel: Channel;
  body: string;
  at: number;
}

/**
 * Development and test delivery: keeps each message in memory (bounded) so an admin can read the
 * code in GraphiQL (`outboxMessages`) and logs it with the number masked. Kept out of the database
 * on purpose: the database never holds a code in clear.
 */
export class OutboxChannel implements DeliveryChannel {
  readonly name = "outbox";
  private readonly messages: OutboxMessage[] = [];
  private seq = 0;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly capacity = 10_000,
  ) {}

  async send(m: OutboundMessage): Promise<DeliveryReceipt> {
    const id = `OB${(++this.seq).toString().padStart(8, "0")}`;
    this.messages.push({ id, serviceId: m.serviceId, verificationId: m.verificationId, to: m.to, channel: m.channel, body: m.body, at: this.now() });
    if (this.messages.length > this.capacity) this.messages.splice(0, this.messages.length - this.capacity);
    this.log.info("outbox: message queued", { to: maskPhone(m.to), channel: m.channel, verificationId: m.verificationId });
    return { providerSid: id, status: "delivered" };
  }

  /** The newest message of one verification, if any (the demo page's development panel). */
  latestFor(verificationId: string): OutboxMessage | null {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i]!.verificationId === verificationId) return this.messages[i]!;
    return null;
  }

  /** Drops every message to `to` (an erasure); returns how many. */
  forget(to: string): number {
    const before = this.messages.length;
    for (let i = before - 1; i >= 0; i--) if (this.messages[i]!.to === to) this.messages.splice(i, 1);
    return before - this.messages.length;
  }

  /** Newest first; optionally only those to one number. */
  list(to?: string, limit = 100): OutboxMessage[] {
    const out: OutboxMessage[] = [];
    for (let i = this.messages.length - 1; i >= 0 && out.length < limit; i--) {
      const m = this.messages[i]!;
      if (!to || m.to === to) out.push(m);
    }
    return out;
  }
}
