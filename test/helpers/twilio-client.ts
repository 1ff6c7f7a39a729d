import twilio from "twilio";
import type TwilioRequestClient from "twilio/lib/base/RequestClient.js";
import { ADMIN_KEY, ok, type TestServer } from "./harness.js";

/**
 * The official `twilio` SDK pointed at a test server, exactly as the README's "Coming from Twilio
 * Verify" tells users to: an `httpClient` that sends what the SDK addresses to verify.twilio.com to
 * verify-guard instead. Nothing else about the SDK changes.
 */
export class VerifyGuardClient extends twilio.RequestClient {
  constructor(private readonly base: string) {
    super();
  }

  override request<T>(opts: TwilioRequestClient.RequestOptions<T>) {
    return super.request({ ...opts, uri: opts.uri.replace("https://verify.twilio.com", this.base) });
  }
}

export type TwilioClient = ReturnType<typeof twilio>;

/** A client for `username`/`password`; `accountSid` for API-key (SK…) usernames, as Twilio's SDK asks. */
export function twilioClient(s: TestServer, username: string, password: string, accountSid?: string): TwilioClient {
  return twilio(username, password, { httpClient: new VerifyGuardClient(s.url), ...(accountSid ? { accountSid } : {}) });
}

/** The instance's account SID, read as an admin would (GraphQL `accountSid`). */
export async function accountSidOf(s: TestServer): Promise<string> {
  return ok(await s.gql<{ accountSid: string }>(`{ accountSid }`)).accountSid;
}

/** `twilio(accountSid, adminApiKey)`: the SDK as an admin. */
export async function adminTwilio(s: TestServer): Promise<TwilioClient> {
  return twilioClient(s, await accountSidOf(s), ADMIN_KEY);
}

/** The error a promise rejects with (a RestException from the SDK), or a failure when it resolves. */
export async function restError(p: Promise<unknown>): Promise<{ status: number; code: number; message: string; moreInfo: string }> {
  try {
    const v = await p;
    throw new Error(`expected a RestException, got ${JSON.stringify(v)}`);
  } catch (e) {
    if (!(e instanceof Error) || e.constructor.name !== "RestException") throw e;
    return e as unknown as { status: number; code: number; message: string; moreInfo: string };
  }
}
