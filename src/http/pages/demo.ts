import type { Router } from "express";
import { getCountries, getCountryCallingCode } from "libphonenumber-js/max";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ApiKeys } from "../../auth/keys.js";
import type { OutboxChannel } from "../../delivery/outbox.js";
import type { Logger } from "../../log.js";
import type { Services } from "../../verification/services.js";
import { escapeHtml, type PageSpec } from "./html.js";

/**
 * The demo sign-up page (/demo, DEMO_PAGE): a self-contained page that verifies a number the way a
 * product's sign-up would, with a publishable CLIENT key of its own "Demo" service. It shows the
 * consent notice the seeds and CTIA ask for and records the consent with the start; the service
 * requires it. On the outbox (no Twilio), a development panel shows the code that was "sent".
 */
export interface DemoSetup {
  serviceId: string;
  /** The Demo service's CLIENT key: publishable, it is in the page. */
  clientKey: string;
}

/** The consent notice, versioned: the version is what each consent record says the user saw. */
export const DEMO_CONSENT = {
  version: "demo-2026-01",
  notice:
    'By checking the box and selecting "Send code", you agree that verify-guard demo sends a one-time verification code by SMS to the number above. One message per request. Message and data rates may apply. See our <a href="#terms">Terms</a> and <a href="#privacy">Privacy Policy</a>.',
};

/**
 * The Demo service and its CLIENT key, created on the first start and remembered in
 * `<dataDir>/demo.json` (the key is stored hashed in the database, so the page's copy lives there).
 * Recreated when the file is gone or no longer matches the database.
 */
export async function ensureDemoService(d: { dataDir: string; services: Services; apiKeys: ApiKeys; log: Logger }): Promise<DemoSetup> {
  const file = join(d.dataDir, "demo.json");
  if (existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, "utf8")) as DemoSetup;
      const caller = await d.apiKeys.authenticate(`Bearer ${saved.clientKey}`);
      const service = await d.services.get(saved.serviceId);
      if (caller?.serviceId === service.id) return saved;
    } catch {
      // Unreadable, or the database was replaced: make a new one below.
    }
  }
  const service = await d.services.create({ friendlyName: "Demo", requireConsent: true });
  const { key } = await d.apiKeys.create("CLIENT", service.id, "demo page");
  const setup: DemoSetup = { serviceId: service.id, clientKey: key };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(setup, null, 2) + "\n", { mode: 0o600 });
  d.log.info("demo: created the Demo service and its client key", { serviceId: service.id });
  return setup;
}

/** Countries for the phone field: name and calling code, by name. */
function countryOptions(): string {
  const names = new Intl.DisplayNames(["en"], { type: "region" });
  return getCountries()
    .map((c) => ({ c, name: names.of(c) ?? c, code: getCountryCallingCode(c) }))
    .sort((a, b) => a.name.localeCompare(b.name, "en"))
    .map((x) => `<option value="${x.c}" data-code="${x.code}">${escapeHtml(x.name)} (+${x.code})</option>`)
    .join("");
}

export function demoPage(setup: DemoSetup, outboxPanel: boolean): PageSpec {
  return {
    page: "demo",
    title: "Sign up: verify your phone (verify-guard demo)",
    config: { serviceId: setup.serviceId, clientKey: setup.clientKey, consentVersion: DEMO_CONSENT.version, outbox: outboxPanel },
    body: `<main>
<h1>Create your account</h1>
<p class="lede">First, confirm your mobile number: we send you a code by SMS.</p>
<form id="start-form" novalidate>
  <div class="field">
    <label for="country">Country</label>
    <select id="country" name="country" autocomplete="country">${countryOptions()}</select>
  </div>
  <div class="field">
    <label for="phone">Mobile number</label>
    <input id="phone" name="phone" type="tel" inputmode="tel" autocomplete="tel-national" required aria-describedby="phone-hint">
    <p class="hint" id="phone-hint">Your number without the country code, or in full with a leading +.</p>
  </div>
  <p class="notice" id="consent-notice">${DEMO_CONSENT.notice}</p>
  <div class="check">
    <input id="consent" name="consent" type="checkbox" required aria-describedby="consent-notice">
    <label for="consent">I agree to receive a verification code by SMS at this number.</label>
  </div>
  <button type="submit" name="send">Send code</button>
</form>
<form id="check-form" novalidate hidden>
  <div class="field">
    <label for="code">Verification code</label>
    <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="10" required>
  </div>
  <button type="submit" name="verify">Verify</button>
  <p class="hint">No code? Select "Send code" again: the same code is sent once more.</p>
</form>
<div class="status" id="status" data-status="" role="status" aria-live="polite">
  <ol class="steps" aria-label="Progress">
    <li data-step="sent">Code sent</li>
    <li data-step="delivered">Delivered</li>
    <li data-step="verified">Verified</li>
  </ol>
  <p id="status-text">Enter your number to begin.</p>
</div>
<p class="error" id="error" role="alert"></p>
${
  outboxPanel
    ? `<aside class="outbox" id="outbox" hidden aria-labelledby="outbox-title">
  <h2 id="outbox-title">Development outbox</h2>
  <p>No SMS provider is configured, so messages stay on this server. This panel exists only in development.</p>
  <pre id="outbox-message"></pre>
</aside>`
    : ""
}
<section id="terms"><h2>Terms</h2><p>This is a demonstration of verify-guard. Your product's terms and conditions go here, or a link to them.</p></section>
<section id="privacy"><h2>Privacy</h2><p>The number is used only to send the code and to protect the service from abuse. The consent you give is recorded (notice version, time, browser, IP address) as evidence. Your product's privacy policy goes here, or a link to it.</p></section>
</main>`,
  };
}

/** GET /demo/outbox/:verificationId: the development panel's message (Demo service, outbox only). */
export function mountDemoOutbox(router: Router, setup: DemoSetup, outbox: OutboxChannel): void {
  router.get("/demo/outbox/:verificationId", (req, res) => {
    const m = outbox.latestFor(req.params.verificationId);
    res.setHeader("Cache-Control", "no-store");
    if (!m || m.serviceId !== setup.serviceId) {
      res.status(404).json({ message: null });
      return;
    }
    res.json({ message: m.body, at: new Date(m.at).toISOString() });
  });
}
