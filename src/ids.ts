import { randomBytes } from "node:crypto";

/**
 * Twilio-shaped SIDs: a two-letter prefix and 32 lowercase hex digits. AC is the instance's account,
 * SK an API key as the Twilio-compatible REST API names it (the hex of its VK id), RK and BL a service
 * rate limit and its buckets, GN a safe-listed number, CR a
 * consent record, ER an erasure.
 */
export type SidPrefix = "VA" | "VE" | "VL" | "VK" | "VD" | "VJ" | "AC" | "SK" | "RK" | "BL" | "GN" | "CR" | "ER";

export function newSid(prefix: SidPrefix): string {
  return prefix + randomBytes(16).toString("hex");
}

export function isSid(prefix: SidPrefix, value: string): boolean {
  return value.length === 34 && value.startsWith(prefix) && /^[0-9a-f]{32}$/.test(value.slice(2));
}
