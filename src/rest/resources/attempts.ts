import type { Router } from "express";
import { requireAdmin } from "../../auth/keys.js";
import { MAX_PAGE_SIZE as LOG_PAGE_SIZE } from "../../stats/decision-log.js";
import type { Channel } from "../../store/types.js";
import { queryOf, restCall } from "../context.js";
import { invalidParam } from "../errors.js";
import { listJson, pageQuery, PAGING_PARAMS } from "../paging.js";
import { readParams } from "../params.js";
import { attemptJson, summaryJson } from "../views.js";

/**
 * `/v2/Attempts` and `/v2/Attempts/Summary` (admin keys only, as GraphQL's verificationAttempts): the
 * decision log's sends (allowed starts, each one delivery attempt with its VL… SID) and the same
 * conversion summary GraphQL answers, from the same rows and roll-ups.
 */

/** Twilio's channels; verify-guard only sends SMS and calls, so the others simply match nothing. */
const CHANNELS = ["sms", "call", "email", "whatsapp", "rbm"] as const;

const FILTERS = {
  DateCreatedAfter: "string",
  DateCreatedBefore: "string",
  Country: "string",
  Channel: CHANNELS,
} as const;

const LIST = { ...PAGING_PARAMS, ...FILTERS, "ChannelData.To": "string", VerifyServiceSid: "string", VerificationSid: "string", Status: ["converted", "unconverted"] } as const;

const SUMMARY = { ...FILTERS, VerifyServiceSid: "string", DestinationPrefix: "string" } as const;

/** An ISO 8601 time parameter, as milliseconds. */
function time(param: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\d/.test(value) || Number.isNaN(ms)) throw invalidParam(param, "must be an ISO 8601 time such as 2026-01-31T00:00:00Z");
  return ms;
}

function channel(value: (typeof CHANNELS)[number] | undefined): Channel | undefined {
  return value === undefined ? undefined : (value.toUpperCase() as Channel);
}

export function mountAttempts(r: Router): void {
  r.get("/Attempts/Summary", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(queryOf(req), SUMMARY);
    const summary = await c.app.stats.summary({
      serviceId: p.VerifyServiceSid ?? null,
      from: time("DateCreatedAfter", p.DateCreatedAfter) ?? null,
      until: time("DateCreatedBefore", p.DateCreatedBefore) ?? null,
      country: p.Country ?? null,
      channel: channel(p.Channel) ?? null,
      destinationPrefix: p.DestinationPrefix ?? null,
    });
    res.json(summaryJson(summary, c.view));
  });

  r.get("/Attempts", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(queryOf(req), LIST);
    const q = pageQuery(p);
    // The log pages by keyset (PageToken, from next_page_url), never by offset: page 1,000 costs what page 1 does.
    if (q.page > 0 && !q.pageToken) throw invalidParam("Page", "attempts page by PageToken: follow next_page_url");
    const pageSize = Math.min(q.pageSize, LOG_PAGE_SIZE);
    const filters = Object.fromEntries(Object.entries(p).filter(([k, v]) => v !== undefined && !(k in PAGING_PARAMS)).map(([k, v]) => [k, String(v)]));
    const page = await c.app.decisionLog.page(
      {
        kind: "START",
        outcome: "ALLOWED",
        serviceId: p.VerifyServiceSid,
        verificationId: p.VerificationSid,
        to: p["ChannelData.To"],
        country: p.Country,
        channel: channel(p.Channel),
        converted: p.Status === undefined ? undefined : p.Status === "converted",
        from: time("DateCreatedAfter", p.DateCreatedAfter),
        until: time("DateCreatedBefore", p.DateCreatedBefore),
      },
      pageSize,
      q.pageToken,
    );
    res.json(
      listJson(
        "attempts",
        page.edges.map((e) => attemptJson(e.node, c.view)),
        { url: `${c.view.base}/v2/Attempts`, filters, q, pageSize, next: page.hasNextPage && page.endCursor ? { token: page.endCursor } : null },
      ),
    );
  });

  r.get("/Attempts/:sid", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    readParams(queryOf(req), {});
    res.json(attemptJson(await c.app.decisionLog.attempt(req.params.sid!), c.view));
  });
}
