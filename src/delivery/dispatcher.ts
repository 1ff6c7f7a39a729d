import type { Logger } from "../log.js";
import { maskPhone } from "../phone.js";
import type { Store } from "../store/types.js";
import type { DeliveryChannel, OutboundMessage } from "./channel.js";

/**
 * Hands a message to the channel and records the receipt on its send attempt. The domain calls
 * `dispatch` after the verification is committed and does not wait on the provider's latency.
 */
export interface Dispatcher {
  dispatch(message: OutboundMessage): Promise<void>;
  /** Resolves when every dispatch started so far has settled (tests, graceful shutdown). */
  idle(): Promise<void>;
}

/** Sends right away, in the background of the request. */
export class DirectDispatcher implements Dispatcher {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly channel: DeliveryChannel,
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  dispatch(message: OutboundMessage): Promise<void> {
    const p = this.send(message).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return Promise.resolve();
  }

  private async send(m: OutboundMessage): Promise<void> {
    try {
      const receipt = await this.channel.send(m);
      await this.store.updateSendAttempt(m.sendAttemptId, { providerSid: receipt.providerSid, deliveryStatus: receipt.status });
    } catch (err) {
      this.log.error("delivery failed", { to: maskPhone(m.to), channel: m.channel, error: String(err) });
      await this.store.updateSendAttempt(m.sendAttemptId, { deliveryStatus: "failed" }).catch(() => undefined);
    }
  }

  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}
