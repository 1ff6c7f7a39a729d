import { and, desc, eq, getTableColumns, lt, lte, sql } from "drizzle-orm";
import type pg from "pg";
import type {
  ApiKeyRow,
  CheckWriteResult,
  CreateOrResendResult,
  RiskDecisionRow,
  SendAttemptRow,
  ServicePatch,
  ServiceRow,
  Store,
  VerificationRow,
} from "../types.js";
import { openPg, type PgConnectOptions, type PgDb } from "./connect.js";
import { DEADLOCK_DETECTED, PgStoreError, UNIQUE_VIOLATION, pgCode, withCleanErrors } from "./errors.js";
import { apiKeys, deliveryJobs, riskDecisions, sendAttemptColumns, sendAttempts, services, verifications } from "./schema.js";

/** The columns of a VerificationRow: every column but `seq`, which is internal to PostgreSQL. */
const { seq: _seq, ...vCols } = getTableColumns(verifications);
const aCols = sendAttemptColumns;

type CreateOrResendInput = Parameters<Store["createOrResend"]>[0];

/** How often a statement that lost a race to another instance (23505, 40P01) is run again. */
const RACE_RETRIES = 5;

/**
 * The PostgreSQL store for N instances sharing one database. Same contract as the SQLite store
 * (test/contract.store.test.ts runs both), but the guarantees come from PostgreSQL, not from a
 * single writer: every status move is one conditional `UPDATE … RETURNING` (row locks serialise
 * concurrent writers, and under READ COMMITTED the loser re-evaluates the WHERE on the winner's row),
 * and the partial unique index on PENDING (service_id, to_number) collapses concurrent starts.
 */
export class PgStore implements Store {
  readonly dialect = "postgres" as const;

  constructor(
    readonly pool: pg.Pool,
    readonly db: PgDb,
  ) {}

  /** Connects, migrates under the advisory lock, and returns the store. */
  static async open(url: string, opts?: PgConnectOptions): Promise<PgStore> {
    const { pool, db } = await openPg(url, opts);
    return new PgStore(pool, db);
  }

  async insertService(row: ServiceRow): Promise<void> {
    await this.db.insert(services).values(row);
  }

  async updateService(id: string, patch: ServicePatch): Promise<ServiceRow | null> {
    const [row] = await this.db.update(services).set(patch).where(eq(services.id, id)).returning();
    return row ?? null;
  }

  async deleteService(id: string): Promise<boolean> {
    const rows = await this.db.delete(services).where(eq(services.id, id)).returning({ id: services.id });
    return rows.length > 0;
  }

  async getService(id: string): Promise<ServiceRow | null> {
    const [row] = await this.db.select().from(services).where(eq(services.id, id));
    return row ?? null;
  }

  async listServices(): Promise<ServiceRow[]> {
    return this.db.select().from(services).orderBy(services.createdAt, services.id);
  }

  async insertApiKey(row: ApiKeyRow): Promise<void> {
    await this.db.insert(apiKeys).values(row);
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | null> {
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash));
    return row ?? null;
  }

  async countAdminKeys(): Promise<number> {
    const [r] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(apiKeys)
      .where(and(eq(apiKeys.role, "ADMIN"), sql`${apiKeys.revokedAt} is null`));
    return r?.n ?? 0;
  }

  async listApiKeys(serviceId?: string): Promise<ApiKeyRow[]> {
    const q = this.db.select().from(apiKeys);
    return (serviceId ? q.where(eq(apiKeys.serviceId, serviceId)) : q).orderBy(apiKeys.createdAt, apiKeys.id);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    const rows = await this.db
      .update(apiKeys)
      .set({ revokedAt: at })
      .where(and(eq(apiKeys.id, id), sql`${apiKeys.revokedAt} is null`))
      .returning({ id: apiKeys.id });
    return rows.length > 0;
  }

  async getVerification(id: string): Promise<VerificationRow | null> {
    const [row] = await this.db.select(vCols).from(verifications).where(eq(verifications.id, id));
    return row ?? null;
  }

  async findPending(serviceId: string, to: string): Promise<VerificationRow | null> {
    const [row] = await this.db
      .select(vCols)
      .from(verifications)
      .where(and(eq(verifications.serviceId, serviceId), eq(verifications.to, to), eq(verifications.status, "PENDING")));
    return row ?? null;
  }

  async findLatest(serviceId: string, to: string): Promise<VerificationRow | null> {
    // seq breaks ties between rows created in the same millisecond (insertion order, like SQLite's rowid).
    const [row] = await this.db
      .select(vCols)
      .from(verifications)
      .where(and(eq(verifications.serviceId, serviceId), eq(verifications.to, to)))
      .orderBy(desc(verifications.createdAt), desc(verifications.seq))
      .limit(1);
    return row ?? null;
  }

  async createOrResend(input: CreateOrResendInput): Promise<CreateOrResendResult> {
    for (let i = 0; ; i++) {
      try {
        const result = await this.createOrResendOnce(input);
        if (result) return result;
      } catch (err) {
        // Another instance inserted the PENDING row between our SELECT and INSERT: the partial unique
        // index refused ours and rolled the transaction back. Start over; this time we find the row
        // and resend on it, exactly as if the requests had arrived one after the other.
        if (pgCode(err) !== UNIQUE_VIOLATION || i >= RACE_RETRIES) throw err;
        continue;
      }
      if (i >= RACE_RETRIES) throw new PgStoreError("createOrResend: the pending verification kept changing under it", null);
    }
  }

  /** One attempt; null = the row we found moved under us (canceled, approved), so try again. */
  private async createOrResendOnce(input: CreateOrResendInput): Promise<CreateOrResendResult | null> {
    const { fresh, attempt, maxSendAttempts, now, job } = input;
    return this.db.transaction(async (tx) => {
      const pendingFor = and(eq(verifications.serviceId, fresh.serviceId), eq(verifications.to, fresh.to), eq(verifications.status, "PENDING"));
      // A PENDING row past its TTL is dead: expire it so a fresh code can be issued.
      await tx
        .update(verifications)
        .set({ status: "EXPIRED", updatedAt: now })
        .where(and(pendingFor, lte(verifications.expiresAt, now)));
      const [live] = await tx.select(vCols).from(verifications).where(pendingFor);
      if (live) {
        // Guarded resend: the send cap is tested in the statement that counts the send, and the row
        // lock makes concurrent resends on other instances queue behind it and re-test the cap.
        const [bumped] = await tx
          .update(verifications)
          .set({ sendAttempts: sql`${verifications.sendAttempts} + 1`, channel: attempt.channel, updatedAt: now })
          .where(and(eq(verifications.id, live.id), eq(verifications.status, "PENDING"), lt(verifications.sendAttempts, maxSendAttempts)))
          .returning(vCols);
        if (!bumped) {
          const [current] = await tx.select(vCols).from(verifications).where(eq(verifications.id, live.id));
          // Still PENDING: the cap stopped it. Otherwise it was finalised meanwhile: start over.
          return current?.status === "PENDING" ? { kind: "max_sends", verification: current } : null;
        }
        const a = { ...attempt, verificationId: live.id };
        await tx.insert(sendAttempts).values(a);
        // The transactional outbox: the send job commits (or rolls back) with the attempt it sends.
        if (job) await tx.insert(deliveryJobs).values(job(bumped, a));
        return { kind: "resent", verification: bumped, attempt: a };
      }
      await tx.insert(verifications).values(fresh);
      await tx.insert(sendAttempts).values(attempt);
      if (job) await tx.insert(deliveryJobs).values(job(fresh, attempt));
      return { kind: "created", verification: fresh, attempt };
    });
  }

  async approve(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult> {
    // The race gate: whichever instance's UPDATE takes the row lock first approves; the other waits,
    // re-evaluates `status = 'PENDING'` on the approved row, matches nothing and sees not_pending.
    const [row] = await this.db
      .update(verifications)
      .set({ status: "APPROVED", checkAttempts: sql`${verifications.checkAttempts} + 1`, updatedAt: now })
      .where(this.checkable(id, maxCheckAttempts, now))
      .returning(vCols);
    if (row) return { kind: "approved", verification: row };
    return { kind: "not_pending", verification: await this.getVerification(id) };
  }

  async recordWrongCheck(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult> {
    // Counting and the limit test are one statement, so N concurrent wrong guesses across instances
    // cannot push check_attempts past the limit; the one that reaches it moves the status.
    const [row] = await this.db
      .update(verifications)
      .set({
        checkAttempts: sql`${verifications.checkAttempts} + 1`,
        status: sql`case when ${verifications.checkAttempts} + 1 >= ${maxCheckAttempts} then 'MAX_ATTEMPTS_REACHED' else 'PENDING' end`,
        updatedAt: now,
      })
      .where(this.checkable(id, maxCheckAttempts, now))
      .returning(vCols);
    if (row) return { kind: "wrong", verification: row };
    return { kind: "not_pending", verification: await this.getVerification(id) };
  }

  private checkable(id: string, maxCheckAttempts: number, now: number) {
    return and(
      eq(verifications.id, id),
      eq(verifications.status, "PENDING"),
      sql`${verifications.expiresAt} > ${now}`,
      lt(verifications.checkAttempts, maxCheckAttempts),
    );
  }

  async setFinalStatus(id: string, status: "CANCELED" | "FAILED" | "EXPIRED", now: number): Promise<VerificationRow | null> {
    const [row] = await this.db
      .update(verifications)
      .set({ status, updatedAt: now })
      .where(and(eq(verifications.id, id), eq(verifications.status, "PENDING")))
      .returning(vCols);
    return row ?? null;
  }

  async expireDue(now: number, limit = 500): Promise<VerificationRow[]> {
    // Every instance runs the sweeper. SKIP LOCKED lets concurrent sweeps take disjoint rows, and the
    // outer status test drops a row another writer finalised meanwhile, so each expiry is published once.
    return this.db
      .update(verifications)
      .set({ status: "EXPIRED", updatedAt: now })
      .where(
        and(
          eq(verifications.status, "PENDING"),
          sql`${verifications.id} in (select id from verifications where status = 'PENDING' and expires_at <= ${now} limit ${limit} for update skip locked)`,
        ),
      )
      .returning(vCols);
  }

  async listSendAttempts(verificationId: string): Promise<SendAttemptRow[]> {
    return this.db.select(aCols).from(sendAttempts).where(eq(sendAttempts.verificationId, verificationId)).orderBy(sendAttempts.seq);
  }

  async findSendAttemptByProviderSid(providerSid: string): Promise<SendAttemptRow | null> {
    const [row] = await this.db.select(aCols).from(sendAttempts).where(eq(sendAttempts.providerSid, providerSid)).limit(1);
    return row ?? null;
  }

  async insertDecision(row: RiskDecisionRow): Promise<void> {
    await this.db.insert(riskDecisions).values(row);
  }

  async markConverted(verificationId: string): Promise<void> {
    // The roll-up triggers update a few counter rows per decision row. Two verifications converting
    // at once may reach shared counter rows in different orders; PostgreSQL then aborts one statement
    // as a deadlock, and running it again is correct (it is idempotent: converted is set, not added).
    for (let i = 0; ; i++) {
      try {
        await this.db
          .update(riskDecisions)
          .set({ converted: true })
          .where(and(eq(riskDecisions.verificationId, verificationId), eq(riskDecisions.kind, "START"), eq(riskDecisions.outcome, "ALLOWED"), eq(riskDecisions.converted, false)));
        return;
      } catch (err) {
        if (pgCode(err) !== DEADLOCK_DETECTED || i >= RACE_RETRIES) throw err;
      }
    }
  }

  async ping(): Promise<void> {
    await this.pool.query("select 1");
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

withCleanErrors(PgStore);
