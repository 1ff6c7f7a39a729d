import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import type { Clock } from "../clock.js";
import { seal, unseal } from "../delivery/seal.js";
import { AppError } from "../errors.js";
import type { ApprovalKeyRow, ApprovalStore } from "../store/approval.js";
import type { Channel, VerificationRow } from "../store/types.js";

/**
 * Approval tokens: what an approving check hands the frontend so the app's backend can know, with
 * no call back, that this number really passed. A short-lived JWT signed with EdDSA (Ed25519), keys
 * published at `/.well-known/jwks.json`; any JWT library verifies it.
 *
 * Claims (RFC 7519 names where one fits):
 *   iss  APPROVAL_TOKEN_ISSUER (PUBLIC_URL by default)
 *   aud  the service id (VA…): a backend accepts only tokens for its own service
 *   sub  the verified number, E.164
 *   jti  the verification id (VE…): a verification approves once, so it names the token
 *   iat  the approval time; exp = iat + APPROVAL_TOKEN_TTL_SECONDS (5 minutes by default)
 *   service_sid, verification_sid, phone_number, channel, approved_at: the same facts, spelled out
 *
 * Keys rotate every APPROVAL_KEY_ROTATION_HOURS. Each rotation period has one key, named by the time
 * it starts signing (`kid`), created by whichever instance needs it first; the period's start is the
 * primary key, so instances racing to create it agree on one row and sign alike. The JWKS carries the
 * previous key (tokens it signed are still live), the current one, and the next one, published a whole
 * period before it signs, so a backend's cached key set never meets an unknown `kid` at a rotation.
 * Private keys are sealed in the database under a key derived from CODE_SECRET (delivery/seal.ts).
 *
 * Single use is opt-in: `redeem` records the token's jti (a primary key decides races), for backends
 * that want a token accepted once. Verifying offline never needs it.
 */
export const APPROVAL_TOKEN_ALG = "EdDSA";

export interface ApprovalClaims {
  serviceId: string;
  verificationId: string;
  to: string;
  channel: Channel;
  /** Milliseconds. */
  approvedAt: number;
  expiresAt: number;
}

export interface ApprovalTokensOptions {
  store: ApprovalStore;
  clock: Clock;
  codeSecret: string;
  /** Token lifetime. @default 300 */
  ttlSeconds?: number;
  /** Rotation period of the signing key. @default 24 h */
  rotationMs?: number;
  /** `iss`. @default "verify-guard" */
  issuer?: string;
}

interface Keyring {
  /** The period whose key signs; the ring is reloaded when the clock leaves it. */
  periodStart: number;
  signing: { kid: string; key: CryptoKey };
  /** Public keys of the previous, current and next periods. */
  published: JWK[];
  verifyKeys: Map<string, CryptoKey>;
}

export class ApprovalTokens {
  private readonly ttlSeconds: number;
  private readonly rotationMs: number;
  readonly issuer: string;
  private ring: Promise<Keyring> | null = null;

  constructor(private readonly o: ApprovalTokensOptions) {
    this.ttlSeconds = o.ttlSeconds ?? 300;
    this.rotationMs = o.rotationMs ?? 24 * 3_600_000;
    this.issuer = o.issuer ?? "verify-guard";
    if (this.ttlSeconds * 1000 >= this.rotationMs) throw new Error("approval tokens must expire within one key rotation period");
  }

  /** The signed token for an approved verification. */
  async issue(v: VerificationRow): Promise<string> {
    const ring = await this.keyring();
    const iat = Math.floor(v.updatedAt / 1000);
    return new SignJWT({
      service_sid: v.serviceId,
      verification_sid: v.id,
      phone_number: v.to,
      channel: v.channel,
      approved_at: new Date(v.updatedAt).toISOString(),
    })
      .setProtectedHeader({ alg: APPROVAL_TOKEN_ALG, kid: ring.signing.kid, typ: "JWT" })
      .setIssuer(this.issuer)
      .setAudience(v.serviceId)
      .setSubject(v.to)
      .setJti(v.id)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .sign(ring.signing.key);
  }

  /** The JSON Web Key Set `/.well-known/jwks.json` serves: previous, current and next public keys. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.keyring()).published };
  }

  /**
   * Checks a token as a backend would (signature by one of our published keys, `iss`, `exp` against
   * the clock, and `aud` when `serviceId` is given) and returns its facts; APPROVAL_TOKEN_INVALID otherwise.
   */
  async verify(token: string, serviceId?: string | null): Promise<ApprovalClaims> {
    const ring = await this.keyring();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async (header) => {
        const key = header.kid ? ring.verifyKeys.get(header.kid) : undefined;
        if (!key) throw new Error("unknown key");
        return key;
      }, {
        algorithms: [APPROVAL_TOKEN_ALG],
        issuer: this.issuer,
        audience: serviceId ?? undefined,
        currentDate: new Date(this.o.clock.now()),
        requiredClaims: ["aud", "sub", "jti", "iat", "exp"],
      }));
    } catch {
      // Why it failed (expired, bad signature, other audience) is the caller's to find out with its own
      // JWT library; this answer says only that it is not a live token for this service.
      throw new AppError("APPROVAL_TOKEN_INVALID");
    }
    return {
      serviceId: String(payload.aud),
      verificationId: payload.jti!,
      to: payload.sub!,
      channel: payload.channel === "CALL" ? "CALL" : "SMS",
      approvedAt: payload.iat! * 1000,
      expiresAt: payload.exp! * 1000,
    };
  }

  /** Verifies, then accepts the token once: a second redemption answers APPROVAL_TOKEN_USED. */
  async redeem(token: string, serviceId?: string | null): Promise<ApprovalClaims> {
    const claims = await this.verify(token, serviceId);
    const fresh = await this.o.store.redeem({ jti: claims.verificationId, serviceId: claims.serviceId, redeemedAt: this.o.clock.now(), expiresAt: claims.expiresAt });
    if (!fresh) throw new AppError("APPROVAL_TOKEN_USED");
    return claims;
  }

  /** Forgets redemptions of expired tokens (runs on the app's sweeper). */
  sweep(): Promise<number> {
    return this.o.store.sweepRedemptions(this.o.clock.now());
  }

  private keyring(): Promise<Keyring> {
    const now = this.o.clock.now();
    const period = this.periodStart(now);
    if (!this.ring) this.ring = this.load(period);
    return this.ring.then((ring) => {
      if (ring.periodStart === period) return ring;
      // The clock entered another period: load (or create) that period's keys once, for every caller.
      const next = this.load(period);
      this.ring = next;
      return next;
    }, (err: unknown) => {
      this.ring = null; // a failed load (database down) is retried by the next call
      throw err;
    });
  }

  private periodStart(now: number): number {
    return Math.floor(now / this.rotationMs) * this.rotationMs;
  }

  private async load(period: number): Promise<Keyring> {
    const r = this.rotationMs;
    // The current and next periods' keys exist from now on; the previous one exists if it signed.
    await this.ensureKey(period);
    await this.ensureKey(period + r);
    const rows = await this.o.store.keysBetween(period - r, period + r);
    const current = rows.find((k) => k.activatesAt === period);
    if (!current) throw new Error("approval tokens: the current signing key is missing");
    const privateJwk = JSON.parse(unseal(this.o.codeSecret, "approval-signing-key:v1", current.kid, current.sealedPrivateJwk)) as JWK;
    const verifyKeys = new Map<string, CryptoKey>();
    const published: JWK[] = [];
    for (const row of rows) {
      const jwk = JSON.parse(row.publicJwk) as JWK;
      published.push(jwk);
      verifyKeys.set(row.kid, (await importJWK(jwk, APPROVAL_TOKEN_ALG)) as CryptoKey);
    }
    return { periodStart: period, signing: { kid: current.kid, key: (await importJWK(privateJwk, APPROVAL_TOKEN_ALG)) as CryptoKey }, published, verifyKeys };
  }

  /** Creates the key of the period starting at `activatesAt` unless some instance already did. */
  private async ensureKey(activatesAt: number): Promise<void> {
    const kid = kidFor(activatesAt);
    const existing = await this.o.store.keysBetween(activatesAt, activatesAt);
    if (existing.length > 0) return;
    const { publicKey, privateKey } = await generateKeyPair(APPROVAL_TOKEN_ALG, { crv: "Ed25519", extractable: true });
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: APPROVAL_TOKEN_ALG, use: "sig" };
    const row: ApprovalKeyRow = {
      kid,
      alg: APPROVAL_TOKEN_ALG,
      publicJwk: JSON.stringify(publicJwk),
      sealedPrivateJwk: seal(this.o.codeSecret, "approval-signing-key:v1", kid, JSON.stringify(await exportJWK(privateKey))),
      activatesAt,
      createdAt: this.o.clock.now(),
    };
    await this.o.store.insertKeyIfAbsent(row);
  }
}

/** A period's key id: when it starts signing, e.g. `vg-20261201T000000Z`. */
export function kidFor(activatesAt: number): string {
  return "vg-" + new Date(activatesAt).toISOString().replace(/[-:]|\.\d{3}/g, "");
}
