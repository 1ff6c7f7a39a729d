import twilio from "twilio";
import type { Config } from "../config.js";
import { DeliveryError, type DeliveryChannel, type DeliveryReceipt, type OutboundMessage } from "./channel.js";
import { toDeliveryError } from "./twilio-errors.js";
import { RoutedRequestClient, withIdempotencyToken } from "./twilio-http.js";

/** Path of the status-callback webhook (http/twilio-webhook.ts). */
export const STATUS_CALLBACK_PATH = "/webhooks/twilio/status";

export interface TwilioChannelOptions {
  accountSid: string;
  /** Auth token, or an API key SID and secret (then `accountSid` names the account). */
  authToken?: string;
  apiKey?: string;
  apiSecret?: string;
  /** Sender number (E.164); required for calls, and for SMS without a Messaging Service. */
  from?: string;
  /** `MG…`: SMS go through the Messaging Service (its sender pool) instead of `from`. */
  messagingServiceSid?: string;
  /** Full status-callback URL (PUBLIC_URL + path); null = no callbacks asked for. */
  statusCallbackUrl: string | null;
  /** Replaces Twilio's hosts (staging, tests); null = Twilio. */
  baseUrl: string | null;
  /** Per-request timeout (ms). */
  timeoutMs: number;
}

/** The options {@link TwilioChannel} takes, from the validated config; null when Twilio is not configured. */
export function twilioOptionsFrom(config: Config): TwilioChannelOptions | null {
  if (!config.TWILIO_ACCOUNT_SID) return null;
  const useKey = !!(config.TWILIO_API_KEY && config.TWILIO_API_SECRET);
  return {
    accountSid: config.TWILIO_ACCOUNT_SID,
    authToken: useKey ? undefined : config.TWILIO_AUTH_TOKEN,
    apiKey: useKey ? config.TWILIO_API_KEY : undefined,
    apiSecret: useKey ? config.TWILIO_API_SECRET : undefined,
    from: config.TWILIO_FROM || undefined,
    messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID || undefined,
    // Callbacks are only asked for when they can be checked: a public URL and the auth token that signs them.
    statusCallbackUrl: config.PUBLIC_URL && config.TWILIO_AUTH_TOKEN ? config.PUBLIC_URL.replace(/\/+$/, "") + STATUS_CALLBACK_PATH : null,
    baseUrl: config.TWILIO_API_BASE_URL ?? null,
    timeoutMs: config.TWILIO_TIMEOUT_MS,
  };
}

/**
 * Delivery through Twilio's Programmable Messaging (SMS) and Voice (CALL) APIs with the official SDK.
 * Each send is one `create` carrying the job id as idempotency token; the SDK's own 429 auto-retry stays
 * off, because retries belong to the durable job (backoff survives restarts and is counted).
 */
export class TwilioChannel implements DeliveryChannel {
  readonly name = "twilio";
  private readonly client: twilio.Twilio;
  /** Who SMS come from: the Messaging Service when set, else the sender number. */
  private readonly smsSender: { messagingServiceSid: string } | { from: string } | null;

  constructor(private readonly o: TwilioChannelOptions) {
    this.smsSender = o.messagingServiceSid ? { messagingServiceSid: o.messagingServiceSid } : o.from ? { from: o.from } : null;
    const httpClient = new RoutedRequestClient({ baseUrl: o.baseUrl, timeout: o.timeoutMs, keepAlive: true });
    this.client = o.apiKey
      ? twilio(o.apiKey, o.apiSecret, { accountSid: o.accountSid, httpClient })
      : twilio(o.accountSid, o.authToken, { httpClient });
  }

  async send(m: OutboundMessage): Promise<DeliveryReceipt> {
    const statusCallback = this.o.statusCallbackUrl ? `${this.o.statusCallbackUrl}?attempt=${encodeURIComponent(m.sendAttemptId)}` : undefined;
    try {
      return await withIdempotencyToken(m.jobId, async () => {
        if (m.channel === "CALL") {
          if (!this.o.from) throw new DeliveryError("calls need TWILIO_FROM (a Messaging Service cannot place calls)", false, 21603);
          const call = await this.client.calls.create({
            to: m.to,
            from: this.o.from,
            twiml: m.twiml ?? undefined,
            statusCallback,
            statusCallbackEvent: statusCallback ? ["initiated", "ringing", "answered", "completed"] : undefined,
          });
          return { providerSid: call.sid, status: normalizeCallStatus(call.status) };
        }
        if (!this.smsSender) throw new DeliveryError("SMS need TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID", false, 21603);
        const msg = await this.client.messages.create({ to: m.to, body: m.body, ...this.smsSender, statusCallback });
        return { providerSid: msg.sid, status: normalizeMessageStatus(msg.status) };
      });
    } catch (err) {
      throw toDeliveryError(err);
    }
  }
}

/**
 * Twilio's message statuses onto ours (queued, sent, delivered, undelivered, failed).
 * https://www.twilio.com/docs/messaging/api/message-resource#message-status-values
 */
export function normalizeMessageStatus(status: string | undefined): string {
  switch (status) {
    case "accepted":
    case "scheduled":
    case "queued":
      return "queued";
    case "sending":
    case "sent":
      return "sent";
    case "delivered":
    case "read":
      return "delivered";
    case "undelivered":
    case "canceled":
      return "undelivered";
    case "failed":
      return "failed";
    default:
      return "queued";
  }
}

/**
 * Twilio's call statuses onto ours: a call that was answered delivered the code; busy, no answer or
 * canceled did not. https://www.twilio.com/docs/voice/api/call-resource#call-status-values
 */
export function normalizeCallStatus(status: string | undefined): string {
  switch (status) {
    case "queued":
      return "queued";
    case "initiated":
    case "ringing":
      return "sent";
    case "in-progress":
    case "answered":
    case "completed":
      return "delivered";
    case "busy":
    case "no-answer":
    case "canceled":
      return "undelivered";
    case "failed":
      return "failed";
    default:
      return "queued";
  }
}

/** One line for the start-up banner: which delivery runs, and what is missing for callbacks. */
export function describeDelivery(config: Config): string {
  const o = twilioOptionsFrom(config);
  if (!o) return "local outbox (no Twilio credentials set: codes are logged masked and listed by outboxMessages)";
  const host = o.baseUrl ? `stand-in ${o.baseUrl}` : "api.twilio.com";
  const sms = o.messagingServiceSid ? `Messaging Service ${o.messagingServiceSid}` : `from ${o.from}`;
  const calls = o.from ? "" : "; calls cannot be placed without TWILIO_FROM";
  const callbacks = o.statusCallbackUrl ? `status callbacks at ${o.statusCallbackUrl}` : "no status callbacks (set PUBLIC_URL and TWILIO_AUTH_TOKEN)";
  return `Twilio (${host}; SMS ${sms}${calls}; ${callbacks})`;
}
