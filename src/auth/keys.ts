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

/** How often a key's `lastUsedAt` is written, at most (per key and instance): not a write per request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** What `revoke` did: the key as it is now, and whether it had been revoked before this call. */
export interface Revocation {
  row: ApiKeyRow;
  alreadyRevoked: boolean;
}

export class ApiKeys {
  /** When each key's `lastUsedAt` was last written by this instance. */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** The instance's account SID (`AC…`), a username every key may be presented with. */
    readonly accountSid: string,
    private readonly log?: Logger,
  ) {}

  /** Keys, of one service or all, oldest first (admin listing; secrets are never stored). */
  list(serviceId?: string): Promise<ApiKeyRow[]> {
    return this.store.listApiKeys(serviceId);
  }

  /** Resolves a bearer header; null when absent. Throws 20401 for a malformed, unknown, revoked or expired key. */
  async authenticate(authorization: string | undefined | null): Promise<Caller | null> {
    if (!authorization) return null;
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!m) throw new AppError("UNAUTHENTICATED");
    const row = await this.store.findApiKeyByHash(hashKey(m[1]!));
    const now = this.clock.now();
    if (!row || !usable(row, now)) throw new AppError("UNAUTHENTICATED");
    this.touch(row.id, now);
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
    const now = this.clock.now();
    if (!row || !usable(row, now)) throw new AppError("UNAUTHENTICATED");
    if (sid !== this.accountSid && sid !== apiKeySid(row.id)) throw new AppError("UNAUTHENTICATED");
    this.touch(row.id, now);
    return { keyId: row.id, role: row.role, serviceId: row.serviceId };
  }

  /** True while the key exists, is not revoked and has not expired (subscriptions re-check this). */
  async stillValid(keyId: string): Promise<boolean> {
    const row = await this.store.getApiKey(keyId);
    return !!row && usable(row, this.clock.now());
  }

  /** Creates a key and returns it in clear exactly once; only its hash is stored. */
  async create(role: Role, serviceId: string | null, name: string | null, expiresAt: number | null = null): Promise<{ key: string; row: ApiKeyRow }> {
    const key = newKey(role);
    const row = newRow({ keyHash: hashKey(key), role, serviceId, name, createdAt: this.clock.now(), expiresAt });
    await this.store.insertApiKey(row);
    return { key, row };
  }

  /** Revokes a key; revoking one already revoked says so (and keeps its first revocation time). 20404 when unknown. */
  async revoke(id: string): Promise<Revocation> {
    const revokedNow = await this.store.revokeApiKey(id, this.clock.now());
    const row = await this.store.getApiKey(id);
    if (!row) throw new AppError("NOT_FOUND", "API key not found");
    return { row, alreadyRevoked: !revokedNow };
  }

  /**
   * Makes sure an admin can get in. The row a configured ADMIN_API_KEY creates is tied to the
   * variable (`origin`): when the variable changes, or is removed, the rows of earlier values are
   * revoked here, at start-up, and the log says so; a value that names a revoked key refuses to start.
   * Without a key, development generates one on the first start and prints it once; production refuses.
   */
  async bootstrapAdmin(opts: { configuredKey?: string; production: boolean; log: Logger; print: (line: string) => void }): Promise<void> {
    const hash = opts.configuredKey ? hashKey(opts.configuredKey) : null;
    const now = this.clock.now();
    // Checked before anything changes: a refused start must leave every key as it was.
    const existing = hash ? await this.store.findApiKeyByHash(hash) : null;
    if (existing?.revokedAt != null) throw new AppError("UNAUTHENTICATED", `ADMIN_API_KEY names a key that was revoked (${existing.id}); set a new one`);
    for (const old of await this.store.listApiKeys()) {
      if (old.origin !== "ADMIN_API_KEY" || old.keyHash === hash || old.revokedAt !== null) continue;
      await this.store.revokeApiKey(old.id, now);
      opts.log.warn(hash ? "ADMIN_API_KEY changed: revoked the key it named before" : "ADMIN_API_KEY removed: revoked the key it named", { keyId: old.id, name: old.name });
    }
    if (hash) {
      if (!existing) {
        const row = newRow({ keyHash: hash, role: "ADMIN", serviceId: null, name: `ADMIN_API_KEY ${hash.slice(0, 8)}`, createdAt: now, origin: "ADMIN_API_KEY" });
        await this.store.insertApiKey(row);
        opts.log.info("registered the key ADMIN_API_KEY names", { keyId: row.id, name: row.name });
      }
      return;
    }
    if ((await this.store.countAdminKeys()) > 0) return;
    if (opts.production) throw new AppError("UNAUTHENTICATED", "ADMIN_API_KEY is required in production");
    const { key } = await this.create("ADMIN", null, "generated on first start");
    opts.print(`Generated an admin API key (shown once, stored hashed): ${key}`);
    opts.print(`Use it as the header  Authorization: Bearer ${key}`);
  }

  /** Writes `lastUsedAt` at most once per {@link LAST_USED_RESOLUTION_MS} per key, in the background. */
  private touch(keyId: string, now: number): void {
    const last = this.touched.get(keyId);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    this.touched.set(keyId, now);
    // Bounded: one entry per key this instance saw; a deployment has few keys.
    this.store.touchApiKey(keyId, now).catch((err: unknown) => this.log?.warn("could not record an API key's last use", { keyId, error: String(err) }));
  }
}

function usable(row: ApiKeyRow, now: number): boolean {
  return row.revokedAt === null && (row.expiresAt === null || row.expiresAt > now);
}

function newRow(r: Pick<ApiKeyRow, "keyHash" | "role" | "serviceId" | "name" | "createdAt"> & Partial<Pick<ApiKeyRow, "expiresAt" | "origin">>): ApiKeyRow {
  return { id: newSid("VK"), revokedAt: null, lastUsedAt: null, expiresAt: null, origin: null, ...r };
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
