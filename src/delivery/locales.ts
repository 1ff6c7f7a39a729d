import type VoiceResponse from "twilio/lib/twiml/VoiceResponse.js";

type SayVoice = NonNullable<VoiceResponse.SayAttributes["voice"]>;
type SayLanguage = NonNullable<VoiceResponse.SayAttributes["language"]>;

/**
 * Built-in message text per language. Every text names the service, puts the code early, says how
 * long it lasts and warns never to share it (Twilio Verify's own templates do the same; the warning
 * is what stops most "read me the code you just got" scams).
 * Placeholders: {code}, {friendlyName}, {ttlMinutes}.
 */
export interface LocaleText {
  /** The whole SMS, warning included. */
  sms: string;
  /** The warning alone: appended to a service's own template that does not place it with {warning}. */
  warning: string;
  /** Spoken before the digits on a call. */
  voiceIntro: string;
  /** Spoken before each repetition of the digits. */
  voiceRepeat: string;
  /** Between spoken digits: a short pause that makes text-to-speech read digits one by one. */
  digitSeparator: string;
  /** Right-to-left script: substituted values are wrapped in Unicode isolates so they keep their order. */
  rtl?: boolean;
  /** Polly voice and language for <Say>, per region where it differs (key "" = the language's default). */
  voices: Record<string, { voice: SayVoice; language: SayLanguage }>;
}

export const LOCALES: Record<string, LocaleText> = {
  en: {
    sms: "Your {friendlyName} verification code is: {code}. It expires in {ttlMinutes} minutes. Do not share this code with anyone.",
    warning: "Do not share this code with anyone.",
    voiceIntro: "Your {friendlyName} verification code is:",
    voiceRepeat: "Again, your code is:",
    digitSeparator: ", ",
    voices: {
      "": { voice: "Polly.Joanna", language: "en-US" },
      gb: { voice: "Polly.Amy", language: "en-GB" },
      au: { voice: "Polly.Nicole", language: "en-AU" },
      in: { voice: "Polly.Raveena", language: "en-IN" },
    },
  },
  es: {
    sms: "Tu código de verificación de {friendlyName} es: {code}. Caduca en {ttlMinutes} minutos. No compartas este código con nadie.",
    warning: "No compartas este código con nadie.",
    voiceIntro: "Tu código de verificación de {friendlyName} es:",
    voiceRepeat: "Repito, tu código es:",
    digitSeparator: ", ",
    voices: {
      "": { voice: "Polly.Lucia", language: "es-ES" },
      mx: { voice: "Polly.Mia", language: "es-MX" },
      us: { voice: "Polly.Lupe", language: "es-US" },
    },
  },
  fr: {
    sms: "Votre code de vérification {friendlyName} est : {code}. Il expire dans {ttlMinutes} minutes. Ne partagez ce code avec personne.",
    warning: "Ne partagez ce code avec personne.",
    voiceIntro: "Votre code de vérification {friendlyName} est :",
    voiceRepeat: "Je répète, votre code est :",
    digitSeparator: ", ",
    voices: {
      "": { voice: "Polly.Celine", language: "fr-FR" },
      ca: { voice: "Polly.Chantal", language: "fr-CA" },
    },
  },
  de: {
    sms: "Ihr {friendlyName}-Bestätigungscode lautet: {code}. Er läuft in {ttlMinutes} Minuten ab. Geben Sie diesen Code an niemanden weiter.",
    warning: "Geben Sie diesen Code an niemanden weiter.",
    voiceIntro: "Ihr {friendlyName}-Bestätigungscode lautet:",
    voiceRepeat: "Noch einmal, Ihr Code lautet:",
    digitSeparator: ", ",
    voices: { "": { voice: "Polly.Marlene", language: "de-DE" } },
  },
  pt: {
    sms: "Seu código de verificação {friendlyName} é: {code}. Ele expira em {ttlMinutes} minutos. Não compartilhe este código com ninguém.",
    warning: "Não compartilhe este código com ninguém.",
    voiceIntro: "Seu código de verificação {friendlyName} é:",
    voiceRepeat: "Repetindo, seu código é:",
    digitSeparator: ", ",
    voices: {
      "": { voice: "Polly.Camila", language: "pt-BR" },
      pt: { voice: "Polly.Ines", language: "pt-PT" },
    },
  },
  ar: {
    sms: "رمز التحقق الخاص بك لدى {friendlyName} هو: {code}. تنتهي صلاحيته خلال {ttlMinutes} دقيقة. لا تشارك هذا الرمز مع أي شخص.",
    warning: "لا تشارك هذا الرمز مع أي شخص.",
    voiceIntro: "رمز التحقق الخاص بك لدى {friendlyName} هو:",
    voiceRepeat: "أكرر، رمزك هو:",
    digitSeparator: "، ",
    rtl: true,
    voices: { "": { voice: "Polly.Zeina", language: "arb" } },
  },
  ja: {
    sms: "{friendlyName}の認証コードは{code}です。有効期限は{ttlMinutes}分です。このコードは誰にも教えないでください。",
    warning: "このコードは誰にも教えないでください。",
    voiceIntro: "{friendlyName}の認証コードは",
    voiceRepeat: "もう一度言います。コードは",
    digitSeparator: "、",
    voices: { "": { voice: "Polly.Mizuki", language: "ja-JP" } },
  },
  zh: {
    sms: "您的{friendlyName}验证码是：{code}。{ttlMinutes}分钟内有效。请勿将此验证码告诉任何人。",
    warning: "请勿将此验证码告诉任何人。",
    voiceIntro: "您的{friendlyName}验证码是：",
    voiceRepeat: "再说一遍，您的验证码是：",
    digitSeparator: "，",
    voices: { "": { voice: "Polly.Zhiyu", language: "cmn-CN" } },
  },
};

/** The language every lookup falls back to. */
export const DEFAULT_LANGUAGE = "en";
