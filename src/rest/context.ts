import type { Request, Response } from "express";
import type { Caller } from "../auth/keys.js";
import type { AppServices } from "../graphql/context.js";
import type { ViewContext } from "./views.js";

/** What every REST handler gets: the domain services and who is calling from where. */
export interface RestCall {
  app: AppServices;
  caller: Caller;
  ip: string | null;
  view: ViewContext;
}

/** The call the router's authentication put on the response (see router.ts). */
export function restCall(res: Response): RestCall {
  return res.locals.rest as RestCall;
}

/** Form body (POST) or query (GET) of a request, as express parsed it. */
export function formOf(req: Request): Record<string, unknown> {
  return (req.body ?? {}) as Record<string, unknown>;
}

export function queryOf(req: Request): Record<string, unknown> {
  return req.query as Record<string, unknown>;
}
