/**
 * Approval tokens' state in the database, shared by every instance: the signing keys (sealed private
 * halves) and the tokens redeemed so far. See verification/approval-tokens.ts.
 */
export interface ApprovalKeyRow {
  kid: string;
  alg: string;
  /** Public JWK as JSON. */
  publicJwk: string;
  /** Private JWK as JSON, sealed under a key derived from CODE_SECRET (delivery/seal.ts), the kid as AAD. */
  sealedPrivateJwk: string;
  /** When the key starts signing (the start of its rotation period), ms. */
  activatesAt: number;
  createdAt: number;
}

export interface ApprovalStore {
  /**
   * Inserts the key unless a key with its kid exists. Instances racing to create the key of the same
   * period name it alike, so exactly one row wins and every instance then reads that one.
   */
  insertKeyIfAbsent(row: ApprovalKeyRow): Promise<void>;
  /** Keys activating in [from, to], oldest first. */
  keysBetween(from: number, to: number): Promise<ApprovalKeyRow[]>;
  /** Records a redemption; false when this jti was redeemed before (the primary key decides races). */
  redeem(row: { jti: string; serviceId: string; redeemedAt: number; expiresAt: number }): Promise<boolean>;
  /** Deletes redemptions of tokens that expired (they can no longer be presented). */
  sweepRedemptions(now: number): Promise<number>;
}
