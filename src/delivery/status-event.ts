import type { VerificationEvent } from "../events/types.js";
import type { AttemptWithVerification } from "../store/delivery.js";

/**
 * DELIVERY_STATUS: a send attempt's delivery status as recorded (the worker giving up, Twilio's
 * status callbacks), with its verification's service, status and country, never the number.
 */
export function deliveryStatusEvent({ attempt, verification: v }: AttemptWithVerification, at: number): VerificationEvent {
  return {
    type: "DELIVERY_STATUS",
    serviceId: v.serviceId,
    verificationId: v.id,
    status: v.status,
    channel: attempt.channel,
    at,
    deliveryStatus: attempt.deliveryStatus,
    errorCode: attempt.errorCode,
    country: v.countryCode,
  };
}
