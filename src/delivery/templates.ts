/**
 * Message text. Best practice for OTP texts (and Twilio Verify's own templates): name the service,
 * put the code early, say how long it lasts, and warn never to share it.
 */
export interface TemplateVars {
  code: string;
  friendlyName: string;
  ttlMinutes: number;
}

const SMS: Record<string, string> = {
  en: "Your {friendlyName} verification code is: {code}. It expires in {ttlMinutes} minutes. Do not share this code with anyone.",
};

/** Renders a service's own template, or the built-in one for the locale (falling back to English). */
export function renderSms(vars: TemplateVars, locale: string | null, custom?: string | null): string {
  const template = custom ?? SMS[baseLocale(locale)] ?? SMS.en!;
  return fill(template, vars);
}

export function fill(template: string, vars: TemplateVars): string {
  return template
    .replaceAll("{code}", vars.code)
    .replaceAll("{friendlyName}", vars.friendlyName)
    .replaceAll("{ttlMinutes}", String(vars.ttlMinutes));
}

export function baseLocale(locale: string | null | undefined): string {
  return (locale ?? "en").toLowerCase().split(/[-_]/)[0] || "en";
}
