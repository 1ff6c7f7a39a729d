import type { Request, Response, Router } from "express";
import { requireAdmin, type ApiKeys } from "../auth/keys.js";
import { AppError, invalidParameter, isAppError } from "../errors.js";
import type { ConsentRecordRow } from "../store/consent.js";
import type { ConsentQuery, ConsentRecords } from "../verification/consent.js";

/**
 * GET /admin/consent-records.csv and .json (admin key as `Authorization: Bearer …`): every consent
 * record of a number, a service and/or a time range (`to`, `serviceId`, `from`, `until`, ISO 8601), oldest
 * first, streamed a page at a time. What an operator hands over when asked for evidence of opt-in.
 */
export function mountConsentExport(router: Router, deps: { apiKeys: ApiKeys; consent: ConsentRecords }): void {
  router.get("/admin/consent-records.:format", async (req, res, next) => {
    const format = req.params.format;
    if (format !== "csv" && format !== "json") return next();
    let rows: AsyncGenerator<ConsentRecordRow>;
    let first: IteratorResult<ConsentRecordRow>;
    try {
      requireAdmin(await deps.apiKeys.authenticate(req.headers.authorization));
      rows = deps.consent.all(queryOf(req));
      first = await rows.next(); // input errors surface here, before any byte is sent
    } catch (err) {
      if (isAppError(err)) return sendError(res, err);
      return next(err);
    }
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Content-Disposition", `attachment; filename="consent-records.${format}"`);
    res.type(format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8");
    try {
      if (format === "csv") res.write(CSV_HEADER + "\r\n");
      else res.write("[");
      let n = 0;
      for (let r = first; !r.done; r = await rows.next()) {
        res.write(format === "csv" ? csvLine(r.value) + "\r\n" : (n++ ? ",\n" : "\n") + JSON.stringify(jsonOf(r.value)));
      }
      res.end(format === "csv" ? "" : "\n]\n");
    } catch (err) {
      // Headers are gone: cut the download short rather than end it as if it were complete.
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

function queryOf(req: Request): ConsentQuery {
  const str = (name: string): string | null => {
    const v = req.query[name];
    if (v === undefined) return null;
    if (typeof v !== "string") throw invalidParameter(name, "give it once");
    return v;
  };
  const time = (name: string): number | null => {
    const v = str(name);
    if (v === null) return null;
    const t = Date.parse(v);
    if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t)) throw invalidParameter(name, "must be an ISO 8601 date-time such as 2026-05-01T00:00:00Z");
    return t;
  };
  return { to: str("to"), serviceId: str("serviceId"), from: time("from"), until: time("until") };
}

function sendError(res: Response, err: AppError): void {
  const status = err.code === "UNAUTHENTICATED" ? 401 : err.code === "FORBIDDEN" ? 403 : 400;
  res.status(status).json({ errors: [{ message: err.message, extensions: { code: err.code, errorCode: err.errorCode, ...(err.detail ? { detail: err.detail } : {}) } }] });
}

function jsonOf(r: ConsentRecordRow) {
  return {
    id: r.id,
    serviceId: r.serviceId,
    verificationId: r.verificationId,
    to: r.to,
    textVersion: r.textVersion,
    agreedAt: new Date(r.agreedAt).toISOString(),
    userAgent: r.userAgent,
    ip: r.ip,
    recordedAt: new Date(r.createdAt).toISOString(),
  };
}

const CSV_HEADER = "id,service_id,verification_id,to,text_version,agreed_at,user_agent,ip,recorded_at";

function csvLine(r: ConsentRecordRow): string {
  const j = jsonOf(r);
  return [j.id, j.serviceId, j.verificationId, j.to, csvText(j.textVersion), j.agreedAt, csvText(j.userAgent), j.ip, j.recordedAt].map(csvField).join(",");
}

/** RFC 4180 quoting. */
function csvField(v: string | null): string {
  if (v === null) return "";
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Free text a user controls must not start a spreadsheet formula (OWASP "CSV injection"). */
function csvText(v: string | null): string | null {
  return v !== null && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}
