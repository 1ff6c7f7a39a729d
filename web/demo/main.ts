import "./demo.css";
import { describeSocketError, gql, liveClient, readConfig, waitFor, type GqlError } from "../shared/api";

/**
 * The demo sign-up page: start a verification with the user's consent, follow its status live over a
 * graphql-ws subscription, check the code. `#status[data-status]` always mirrors the verification's
 * status (PENDING, APPROVED, …): the tests and assistive technology read the same element.
 */
interface Config {
  serviceId: string;
  clientKey: string;
  consentVersion: string;
  outbox: boolean;
}
interface Verification {
  id: string;
  to: string;
  status: string;
}
interface VerificationEvent {
  type: string;
  status: string | null;
  deliveryStatus: string | null;
}

const cfg = readConfig<Config>();
const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const startForm = $<HTMLFormElement>("#start-form");
const checkForm = $<HTMLFormElement>("#check-form");
const country = $<HTMLSelectElement>("#country");
const phone = $<HTMLInputElement>("#phone");
const consent = $<HTMLInputElement>("#consent");
const code = $<HTMLInputElement>("#code");
const sendButton = $<HTMLButtonElement>('button[name="send"]');
const verifyButton = $<HTMLButtonElement>('button[name="verify"]');
const status = $<HTMLElement>("#status");
const statusText = $<HTMLElement>("#status-text");
const error = $<HTMLElement>("#error");
const outbox = document.querySelector<HTMLElement>("#outbox");

const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { id to status } }`;
const CHECK = `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { id status valid } }`;
const WATCH = `subscription($id: ID!) { verificationUpdated(verificationId: $id) { type status deliveryStatus } }`;

let current: Verification | null = null;
let agreedAt: Date | null = null;
let stopWatching: (() => void) | null = null;
const client = liveClient({ authorization: `Bearer ${cfg.clientKey}` });

// The browser's region picks the country, when it is one we list.
const region = new Intl.Locale(navigator.language || "en-US").maximize().region;
country.value = region && country.querySelector(`option[value="${region}"]`) ? region : "US";

consent.addEventListener("change", () => {
  agreedAt = consent.checked ? new Date() : null;
});

const STATUS_TEXT: Record<string, (to: string) => string> = {
  PENDING: (to) => `Enter the code we sent to ${to}.`,
  APPROVED: () => "Your number is verified. Welcome!",
  MAX_ATTEMPTS_REACHED: () => "Too many wrong codes. Select “Send code” to get a new one.",
  EXPIRED: () => "The code expired. Select “Send code” to get a new one.",
  CANCELED: () => "This verification was canceled. Select “Send code” to start again.",
  FAILED: () => "We could not deliver a code to this number. Check it, or try another one.",
};

function setStatus(value: string): void {
  status.dataset.status = value;
  statusText.textContent = STATUS_TEXT[value]?.(current?.to ?? "your number") ?? value;
  mark("sent", true);
  if (value === "APPROVED") {
    mark("delivered", true);
    mark("verified", true);
    verifyButton.disabled = true;
    code.disabled = true;
  }
}

function mark(step: "sent" | "delivered" | "verified", done: boolean): void {
  status.querySelector(`[data-step="${step}"]`)?.classList.toggle("done", done);
}

function showError(message: string, focus?: HTMLElement): void {
  error.textContent = message;
  focus?.focus();
}

/** The sentence a person reads for an API error: what happened and what to do, with the wait when there is one. */
function describe(e: GqlError): string {
  const x = e.extensions ?? {};
  const wait = x.retryAfterSeconds != null ? waitFor(x.retryAfterSeconds) : null;
  switch (x.code) {
    case "RATE_LIMITED":
      return `Too many attempts, try again in ${wait ?? "a few minutes"}.`;
    case "SPEND_LIMIT_REACHED":
      return `Sign-ups are paused for now, try again in ${wait ?? "a few hours"}.`;
    case "SERVICE_UNAVAILABLE":
      return `The service is busy, try again in ${wait ?? "a moment"}.`;
    case "CONSENT_REQUIRED":
      return "Please agree to receive the code by SMS: tick the box above “Send code”.";
    case "INVALID_PARAMETER":
      if (x.detail?.field === "to") return "That number does not look right for the selected country. Check it, or type it in full with a leading +.";
      if (x.detail?.field === "code") return "Enter the code from the SMS: digits only.";
      return e.message;
    case "SMS_TO_LANDLINE":
      return "This looks like a landline: enter a mobile number.";
    case "GEO_BLOCKED":
      return "We cannot send codes to numbers in this country.";
    case "PREFIX_BLOCKED":
      return "We cannot send a code to this number. Try another one.";
    case "MAX_SEND_ATTEMPTS_REACHED":
      return "We have sent this number too many codes. Use the last one, or try again in 10 minutes.";
    case "MAX_CHECK_ATTEMPTS_REACHED":
      return "Too many wrong codes. Select “Send code” to get a new one.";
    case "NOT_FOUND":
      return "This code has expired or was already used. Select “Send code” to get a new one.";
    case "NETWORK":
      return e.message;
    default:
      return "Something went wrong. Please try again.";
  }
}

function watch(v: Verification): void {
  stopWatching?.();
  stopWatching = client.subscribe<{ verificationUpdated: VerificationEvent }>(
    { query: WATCH, variables: { id: v.id } },
    {
      next: ({ data, errors }) => {
        if (errors?.length) return showError(describe(errors[0] as GqlError));
        const e = data?.verificationUpdated;
        if (!e || current?.id !== v.id) return;
        if (e.status) setStatus(e.status);
        if (e.type === "DELIVERY_STATUS" && e.deliveryStatus === "delivered") mark("delivered", true);
        if (e.type === "DELIVERY_STATUS" && (e.deliveryStatus === "undelivered" || e.deliveryStatus === "failed")) showError("The SMS could not be delivered. Check the number and send the code again.");
        if (cfg.outbox && ["SUBSCRIBED", "RESENT", "DELIVERY_STATUS"].includes(e.type)) void showOutbox(v.id);
      },
      error: (e) => showError(describeSocketError(e)),
      complete: () => undefined,
    },
  );
}

/** Development only: the message the outbox kept for this verification. */
async function showOutbox(id: string): Promise<void> {
  if (!outbox) return;
  const r = await fetch(`/demo/outbox/${encodeURIComponent(id)}`).catch(() => null);
  if (!r?.ok || current?.id !== id) return;
  const { message } = (await r.json()) as { message: string | null };
  if (!message) return;
  outbox.hidden = false;
  outbox.querySelector("pre")!.textContent = message;
}

startForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError("");
  if (!phone.value.trim()) return showError("Enter your mobile number.", phone);
  if (!consent.checked || !agreedAt) return showError("Please agree to receive the code by SMS: tick the box above “Send code”.", consent);
  sendButton.disabled = true;
  const r = await gql<{ startVerification: Verification }>(
    START,
    {
      input: {
        serviceId: cfg.serviceId,
        to: phone.value.trim(),
        country: country.value,
        channel: "SMS",
        consent: { textVersion: cfg.consentVersion, agreedAt: agreedAt.toISOString(), userAgent: navigator.userAgent },
      },
    },
    cfg.clientKey,
  );
  sendButton.disabled = false;
  const v = r.data?.startVerification;
  if (!v) return showError(describe(r.errors?.[0] ?? { message: "" }), phone);
  const fresh = current?.id !== v.id;
  current = v;
  if (fresh) {
    for (const s of ["sent", "delivered", "verified"] as const) mark(s, false);
    code.disabled = false;
    verifyButton.disabled = false;
    code.value = "";
    watch(v);
  }
  setStatus(v.status);
  checkForm.hidden = false;
  code.focus();
});

checkForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError("");
  if (!current) return;
  if (!/^\d{4,10}$/.test(code.value.trim())) return showError("Enter the code from the SMS: digits only.", code);
  verifyButton.disabled = true;
  const r = await gql<{ checkVerification: { status: string; valid: boolean } }>(
    CHECK,
    { input: { serviceId: cfg.serviceId, verificationId: current.id, code: code.value.trim() } },
    cfg.clientKey,
  );
  verifyButton.disabled = false;
  const c = r.data?.checkVerification;
  if (!c) return showError(describe(r.errors?.[0] ?? { message: "" }), code);
  setStatus(c.status);
  if (!c.valid && c.status === "PENDING") {
    code.select();
    showError("That code is not right. Check the SMS and try again.", code);
  } else if (c.status === "MAX_ATTEMPTS_REACHED") {
    showError("Too many wrong codes. Select “Send code” to get a new one.", sendButton);
  }
});
