import express, { type Request, type Response } from "express";
import twilio from "twilio";
import type { Clock } from "../clock.js";
import { normalizeCallStatus, normalizeMessageStatus, STATUS_CALLBACK_PATH } from "../delivery/twilio.js";
import { eventRows, type EventOutbox } from "../events/outbox.js";
import type { EventPublisher } from "../events/types.js";
import { requestContext, type Logger } from "../log.js";
import { enterRequestScope } from "./server.js";
import type { DeliveryMetrics } from "../metrics.js";
import { maskPhone } from "../phone.js";
import { deliveryStatusEvent } from "../delivery/status-event.js";
import type { AttemptWithVerification, DeliveryJobStore } from "../store/delivery.js";
import type { Store } from "../store/types.js";

export interface TwilioWebhookDeps {
  /** The auth token Twilio signs callbacks with. */
  authToken: string;
  /** PUBLIC_URL: the base of the URL Twilio called, which is what it signed. */
  publicUrl: string;
  store: Store;
  jobs: DeliveryJobStore;
  events: EventPublisher;
  /** The event outbox (webhooks): DELIVERY_STATUS's deliveries commit with the status it reports. */
  eventOutbox?: EventOutbox;
  clock: Clock;
  log: Logger;
  /** Counts each recorded callback status (metrics). */
  metrics?: Pick<DeliveryMetrics, "callback">;
}

type Params = Record<string, string | string[] | undefined>;

/**
 * `POST /webhooks/twilio/status`: Twilio's status callbacks for the messages and calls we create.
 *
 * Every request must carry a valid `X-Twilio-Signature`: HMAC-SHA1 with the auth token over the full
 * URL Twilio called (PUBLIC_URL + path + query) and the sorted form parameters, checked by the `twilio`
 * package's `validateRequest` (https://www.twilio.com/docs/usage/webhooks/webhooks-security). Anything
 * else is answered 403, logged with the number masked, and changes nothing.
 *
 * A valid callback moves the send attempt's delivery status forward (never back: callbacks may arrive
 * out of order), records price and error code when given, and publishes DELIVERY_STATUS. The attempt is
 * named in our own callback URL (`?attempt=VL…`, covered by the signature), so a callback that beats
 * the worker's write of the provider sid still finds its attempt.
 */
export function mountTwilioWebhook(router: express.Router, deps: TwilioWebhookDeps): void {
  const publicBase = deps.publicUrl.replace(/\/+$/, "");
  router.post(STATUS_CALLBACK_PATH, express.urlencoded({ extended: false, limit: "32kb" }), enterRequestScope, async (req: Request, res: Response) => {
    const params: Params = req.body && typeof req.body === "object" ? (req.body as Params) : {};
    const signature = req.get("x-twilio-signature") ?? "";
    if (!signature || !twilio.validateRequest(deps.authToken, signature, publicBase + req.originalUrl, params)) {
      deps.log.warn("twilio callback rejected: bad signature", {
        to: one(params.To) ? maskPhone(one(params.To)!) : null,
        sid: one(params.MessageSid) ?? one(params.CallSid) ?? null,
        ip: req.socket.remoteAddress ?? null,
        signed: signature !== "",
      });
      res.status(403).type("text/plain").send("Forbidden");
      return;
    }

    const messageSid = one(params.MessageSid) ?? one(params.SmsSid);
    const callSid = one(params.CallSid);
    const sid = messageSid ?? callSid;
    const status = messageSid
      ? normalizeMessageStatus(one(params.MessageStatus) ?? one(params.SmsStatus))
      : normalizeCallStatus(one(params.CallStatus));
    const errorCode = Number.parseInt(one(params.ErrorCode) ?? "", 10);
    const attemptId = typeof req.query.attempt === "string" ? req.query.attempt : (sid ? (await deps.store.findSendAttemptByProviderSid(sid))?.id : undefined);
    if (!sid || !attemptId) {
      // Signed by Twilio but not ours to record (another app's callback, a deleted verification): ack it.
      deps.log.info("twilio callback ignored: unknown attempt", { sid: sid ?? null });
      res.status(204).end();
      return;
    }
    // The rest runs in the scope of the request that started this send: its logs carry that id, and
    // so do the webhook deliveries written with the status.
    const job = await deps.jobs.jobForAttempt(attemptId);
    const scoped = <T>(fn: () => Promise<T>): Promise<T> => (job?.requestId ? requestContext.run({ requestId: job.requestId }, fn) : fn());
    await scoped(async () => {
      // DELIVERY_STATUS, its webhook deliveries committed with the status (the event outbox). The
      // attempt's service is known only inside the write: the deliveries of whichever service it is.
      const at = deps.clock.now();
      const statusEvent = (r: AttemptWithVerification) => deliveryStatusEvent(r, at);
      const attempt = await deps.jobs.recordAttemptStatus(
        attemptId,
        { status, providerSid: sid, price: one(params.Price) ?? null, priceUnit: one(params.PriceUnit) ?? null, errorCode: Number.isFinite(errorCode) ? errorCode : null },
        await eventRows(deps.eventOutbox, undefined, statusEvent),
      );
      if (!attempt) {
        deps.log.info("twilio callback ignored: no matching attempt", { sid, attempt: attemptId });
        return;
      }
      deps.metrics?.callback(attempt.channel, status, Number.isFinite(errorCode) ? errorCode : null);
      deps.log.info("delivery: status callback", { verificationId: attempt.verificationId, attempt: attempt.id, status, recorded: attempt.deliveryStatus, errorCode: attempt.errorCode });
      const verification = await deps.store.getVerification(attempt.verificationId);
      if (verification) deps.events.publish(statusEvent({ attempt, verification }));
    });
    res.status(204).end();
  });
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
