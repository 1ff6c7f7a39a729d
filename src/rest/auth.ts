import type { ApiKeys, Caller } from "../auth/keys.js";
import { AppError } from "../errors.js";

/**
 * Who calls the REST API. HTTP Basic as Twilio's SDK sends it: `twilio(accountSid, apiKey)` (the
 * instance's account SID and any API key; an admin key gives what Twilio's auth token gives), or
 * `twilio(apiKeySid, apiKeySecret, { accountSid })` (the key's SK… SID and its secret). A bearer key
 * works too, as on GraphQL (curl). Anything else, or nothing, is 20003 (401).
 */
export async function restCaller(apiKeys: ApiKeys, authorization: string | undefined): Promise<Caller> {
  if (!authorization) throw new AppError("UNAUTHENTICATED");
  const basic = /^Basic\s+([A-Za-z0-9+/=]{1,1024})\s*$/i.exec(authorization);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new AppError("UNAUTHENTICATED");
    return apiKeys.authenticateSid(decoded.slice(0, colon), decoded.slice(colon + 1));
  }
  const caller = await apiKeys.authenticate(authorization);
  if (!caller) throw new AppError("UNAUTHENTICATED");
  return caller;
}
