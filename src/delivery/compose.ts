import type { DeliveryJobRow } from "../store/delivery.js";
import type { ServiceRow, VerificationRow } from "../store/types.js";
import type { OutboundMessage } from "./channel.js";
import { renderSms, renderVoice, type TemplateVars } from "./templates.js";
import { buildVoiceTwiml } from "./twiml.js";

/**
 * The message a job sends, rendered when it is sent (not when it is queued), so the text is never
 * stored: SMS with the service's template or the built-in one for the locale; CALL with TwiML.
 */
export function composeMessage(job: DeliveryJobRow, v: VerificationRow, service: ServiceRow, code: string): OutboundMessage {
  const locale = job.locale ?? v.locale;
  const vars: TemplateVars = {
    code,
    friendlyName: job.friendlyName ?? service.friendlyName,
    // Whole minutes, never "0 minutes" for a TTL under a minute.
    ttlMinutes: Math.max(1, Math.round(service.ttlSeconds / 60)),
  };
  const base = {
    jobId: job.id,
    serviceId: v.serviceId,
    verificationId: v.id,
    sendAttemptId: job.sendAttemptId,
    to: v.to,
    channel: job.channel,
  };
  if (job.channel === "CALL") {
    const script = renderVoice(vars, locale);
    return { ...base, body: script.transcript, twiml: buildVoiceTwiml(script) };
  }
  return { ...base, body: renderSms(vars, locale, service.smsTemplate, service.doNotShareWarningEnabled), twiml: null };
}
