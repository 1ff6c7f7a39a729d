import type express from "express";
import type { Logger } from "../log.js";
import type { ApprovalTokens } from "../verification/approval-tokens.js";

export const JWKS_PATH = "/.well-known/jwks.json";

/**
 * `GET /.well-known/jwks.json`: the public keys approval tokens are signed with (RFC 7517), for any
 * JWT library's remote key set. Public, cacheable for 5 minutes: the next key is published a whole
 * rotation period before it signs, so a cached set never misses a key in use.
 */
export function mountJwks(router: express.Router, approvals: Pick<ApprovalTokens, "jwks">, log: Logger): void {
  router.get(JWKS_PATH, async (_req, res) => {
    try {
      const jwks = await approvals.jwks();
      res.set("cache-control", "public, max-age=300").type("application/jwk-set+json").send(JSON.stringify(jwks));
    } catch (err) {
      log.error("jwks: keys unavailable", { error: String(err) });
      res.status(503).type("text/plain").send("keys unavailable");
    }
  });
}
