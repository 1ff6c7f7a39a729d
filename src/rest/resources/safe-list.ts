import type { Router } from "express";
import { requireAdmin } from "../../auth/keys.js";
import { AppError } from "../../errors.js";
import { formOf, queryOf, restCall } from "../context.js";
import { readParams } from "../params.js";
import { safeListJson } from "../views.js";

/**
 * `/v2/SafeList/Numbers` (admin keys only): the account-wide safe list the risk pipeline's safe-list
 * stage reads, as GraphQL's addSafeNumber / safeNumbers / removeSafeNumber manage it.
 */
export function mountSafeList(r: Router): void {
  r.post("/SafeList/Numbers", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    const p = readParams(formOf(req), { PhoneNumber: "string" }, { required: ["PhoneNumber"] });
    const row = await c.app.fraud.addSafeNumber(p.PhoneNumber!, null);
    res.status(201).json(safeListJson(row.number, c.view));
  });

  r.get("/SafeList/Numbers/:phoneNumber", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    readParams(queryOf(req), {});
    res.json(safeListJson(await c.app.fraud.safeNumber(req.params.phoneNumber!), c.view));
  });

  r.delete("/SafeList/Numbers/:phoneNumber", async (req, res) => {
    const c = restCall(res);
    requireAdmin(c.caller);
    if (!(await c.app.fraud.removeSafeNumber(req.params.phoneNumber!))) throw new AppError("NOT_FOUND", "The number is not on the safe list");
    res.status(204).end();
  });
}
