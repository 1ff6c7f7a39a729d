import { createHash } from "node:crypto";
import type { BucketView, RateLimitView } from "../risk/service-rate-limits.js";
import type { AttemptsSummary } from "../stats/fraud-stats.js";
import type { RiskDecisionRow, SendAttemptRow, ServiceRow, VerificationRow } from "../store/types.js";
import { lookupOf } from "../verification/rules.js";

/**
 * Domain rows as Twilio's Verify v2 JSON: snake_case fields, lowercase statuses and channels, ISO 8601
 * times without milliseconds, absolute `url`s. The field sets follow twilio/twilio-oai
 * `spec/json/twilio_verify_v2.json`; fields for features verify-guard does not have are present with
 * their "off" value, so code that reads them finds what Twilio would send for a service without them.
 */

/** Where the resources live (PUBLIC_URL, or the request's own origin) and whose account they are. */
export interface ViewContext {
  base: string;
  accountSid: string;
}

/** Twilio's time format: `2015-07-30T20:00:00Z`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function serviceJson(s: ServiceRow, c: ViewContext): Record<string, unknown> {
  const url = `${c.base}/v2/Services/${s.id}`;
  return {
    sid: s.id,
    account_sid: c.accountSid,
    friendly_name: s.friendlyName,
    code_length: s.codeLength,
    lookup_enabled: s.lookupEnabled,
    psd2_enabled: s.psd2Enabled,
    skip_sms_to_landlines: s.skipSmsToLandlines,
    dtmf_input_required: false,
    tts_name: null,
    do_not_share_warning_enabled: s.doNotShareWarningEnabled,
    custom_code_enabled: s.customCodeEnabled,
    push: { include_date: false, apn_credential_sid: null, fcm_credential_sid: null },
    totp: { issuer: null, time_step: null, code_length: null, skew: null },
    default_template_sid: null,
    whatsapp: { msg_service_sid: null, from: null },
    passkeys: null,
    verify_event_subscription_enabled: false,
    // verify-guard's own settings (Twilio keeps these fixed): see docs/twilio-compat.md.
    ttl_seconds: s.ttlSeconds,
    max_check_attempts: s.maxCheckAttempts,
    max_send_attempts: s.maxSendAttempts,
    sms_enabled: s.smsEnabled,
    call_enabled: s.callEnabled,
    sms_template: s.smsTemplate,
    require_consent: s.requireConsent,
    date_created: isoTime(s.createdAt),
    date_updated: isoTime(s.updatedAt),
    url,
    links: {
      verifications: `${url}/Verifications`,
      verification_checks: `${url}/VerificationCheck`,
      rate_limits: `${url}/RateLimits`,
    },
  };
}

/** libphonenumber's line types as Twilio's carrier types; FIXED_LINE_OR_MOBILE (US, CA) cannot say which. */
const CARRIER_TYPES: Record<string, string> = { MOBILE: "mobile", FIXED_LINE: "landline", VOIP: "voip" };

function lookupJson(s: ServiceRow, v: VerificationRow): Record<string, unknown> {
  const shown = lookupOf(s, v);
  if (!shown) return {};
  return {
    carrier: { error_code: null, name: null, mobile_country_code: null, mobile_network_code: null, type: (shown.lineType && CARRIER_TYPES[shown.lineType]) ?? null },
    country_code: shown.countryCode,
  };
}

/** A Verification, field for field as Twilio's (the seed sample's response). */
export function verificationJson(v: VerificationRow, attempts: SendAttemptRow[], s: ServiceRow, c: ViewContext): Record<string, unknown> {
  return {
    sid: v.id,
    service_sid: v.serviceId,
    account_sid: c.accountSid,
    to: v.to,
    channel: v.channel.toLowerCase(),
    status: v.status.toLowerCase(),
    valid: v.status === "APPROVED",
    date_created: isoTime(v.createdAt),
    date_updated: isoTime(v.updatedAt),
    lookup: lookupJson(s, v),
    amount: v.amount,
    payee: v.payee,
    // Twilio writes the channel of a send attempt in capitals here (and only here).
    send_code_attempts: attempts.map((a) => ({ time: isoTime(a.at), channel: a.channel, attempt_sid: a.id })),
    sna: null,
    url: `${c.base}/v2/Services/${v.serviceId}/Verifications/${v.id}`,
  };
}

/**
 * A VerificationCheck: the verification after the check. `approval_token` is verify-guard's extension
 * (not in Twilio's response): the signed token an approving check issues for the app's backend
 * (docs/operations.md#approval-tokens), null otherwise.
 */
export function verificationCheckJson(v: VerificationRow, valid: boolean, approvalToken: string | null, c: ViewContext): Record<string, unknown> {
  return {
    sid: v.id,
    service_sid: v.serviceId,
    account_sid: c.accountSid,
    to: v.to,
    channel: v.channel.toLowerCase(),
    status: v.status.toLowerCase(),
    valid,
    amount: v.amount,
    payee: v.payee,
    date_created: isoTime(v.createdAt),
    date_updated: isoTime(v.updatedAt),
    sna_attempts_error_codes: [],
    approval_token: approvalToken,
  };
}

/**
 * A verification attempt: one send (an allowed start), from the decision log. Twilio's `price` and
 * carrier details in `channel_data` are not known here (prices are estimates, per country): null.
 */
export function attemptJson(r: RiskDecisionRow, c: ViewContext): Record<string, unknown> {
  const sid = r.attemptId ?? r.id;
  return {
    sid,
    account_sid: c.accountSid,
    service_sid: r.serviceId,
    verification_sid: r.verificationId,
    date_created: isoTime(r.createdAt),
    date_updated: isoTime(r.createdAt),
    conversion_status: r.converted ? "converted" : "unconverted",
    channel: r.channel?.toLowerCase() ?? null,
    price: null,
    channel_data: { to: r.to },
    url: `${c.base}/v2/Attempts/${sid}`,
  };
}

export function summaryJson(s: AttemptsSummary, c: ViewContext): Record<string, unknown> {
  return {
    total_attempts: s.totalAttempts,
    total_converted: s.totalConverted,
    total_unconverted: s.totalUnconverted,
    conversion_rate_percentage: (s.conversionRatePercentage ?? 0).toFixed(2),
    url: `${c.base}/v2/Attempts/Summary`,
  };
}

export function rateLimitJson(l: RateLimitView, c: ViewContext): Record<string, unknown> {
  const url = `${c.base}/v2/Services/${l.serviceId}/RateLimits/${l.sid}`;
  return {
    sid: l.sid,
    service_sid: l.serviceId,
    account_sid: c.accountSid,
    unique_name: l.uniqueName,
    description: l.description,
    date_created: isoTime(l.createdAt),
    date_updated: isoTime(l.updatedAt),
    url,
    links: { buckets: `${url}/Buckets` },
  };
}

export function bucketJson(b: BucketView, c: ViewContext): Record<string, unknown> {
  return {
    sid: b.sid,
    rate_limit_sid: b.rateLimitSid,
    service_sid: b.serviceId,
    account_sid: c.accountSid,
    max: b.max,
    interval: b.intervalSeconds,
    date_created: isoTime(b.createdAt),
    date_updated: isoTime(b.updatedAt),
    url: `${c.base}/v2/Services/${b.serviceId}/RateLimits/${b.rateLimitSid}/Buckets/${b.sid}`,
  };
}

/** A safe-listed number. Its SID (GN…) is derived from the number: the list is keyed by number. */
export function safeListJson(number: string, c: ViewContext): Record<string, unknown> {
  return {
    sid: "GN" + createHash("sha256").update(number).digest("hex").slice(0, 32),
    phone_number: number,
    url: `${c.base}/v2/SafeList/Numbers/${encodeURIComponent(number)}`,
  };
}
