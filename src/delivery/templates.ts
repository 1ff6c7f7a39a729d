import { DEFAULT_LANGUAGE, LOCALES, type LocaleText } from "./locales.js";

/**
 * Message text: the built-in localized templates of locales.ts, or a service's own SMS template.
 * Best practice for OTP texts (and Twilio Verify's own templates): name the service, put the code
 * early, say how long it lasts, and warn never to share it. Every text we send carries that warning.
 */
export interface TemplateVars {
  code: string;
  friendlyName: string;
  ttlMinutes: number;
}

/** A locale resolved against the built-in texts: `pt-BR` -> pt (region br), `xx` -> en. */
export interface ResolvedLocale {
  /** Key of {@link LOCALES}. */
  language: string;
  /** Lower-case region subtag, or null. */
  region: string | null;
  text: LocaleText;
}

/**
 * Resolves `locale` (a BCP 47 tag such as `pt-BR`, `es_MX`, `zh-Hans-CN`) with fallback: the language
 * when we have it, else English. The region only picks a voice (pt-PT vs pt-BR) on calls.
 */
export function resolveLocale(locale: string | null | undefined): ResolvedLocale {
  const parts = (locale ?? "").toLowerCase().split(/[-_]/).filter(Boolean);
  const lang = parts[0] ?? "";
  const region = parts.slice(1).find((p) => /^[a-z]{2}$|^\d{3}$/.test(p)) ?? null;
  const known = Object.hasOwn(LOCALES, lang);
  return { language: known ? lang : DEFAULT_LANGUAGE, region: known ? region : null, text: LOCALES[known ? lang : DEFAULT_LANGUAGE]! };
}

/**
 * The SMS for a send. A service's own template (`smsTemplate`) is used as written with {code},
 * {friendlyName}, {ttlMinutes} filled in; it may place the localized warning with {warning}, and when
 * it does not, the warning is appended (in the language of the request), so no text goes out without
 * it, unless the service turned the warning off (`doNotShareWarningEnabled: false`, Twilio's flag of
 * the same name): then the built-in text ends before it and {warning} is left empty.
 */
export function renderSms(vars: TemplateVars, locale: string | null | undefined, custom?: string | null, warning = true): string {
  const { text } = resolveLocale(locale);
  if (!custom) return fill(warning ? text.sms : text.sms.slice(0, -text.warning.length).trimEnd(), vars, text.rtl);
  if (!warning) return fill(custom.replaceAll("{warning}", "").trim(), vars, text.rtl);
  const withWarning = custom.includes("{warning}") ? custom : `${custom.trimEnd()} {warning}`;
  return fill(withWarning.replaceAll("{warning}", text.warning), vars, text.rtl);
}

/** What a call says, in the caller's language, with the voice that speaks it. */
export interface VoiceScript {
  voice: LocaleText["voices"][string]["voice"];
  language: LocaleText["voices"][string]["language"];
  intro: string;
  repeat: string;
  /** The code digit by digit, e.g. "4, 0, 7, 1, 9, 2". */
  digits: string;
  warning: string;
  /** How many times the digits are spoken. */
  times: number;
  /** A plain-text transcript (for the outbox and tests; the call itself plays the TwiML). */
  transcript: string;
}

/** Times the code is read out: people reach for a pen during the first reading. */
const VOICE_REPEATS = 3;

/** The call's script for a locale (built-in text only: a service's template is for SMS). */
export function renderVoice(vars: TemplateVars, locale: string | null | undefined): VoiceScript {
  const { text, region } = resolveLocale(locale);
  const { voice, language } = text.voices[region ?? ""] ?? text.voices[""]!;
  const intro = fill(text.voiceIntro, vars, text.rtl);
  const digits = [...vars.code].join(text.digitSeparator);
  return {
    voice,
    language,
    intro,
    repeat: text.voiceRepeat,
    digits,
    warning: text.warning,
    times: VOICE_REPEATS,
    transcript: `${intro} ${vars.code}. ${text.warning}`,
  };
}

// Unicode first-strong isolate / pop directional isolate: a Latin service name or the digits inside
// Arabic text keep their own order instead of being reordered by the bidi algorithm.
const FSI = "\u2068";
const PDI = "\u2069";

/** Fills the placeholders; `rtl` wraps each value in directional isolates. */
function fill(template: string, vars: TemplateVars, rtl = false): string {
  const v = (s: string) => (rtl ? FSI + s + PDI : s);
  return template
    .replaceAll("{code}", v(vars.code))
    .replaceAll("{friendlyName}", v(vars.friendlyName))
    .replaceAll("{ttlMinutes}", v(String(vars.ttlMinutes)));
}
