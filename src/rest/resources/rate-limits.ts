import type { Router } from "express";
import { requireAdmin } from "../../auth/keys.js";
import { formOf, queryOf, restCall } from "../context.js";
import { listJson, pageQuery, PAGING_PARAMS, slicePage } from "../paging.js";
import { readParams } from "../params.js";
import { bucketJson, rateLimitJson } from "../views.js";

/**
 * `/v2/Services/{ServiceSid}/RateLimits` and `…/RateLimits/{Sid}/Buckets` (admin keys only): the
 * service's named rate limits, one by one, over the same settings GraphQL's setRateLimits replaces
 * and the limits stage enforces for starts that pass `RateLimits`.
 */
export function mountRateLimits(r: Router): void {
  const base = "/Services/:serviceSid/RateLimits";

  r.post(base, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(formOf(req), { UniqueName: "string", Description: "string" }, { required: ["UniqueName"] });
    const limit = await c.app.limits.rateLimits.create(req.params.serviceSid!, { uniqueName: p.UniqueName!, description: p.Description });
    res.status(201).json(rateLimitJson(limit, c.view));
  });

  r.get(base, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const q = pageQuery(readParams(queryOf(req), PAGING_PARAMS));
    const serviceId = req.params.serviceSid!;
    const { items, hasNext } = slicePage(await c.app.limits.rateLimits.list(serviceId), q);
    res.json(listJson("rate_limits", items.map((l) => rateLimitJson(l, c.view)), { url: `${c.view.base}/v2/Services/${serviceId}/RateLimits`, q, next: hasNext ? {} : null }));
  });

  r.get(`${base}/:sid`, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    readParams(queryOf(req), {});
    res.json(rateLimitJson(await c.app.limits.rateLimits.get(req.params.serviceSid!, req.params.sid!), c.view));
  });

  r.post(`${base}/:sid`, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(formOf(req), { Description: "string" });
    res.json(rateLimitJson(await c.app.limits.rateLimits.update(req.params.serviceSid!, req.params.sid!, { description: p.Description }), c.view));
  });

  r.delete(`${base}/:sid`, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    await c.app.limits.rateLimits.delete(req.params.serviceSid!, req.params.sid!);
    res.status(204).end();
  });

  const buckets = `${base}/:rateLimitSid/Buckets`;
  const BUCKET = { Max: "integer", Interval: "integer" } as const;

  r.post(buckets, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(formOf(req), BUCKET, { required: ["Max", "Interval"] });
    const bucket = await c.app.limits.rateLimits.addBucket(req.params.serviceSid!, req.params.rateLimitSid!, { max: p.Max!, intervalSeconds: p.Interval! });
    res.status(201).json(bucketJson(bucket, c.view));
  });

  r.get(buckets, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const q = pageQuery(readParams(queryOf(req), PAGING_PARAMS));
    const limit = await c.app.limits.rateLimits.get(req.params.serviceSid!, req.params.rateLimitSid!);
    const { items, hasNext } = slicePage(limit.buckets, q);
    res.json(listJson("buckets", items.map((b) => bucketJson(b, c.view)), { url: `${c.view.base}/v2/Services/${limit.serviceId}/RateLimits/${limit.sid}/Buckets`, q, next: hasNext ? {} : null }));
  });

  r.get(`${buckets}/:sid`, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    readParams(queryOf(req), {});
    res.json(bucketJson(await c.app.limits.rateLimits.getBucket(req.params.serviceSid!, req.params.rateLimitSid!, req.params.sid!), c.view));
  });

  r.post(`${buckets}/:sid`, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(formOf(req), BUCKET);
    const bucket = await c.app.limits.rateLimits.updateBucket(req.params.serviceSid!, req.params.rateLimitSid!, req.params.sid!, { max: p.Max, intervalSeconds: p.Interval });
    res.json(bucketJson(bucket, c.view));
  });

  r.delete(`${buckets}/:sid`, async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    await c.app.limits.rateLimits.deleteBucket(req.params.serviceSid!, req.params.rateLimitSid!, req.params.sid!);
    res.status(204).end();
  });
}
