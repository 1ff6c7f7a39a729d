import { invalidParameter } from "./errors.js";

/**
 * Rules for free text a caller gives us (names, labels, templates, PSD2 fields). Every string argument
 * has a maximum length, and text that can reach an SMS or a voice call (or an admin's screen) carries
 * no control characters and no bidirectional controls: a right-to-left override can make
 * "Acme code 1234" read differently on the handset (CVE-2021-42574, "Trojan Source", is the same trick
 * in source code), and a NUL or newline can cut or forge the message around it.
 */

/** C0 and C1 controls and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** The same, except line feed (allowed where a text may span lines, e.g. a message template). */
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
/** Bidirectional formatting characters (Unicode UAX #9): marks, embeddings, overrides, isolates. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

export interface TextRule {
  /** Longest value, in characters (UTF-16 code units, as GraphQL and JavaScript count them). */
  max: number;
  /** Shortest value. @default 0 */
  min?: number;
  /** Allow line feeds (multi-line texts). @default false */
  multiline?: boolean;
  /** Measure the length without leading and trailing spaces. @default false */
  trim?: boolean;
}

/** Longest value of common fields, in one place so the schema descriptions and the rules agree. */
export const TEXT_LIMITS = {
  /** A label a person gives (an API key's name). */
  label: 100,
  /** The name a message shows (a service's or a verification's friendly name; Twilio's limit). */
  friendlyName: 30,
  /** PSD2 amount and payee (Twilio's Amount and Payee). */
  psd2: 256,
  /** A service's SMS template. */
  template: 600,
} as const;

/** Throws 60200 naming `field` and what is wrong, when `value` breaks `rule`; returns it otherwise. */
export function assertText<T extends string | null | undefined>(field: string, value: T, rule: TextRule): T {
  if (value == null) return value;
  const min = rule.min ?? 0;
  const length = rule.trim ? value.trim().length : value.length;
  if (length < min || length > rule.max) {
    throw invalidParameter(field, min > 0 ? `must be ${min} to ${rule.max} characters (got ${length})` : `must be at most ${rule.max} characters (got ${length})`);
  }
  const control = (rule.multiline ? CONTROL_BUT_NEWLINE : CONTROL).exec(value);
  if (control) throw invalidParameter(field, `must not contain control characters (${codePoint(control[0])} at position ${control.index + 1})`);
  const bidi = BIDI.exec(value);
  if (bidi) throw invalidParameter(field, `must not contain bidirectional formatting characters (${codePoint(bidi[0])} at position ${bidi.index + 1})`);
  return value;
}

function codePoint(ch: string): string {
  return "U+" + ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
}
