import { createHash, randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import { newSid } from "../ids.js";
import type { Logger } from "../log.js";
import type { ApiKeyRow, Role, Store } from "../store/types.js";

/** Who is calling, resolved from `Authorization: Bearer <key>`. */
export interface Caller {
  keyId: string;
  role: Role;
  /** CLIENT keys are bound to one service. */
  serviceId: string | null;
}

/** Keys are 32 random bytes; a fast hash suffices (no dictionary to attack), SHA-256 hex. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function newKey(role: Role): string {
  return (role === "ADMIN" ? "vg_admin_" : "vg_pk_") + randomBytes(32).toString("base64url");
}

/**
 * A key's SID as the Twilio-compatible REST API shows it: `SK` and the 32 hex digits of its `VK` id.
 * It is the username of `twilio(apiKeySid, apiKeySecret, { accountSid })`; like Twilio's, it is not a
 * secret (admins list it), the key's secret is.
 */
export function apiKeySid(keyId: string): string {
  return "SK" + keyId.slice(2);
}

/** The instance's account SID: VERIFY_ACCOUNT_SID, or the one generated on first start and stored. */
export async function instanceAccountSid(store: Pick<Store, "ensureSetting">, configured?: string): Promise<string> {
  return configured ?? store.ensureSetting("account_sid", newSid("AC"));
}

export class ApiKeys {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** The instance's account SID (`AC…`), a username every key may be presented with. */
    readonly accountSid: string,
  ) {}

  /** Resolves a bearer header; null when absent. Throws 20401 for a malformed or unknown key. */
  async authenticate(authorization: string | undefined | null): Promise<Caller | null> {
    if (!authorization) return null;
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!m) throw new AppError("UNAUTHENTICATED");
    const row = await this.store.findApiKeyByHash(hashKey(m[1]!));
    if (!row || row.revokedAt !== null) throw new AppError("UNAUTHENTICATED");
    return { keyId: row.id, role: row.role, serviceId: row.serviceId };
  }

  /**
   * Resolves a key presented with a SID as its username (HTTP Basic, as Twilio's SDK sends it): the
   * instance's account SID with any key (the key decides the role: an admin key gives what Twilio's
   * account SID and auth token give), or the key's own `SK…` SID. Throws 20401 for anything else,
   * with the same answer whether the SID or the secret was wrong.
   */
  async authenticateSid(sid: string, secret: string): Promise<Caller> {
    const row = secret ? await this.store.findApiKeyByHash(hashKey(secret)) : null;
    if (!row || row.revokedAt !== null) throw new AppError("UNAUTHENTICATED");
    if (sid !== this.accountSid && sid !== apiKeySid(row.id)) throw new AppError("UNAUTHENTICATED");
    return { keyId: row.id, role: row.role, serviceId: row.serviceId };
  }

  /** Creates a key and returns it in clear exactly once; only its hash is stored. */
  async create(role: Role, serviceId: string | null, name: string | null): Promise<{ key: string; row: ApiKeyRow }> {
    const key = newKey(role);
    const row: ApiKeyRow = { id: newSid("VK"), keyHash: hashKey(key), role, serviceId, name, createdAt: this.clock.now(), revokedAt: null };
    await this.store.insertApiKey(row);
    return { key, row };
  }

  /**
   * Makes sure an admin can get in. A configured ADMIN_API_KEY is registered (hashed) if new. Without
   * one, development generates a key on the first start and logs it once; production refuses.
   */
  async bootstrapAdmin(opts: { configuredKey?: string; production: boolean; log: Logger; print: (line: string) => void }): Promise<void> {
    if (opts.configuredKey) {
      const hash = hashKey(opts.configuredKey);
      if (!(await this.store.findApiKeyByHash(hash))) {
        await this.store.insertApiKey({ id: newSid("VK"), keyHash: hash, role: "ADMIN", serviceId: null, name: "ADMIN_API_KEY", createdAt: this.clock.now(), revokedAt: null });
      }
      return;
    }
    if ((await this.store.countAdminKeys()) > 0) return;
    if (opts.production) throw new AppError("UNAUTHENTICATED", "ADMIN_API_KEY is required in production");
    const { key } = await this.create("ADMIN", null, "generated on first start");
    opts.print(`Generated an admin API key (shown once, stored hashed): ${key}`);
    opts.print(`Use it as the header  Authorization: Bearer ${key}`);
  }
}

/** Throws 20401 without a caller, 20403 unless it is an admin. */
export function requireAdmin(caller: Caller | null): Caller {
  if (!caller) throw new AppError("UNAUTHENTICATED");
  if (caller.role !== "ADMIN") throw new AppError("FORBIDDEN");
  return caller;
}

/** Admins may act on any service; a client key only on its own. */
export function requireServiceAccess(caller: Caller | null, serviceId: string): Caller {
  if (!caller) throw new AppError("UNAUTHENTICATED");
  if (caller.role === "ADMIN") return caller;
  if (caller.serviceId !== serviceId) throw new AppError("FORBIDDEN");
  return caller;
}
