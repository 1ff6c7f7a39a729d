import { AsyncLocalStorage } from "node:async_hooks";
import twilio from "twilio";
import type TwilioRequestClient from "twilio/lib/base/RequestClient.js";

/**
 * The HTTP client the `twilio` package sends through (its `httpClient` option), extending the SDK's own
 * RequestClient (axios, keep-alive agent, auth header) with two things the SDK's `create()` methods
 * cannot take per call:
 *
 * - a base URL: every `https://*.twilio.com` address is rewritten to TWILIO_API_BASE_URL, so staging
 *   and the tests run the real SDK against a Twilio stand-in;
 * - the idempotency token: `withIdempotencyToken(token, fn)` puts `I-Twilio-Idempotency-Token: token`
 *   on the requests `fn` makes (carried by AsyncLocalStorage, since `messages.create` has no headers
 *   argument), so a retry of a request Twilio already accepted does not send twice.
 */

/** Header Twilio reads to recognise a repeated request. */
export const IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token";

const tokenScope = new AsyncLocalStorage<string>();

/** Runs `fn` with every Twilio request it makes carrying `token` as its idempotency token. */
export function withIdempotencyToken<T>(token: string, fn: () => Promise<T>): Promise<T> {
  return tokenScope.run(token, fn);
}

const TWILIO_ORIGIN = /^https:\/\/(?:[a-z0-9-]+\.)*twilio\.com(?::\d+)?(?=\/|$)/i;

/** Rewrites a Twilio API URL onto `base` (keeping base's own path prefix); other URLs pass unchanged. */
export function rewriteTwilioUrl(uri: string, base: string | null): string {
  if (!base) return uri;
  return uri.replace(TWILIO_ORIGIN, base.replace(/\/+$/, ""));
}

export interface RoutedRequestClientOptions extends TwilioRequestClient.RequestClientOptions {
  /** Replaces Twilio's hosts; null = talk to Twilio. */
  baseUrl: string | null;
}

/** The SDK's RequestClient with base-URL routing and per-call idempotency tokens. */
export class RoutedRequestClient extends twilio.RequestClient {
  private readonly baseUrl: string | null;

  constructor(opts: RoutedRequestClientOptions) {
    const { baseUrl, ...rest } = opts;
    super(rest);
    this.baseUrl = baseUrl;
  }

  override request<TData>(opts: TwilioRequestClient.RequestOptions<TData>) {
    const token = tokenScope.getStore();
    const headers = { ...opts.headers, ...(token ? { [IDEMPOTENCY_HEADER]: token } : {}) };
    return super.request({ ...opts, uri: rewriteTwilioUrl(opts.uri, this.baseUrl), headers });
  }
}
