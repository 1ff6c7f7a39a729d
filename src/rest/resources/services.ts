import type { Router } from "express";
import { requireAdmin } from "../../auth/keys.js";
import { AppError } from "../../errors.js";
import type { ServiceSettings } from "../../verification/services.js";
import { formOf, queryOf, restCall } from "../context.js";
import { listJson, pageQuery, PAGING_PARAMS, slicePage } from "../paging.js";
import { readParams, type Params } from "../params.js";
import { serviceJson } from "../views.js";

/**
 * `/v2/Services`: create, list, fetch, update, delete (admin keys only, as in GraphQL: a service's
 * settings are a backend's business). Twilio's settings plus verify-guard's own (TtlSeconds, the
 * attempt caps, the channels and the SMS template), which Twilio's SDK can send with `client.request`.
 */

const SETTINGS = {
  FriendlyName: "string",
  CodeLength: "integer",
  LookupEnabled: "boolean",
  SkipSmsToLandlines: "boolean",
  Psd2Enabled: "boolean",
  DoNotShareWarningEnabled: "boolean",
  CustomCodeEnabled: "boolean",
  TtlSeconds: "integer",
  MaxCheckAttempts: "integer",
  MaxSendAttempts: "integer",
  SmsEnabled: "boolean",
  CallEnabled: "boolean",
  SmsTemplate: "string",
  RequireConsent: "boolean",
} as const;

/** Twilio's service settings for features verify-guard does not have (Push, TOTP, WhatsApp, passkeys, …). */
const UNSUPPORTED = [
  "DtmfInputRequired",
  "TtsName",
  "Push.IncludeDate",
  "Push.ApnCredentialSid",
  "Push.FcmCredentialSid",
  "Totp.Issuer",
  "Totp.TimeStep",
  "Totp.CodeLength",
  "Totp.Skew",
  "DefaultTemplateSid",
  "Whatsapp.MsgServiceSid",
  "Whatsapp.From",
  "Passkeys.RelyingParty.Id",
  "Passkeys.RelyingParty.Name",
  "Passkeys.RelyingParty.Origins",
  "Passkeys.AuthenticatorAttachment",
  "Passkeys.DiscoverableCredentials",
  "Passkeys.UserVerification",
  "VerifyEventSubscriptionEnabled",
];

function settings(p: Params<typeof SETTINGS>): ServiceSettings {
  return {
    friendlyName: p.FriendlyName,
    codeLength: p.CodeLength,
    lookupEnabled: p.LookupEnabled,
    skipSmsToLandlines: p.SkipSmsToLandlines,
    psd2Enabled: p.Psd2Enabled,
    doNotShareWarningEnabled: p.DoNotShareWarningEnabled,
    customCodeEnabled: p.CustomCodeEnabled,
    ttlSeconds: p.TtlSeconds,
    maxCheckAttempts: p.MaxCheckAttempts,
    maxSendAttempts: p.MaxSendAttempts,
    smsEnabled: p.SmsEnabled,
    callEnabled: p.CallEnabled,
    smsTemplate: p.SmsTemplate,
    requireConsent: p.RequireConsent,
  };
}

export function mountServices(r: Router): void {
  r.post("/Services", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(formOf(req), SETTINGS, { required: ["FriendlyName"], unsupported: UNSUPPORTED });
    const row = await c.app.services.create({ ...settings(p), friendlyName: p.FriendlyName! });
    res.status(201).json(serviceJson(row, c.view));
  });

  r.get("/Services", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const q = pageQuery(readParams(queryOf(req), PAGING_PARAMS));
    const { items, hasNext } = slicePage(await c.app.services.list(), q);
    res.json(listJson("services", items.map((s) => serviceJson(s, c.view)), { url: `${c.view.base}/v2/Services`, q, next: hasNext ? {} : null }));
  });

  r.get("/Services/:sid", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    readParams(queryOf(req), {});
    res.json(serviceJson(await c.app.services.get(req.params.sid!), c.view));
  });

  r.post("/Services/:sid", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(formOf(req), SETTINGS, { unsupported: UNSUPPORTED });
    res.json(serviceJson(await c.app.services.update(req.params.sid!, settings(p)), c.view));
  });

  r.delete("/Services/:sid", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    if (!(await c.app.services.delete(req.params.sid!))) throw new AppError("NOT_FOUND", "Service not found");
    res.status(204).end();
  });
}
