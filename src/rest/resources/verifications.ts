import type { Router } from "express";
import { requireAdmin, requireServiceAccess } from "../../auth/keys.js";
import type { VerificationRow } from "../../store/types.js";
import type { VerificationRef } from "../../verification/lifecycle.js";
import { formOf, queryOf, restCall, type RestCall } from "../context.js";
import { invalidParam } from "../errors.js";
import { readParams, stringMap } from "../params.js";
import { verificationCheckJson, verificationJson } from "../views.js";

/**
 * `/v2/Services/{ServiceSid}/Verifications` and `/VerificationCheck`: the same lifecycle and risk
 * pipeline as GraphQL's startVerification / checkVerification (the same limits, decision rows and
 * events), with Twilio's parameters. Admin keys, or a client key of that service; cancelling and
 * approving by hand are admin-only, as in GraphQL.
 */

/** Channels verify-guard delivers. Twilio's others (whatsapp, email, sna, …) get a 60200 naming `Channel`. */
const CHANNELS = { sms: "SMS", call: "CALL" } as const;

const START = {
  To: "string",
  Channel: "string",
  Locale: "string",
  CustomCode: "string",
  CustomFriendlyName: "string",
  Amount: "string",
  Payee: "string",
  RateLimits: "json",
  RiskCheck: ["enable", "disable"],
  Tags: "json",
  DeviceIp: "string",
  // verify-guard's consent evidence (Twilio has no such parameters): see docs/api.md.
  ConsentTextVersion: "string",
  ConsentAgreedAt: "string",
  ConsentUserAgent: "string",
} as const;

const START_UNSUPPORTED = ["CustomMessage", "SendDigits", "ChannelConfiguration", "AppHash", "TemplateSid", "TemplateCustomSubstitutions", "Templates", "EnableSnaClientToken"];

const CHECK = { Code: "string", To: "string", VerificationSid: "string", Amount: "string", Payee: "string" } as const;

const UPDATE = { Status: ["canceled", "approved"] } as const;

/** The consent evidence of a start: none, or a notice version and an agreement time (ISO 8601) together. */
function consentOf(p: { ConsentTextVersion?: string; ConsentAgreedAt?: string; ConsentUserAgent?: string }) {
  if (p.ConsentTextVersion === undefined && p.ConsentAgreedAt === undefined && p.ConsentUserAgent === undefined) return null;
  if (p.ConsentTextVersion === undefined) throw invalidParam("ConsentTextVersion", "required with ConsentAgreedAt or ConsentUserAgent");
  if (p.ConsentAgreedAt === undefined) throw invalidParam("ConsentAgreedAt", "required with ConsentTextVersion");
  const agreedAt = Date.parse(p.ConsentAgreedAt);
  if (!/^\d{4}-\d\d-\d\dT/.test(p.ConsentAgreedAt) || Number.isNaN(agreedAt)) throw invalidParam("ConsentAgreedAt", "must be an ISO 8601 date-time such as 2026-05-01T12:00:00Z");
  return { textVersion: p.ConsentTextVersion, agreedAt, userAgent: p.ConsentUserAgent ?? null };
}

/** A path's `{Sid}`: Twilio lets the number (`To`) stand in for the VE… SID. */
function refOf(sid: string): VerificationRef {
  return sid.startsWith("VE") ? { id: sid } : { to: sid };
}

async function view(c: RestCall, v: VerificationRow): Promise<Record<string, unknown>> {
  const [attempts, service] = await Promise.all([c.app.lifecycle.sendAttempts(v.id), c.app.services.get(v.serviceId)]);
  return verificationJson(v, attempts, service, c.view);
}

export function mountVerifications(r: Router): void {
  r.post("/Services/:serviceSid/Verifications", async (req, res) => {
    const c = restCall(res);
    const serviceId = req.params.serviceSid!;
    const caller = requireServiceAccess(c.caller, serviceId);
    const p = readParams(formOf(req), START, { required: ["To", "Channel"], unsupported: START_UNSUPPORTED });
    const channel = CHANNELS[p.Channel!.toLowerCase() as keyof typeof CHANNELS];
    if (!channel) throw invalidParam("Channel", `${JSON.stringify(p.Channel!.slice(0, 32))} is not supported by verify-guard: use sms or call`);
    const v = await c.app.lifecycle.start(
      {
        serviceId,
        to: p.To!,
        channel,
        locale: p.Locale,
        customCode: p.CustomCode,
        customFriendlyName: p.CustomFriendlyName,
        amount: p.Amount,
        payee: p.Payee,
        riskCheck: p.RiskCheck !== "disable",
        tags: stringMap("Tags", p.Tags),
        rateLimitValues: stringMap("RateLimits", p.RateLimits),
        deviceIp: p.DeviceIp,
        consent: consentOf(p),
      },
      { caller, ip: c.ip },
    );
    res.status(201).json(await view(c, v));
  });

  r.get("/Services/:serviceSid/Verifications/:sid", async (req, res) => {
    const c = restCall(res);
    const serviceId = req.params.serviceSid!;
    requireServiceAccess(c.caller, serviceId);
    readParams(queryOf(req), {});
    res.json(await view(c, await c.app.lifecycle.find(serviceId, refOf(req.params.sid!))));
  });

  r.post("/Services/:serviceSid/Verifications/:sid", async (req, res) => {
    const c = restCall(res);
    const serviceId = req.params.serviceSid!;
    requireServiceAccess(c.caller, serviceId);
    const p = readParams(formOf(req), UPDATE, { required: ["Status"] });
    // Publishable client keys start, check and read; ending a verification is a backend's call.
    requireAdmin(c.caller);
    const ref = refOf(req.params.sid!);
    const v = p.Status === "approved" ? await c.app.lifecycle.approve(serviceId, ref) : await c.app.lifecycle.cancel(serviceId, ref);
    res.json(await view(c, v));
  });

  r.post("/Services/:serviceSid/VerificationCheck", async (req, res) => {
    const c = restCall(res);
    const serviceId = req.params.serviceSid!;
    const caller = requireServiceAccess(c.caller, serviceId);
    const p = readParams(formOf(req), CHECK, { required: ["Code"], unsupported: ["SnaClientToken"] });
    const { verification, valid, approvalToken } = await c.app.lifecycle.check(
      { serviceId, to: p.To, verificationId: p.VerificationSid, code: p.Code!, amount: p.Amount, payee: p.Payee },
      { caller, ip: c.ip },
    );
    res.status(201).json(verificationCheckJson(verification, valid, approvalToken, c.view));
  });
}
