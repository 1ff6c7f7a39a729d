import { describe, expect, it } from "vitest";
import { LOCALES } from "../src/delivery/locales.js";
import { renderSms, renderVoice, resolveLocale } from "../src/delivery/templates.js";
import { buildVoiceTwiml } from "../src/delivery/twiml.js";

const vars = { code: "407192", friendlyName: "Acme", ttlMinutes: 10 };
const FSI = "\u2068";
const PDI = "\u2069";

describe("message templates", () => {
  it.each([
    ["en", "Your Acme verification code is: 407192. It expires in 10 minutes. Do not share this code with anyone."],
    ["es", "Tu código de verificación de Acme es: 407192. Caduca en 10 minutos. No compartas este código con nadie."],
    ["fr", "Votre code de vérification Acme est : 407192. Il expire dans 10 minutes. Ne partagez ce code avec personne."],
    ["de", "Ihr Acme-Bestätigungscode lautet: 407192. Er läuft in 10 Minuten ab. Geben Sie diesen Code an niemanden weiter."],
    ["pt", "Seu código de verificação Acme é: 407192. Ele expira em 10 minutos. Não compartilhe este código com ninguém."],
    ["ja", "Acmeの認証コードは407192です。有効期限は10分です。このコードは誰にも教えないでください。"],
    ["zh", "您的Acme验证码是：407192。10分钟内有效。请勿将此验证码告诉任何人。"],
  ])("renders the %s SMS with the service, the code, the lifetime and the warning", (locale, expected) => {
    expect(renderSms(vars, locale)).toBe(expected);
  });

  it("renders Arabic right to left, with the service name, code and minutes isolated so they keep their order", () => {
    const sms = renderSms(vars, "ar");
    expect(sms).toBe(`رمز التحقق الخاص بك لدى ${FSI}Acme${PDI} هو: ${FSI}407192${PDI}. تنتهي صلاحيته خلال ${FSI}10${PDI} دقيقة. لا تشارك هذا الرمز مع أي شخص.`);
    expect(/(\d{4,10})/.exec(sms)![1]).toBe("407192");
  });

  it.each([
    ["pt-BR", "pt", "br"],
    ["pt_PT", "pt", "pt"],
    ["es-MX", "es", "mx"],
    ["zh-Hans-CN", "zh", "cn"],
    ["EN-gb", "en", "gb"],
    ["sw-KE", "en", null],
    ["", "en", null],
    [null, "en", null],
  ])("resolves %s to language %s (region %s), falling back to English", (locale, language, region) => {
    expect(resolveLocale(locale)).toMatchObject({ language, region });
  });

  it("falls back from pt-BR to the Portuguese text and from an unknown language to English", () => {
    expect(renderSms(vars, "pt-BR")).toBe(renderSms(vars, "pt"));
    expect(renderSms(vars, "sw")).toBe(renderSms(vars, "en"));
  });

  it("fills a service's own template and appends the warning in the request's language when it has none", () => {
    expect(renderSms(vars, "en", "{friendlyName}: {code} ({ttlMinutes} min)")).toBe("Acme: 407192 (10 min) Do not share this code with anyone.");
    expect(renderSms(vars, "de-AT", "{code} ist Ihr Code")).toBe("407192 ist Ihr Code Geben Sie diesen Code an niemanden weiter.");
  });

  it("puts the warning where a service's template places {warning}, once", () => {
    const sms = renderSms(vars, "es", "{warning} Código {friendlyName}: {code}");
    expect(sms).toBe("No compartas este código con nadie. Código Acme: 407192");
    expect(sms.split("No compartas").length - 1).toBe(1);
  });
});

describe("voice script and TwiML", () => {
  it.each([
    ["en", "Polly.Joanna", "en-US"],
    ["en-GB", "Polly.Amy", "en-GB"],
    ["es", "Polly.Lucia", "es-ES"],
    ["es-MX", "Polly.Mia", "es-MX"],
    ["fr", "Polly.Celine", "fr-FR"],
    ["de", "Polly.Marlene", "de-DE"],
    ["pt-BR", "Polly.Camila", "pt-BR"],
    ["pt-PT", "Polly.Ines", "pt-PT"],
    ["ar", "Polly.Zeina", "arb"],
    ["ja", "Polly.Mizuki", "ja-JP"],
    ["zh-CN", "Polly.Zhiyu", "cmn-CN"],
    ["sw", "Polly.Joanna", "en-US"],
  ])("speaks %s with %s (%s)", (locale, voice, language) => {
    expect(renderVoice(vars, locale)).toMatchObject({ voice, language });
  });

  it("spells the code digit by digit, with the locale's separator", () => {
    expect(renderVoice(vars, "en").digits).toBe("4, 0, 7, 1, 9, 2");
    expect(renderVoice(vars, "ja").digits).toBe("4、0、7、1、9、2");
  });

  it("builds TwiML that says the intro, the digits three times with pauses, then the warning", () => {
    const twiml = buildVoiceTwiml(renderVoice(vars, "de"));
    const attrs = 'voice="Polly.Marlene" language="de-DE"';
    expect(twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1"/>' +
        `<Say ${attrs}>Ihr Acme-Bestätigungscode lautet:</Say>` +
        `<Pause length="1"/><Say ${attrs}>4, 0, 7, 1, 9, 2.</Say><Pause length="2"/>` +
        `<Say ${attrs}>Noch einmal, Ihr Code lautet:</Say><Pause length="1"/><Say ${attrs}>4, 0, 7, 1, 9, 2.</Say><Pause length="2"/>` +
        `<Say ${attrs}>Noch einmal, Ihr Code lautet:</Say><Pause length="1"/><Say ${attrs}>4, 0, 7, 1, 9, 2.</Say><Pause length="2"/>` +
        `<Say ${attrs}>Geben Sie diesen Code an niemanden weiter.</Say></Response>`,
    );
  });

  it("keeps the whole code and the warning in the call's transcript", () => {
    expect(renderVoice(vars, "fr").transcript).toBe("Votre code de vérification Acme est : 407192. Ne partagez ce code avec personne.");
  });

  it.each(Object.keys(LOCALES))("ends the %s SMS before the warning when the service turned it off (doNotShareWarningEnabled: false)", (locale) => {
    const { text } = resolveLocale(locale);
    const withWarning = renderSms(vars, locale);
    const without = renderSms(vars, locale, null, false);
    expect(withWarning.endsWith(text.warning)).toBe(true);
    expect(without).not.toContain(text.warning);
    expect(withWarning.startsWith(without)).toBe(true);
    expect(/(\d{6})/.exec(without)?.[1]).toBe("407192");
  });

  it("leaves {warning} empty in a service's own template when the warning is off", () => {
    expect(renderSms(vars, "en", "{code} is your {friendlyName} code. {warning}", false)).toBe("407192 is your Acme code.");
    expect(renderSms(vars, "en", "{code} is your code", false)).toBe("407192 is your code");
  });
});
