import { newSid } from "../../src/ids.js";
import type { ApiKeyRow, RiskDecisionRow, SendAttemptRow, ServiceRow, VerificationRow } from "../../src/store/types.js";

/** Row builders for store-level tests: plausible defaults, overridable per test. */

export const T0 = 1_750_000_000_000; // well past 2^31 ms: times must survive as 64-bit numbers

export function serviceRow(over: Partial<ServiceRow> = {}): ServiceRow {
  return {
    id: newSid("VA"),
    friendlyName: "Acme",
    codeLength: 6,
    ttlSeconds: 600,
    maxCheckAttempts: 5,
    maxSendAttempts: 5,
    customCodeEnabled: false,
    skipSmsToLandlines: false,
    smsEnabled: true,
    callEnabled: true,
    lookupEnabled: true,
    psd2Enabled: false,
    doNotShareWarningEnabled: true,
    requireConsent: false,
    smsTemplate: null,
    riskSettings: {},
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export function apiKeyRow(over: Partial<ApiKeyRow> = {}): ApiKeyRow {
  return { id: newSid("VK"), keyHash: newSid("VK"), role: "ADMIN", serviceId: null, name: null, createdAt: T0, revokedAt: null, lastUsedAt: null, expiresAt: null, origin: null, ...over };
}

export function verificationRow(serviceId: string, over: Partial<VerificationRow> = {}): VerificationRow {
  return {
    id: newSid("VE"),
    serviceId,
    to: "+447400123456",
    channel: "SMS",
    status: "PENDING",
    codeHash: "ab".repeat(32),
    codeSeed: "cd".repeat(16),
    locale: null,
    amount: null,
    payee: null,
    countryCode: "GB",
    lineType: "mobile",
    checkAttempts: 0,
    sendAttempts: 1,
    expiresAt: T0 + 600_000,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export function attemptRow(verificationId: string, over: Partial<SendAttemptRow> = {}): SendAttemptRow {
  return {
    id: newSid("VL"),
    verificationId,
    channel: "SMS",
    at: T0,
    deliveryStatus: "queued",
    providerSid: null,
    price: null,
    priceUnit: null,
    errorCode: null,
    ...over,
  };
}

/** A fresh verification + its first send attempt, as the lifecycle passes them to createOrResend. */
export function startInput(serviceId: string, now: number, over: Partial<VerificationRow> = {}, maxSendAttempts = 5) {
  const fresh = verificationRow(serviceId, { createdAt: now, updatedAt: now, expiresAt: now + 600_000, ...over });
  return { fresh, attempt: attemptRow(fresh.id, { at: now, channel: fresh.channel }), maxSendAttempts, now };
}

export function decisionRow(serviceId: string, over: Partial<RiskDecisionRow> = {}): RiskDecisionRow {
  return {
    id: newSid("VD"),
    serviceId,
    verificationId: null,
    kind: "START",
    outcome: "ALLOWED",
    stage: null,
    code: null,
    errorCode: null,
    reason: null,
    shadow: null,
    to: "+447400123456",
    country: "GB",
    prefix: "+4474",
    lineType: "mobile",
    ip: "203.0.113.7",
    channel: "SMS",
    tags: null,
    converted: false,
    attemptId: null,
    createdAt: T0,
    ...over,
  };
}
