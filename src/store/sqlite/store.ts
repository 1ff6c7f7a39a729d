import Database from "better-sqlite3";
import { and, eq, lt, sql } from "drizzle-orm";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
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
import type { DeliveryJobBuilder } from "../delivery.js";
import * as schema from "./schema.js";
import { cacheStatements } from "./statement-cache.js";
import { prepareHotQueries, type HotQueries } from "./hot-queries.js";

const { services, apiKeys, verifications, sendAttempts, deliveryJobs } = schema;


/** Opens (creating if needed) a SQLite file in WAL mode and applies the drizzle migrations. */
export function openSqlite(file: string): { sqlite: Database.Database; db: BetterSQLite3Database<typeof schema> } {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  // WAL lets readers run beside the single writer; busy_timeout makes a second process wait, not fail.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  // drizzle compiles every query's SQL anew; reusing statements was the top fix the bench profile showed.
  cacheStatements(sqlite);
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: migrationsFolder() });
  return { sqlite, db };
}

function migrationsFolder(): string {
  // Works from src/ (vitest) and from dist/src/ (npm start): both sit below the repo root.
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes("/dist/") ? here.slice(0, here.lastIndexOf("/dist/")) : here.slice(0, here.lastIndexOf("/src/"));
  return join(root, "drizzle", "sqlite");
}

type ServiceDb = typeof services.$inferSelect;
const toService = (r: ServiceDb): ServiceRow => ({ ...r, riskSettings: JSON.parse(r.riskSettings) });

/**
 * The embedded store. better-sqlite3 is synchronous, so every transaction body here is synchronous
 * (`.run()`, `.get()`, `.all()`, never `await`): an async body would commit outside the transaction.
 * A synchronous transaction also cannot interleave with another request in this process, and
 * SQLite's single writer serialises other processes.
 */
export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  readonly sqlite: Database.Database;
  readonly db: BetterSQLite3Database<typeof schema>;
  /** The per-request lookups and the decision insert, prepared once (see hot-queries.ts). */
  private readonly hot: HotQueries;

  constructor(file: string) {
    ({ sqlite: this.sqlite, db: this.db } = openSqlite(file));
    this.hot = prepareHotQueries(this.db);
  }

  async insertService(row: ServiceRow): Promise<void> {
    this.db.insert(services).values({ ...row, riskSettings: JSON.stringify(row.riskSettings) }).run();
  }

  async updateService(id: string, patch: ServicePatch): Promise<ServiceRow | null> {
    const { riskSettings, ...rest } = patch;
    const values = riskSettings === undefined ? rest : { ...rest, riskSettings: JSON.stringify(riskSettings) };
    const row = this.db.update(services).set(values).where(eq(services.id, id)).returning().get();
    return row ? toService(row) : null;
  }

  async deleteService(id: string): Promise<boolean> {
    return this.db.delete(services).where(eq(services.id, id)).run().changes > 0;
  }

  async getService(id: string): Promise<ServiceRow | null> {
    const row = this.hot.serviceById.get({ id });
    return row ? toService(row) : null;
  }

  async listServices(): Promise<ServiceRow[]> {
    return this.db.select().from(services).orderBy(services.createdAt).all().map(toService);
  }

  async insertApiKey(row: ApiKeyRow): Promise<void> {
    this.db.insert(apiKeys).values(row).run();
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRow | null> {
    return this.hot.apiKeyByHash.get({ keyHash }) ?? null;
  }

  async countAdminKeys(): Promise<number> {
    const r = this.db
      .select({ n: sql<number>`count(*)` })
      .from(apiKeys)
      .where(and(eq(apiKeys.role, "ADMIN"), sql`${apiKeys.revokedAt} is null`))
      .get();
    return r?.n ?? 0;
  }

  async listApiKeys(serviceId?: string): Promise<ApiKeyRow[]> {
    const q = this.db.select().from(apiKeys);
    return (serviceId ? q.where(eq(apiKeys.serviceId, serviceId)) : q).orderBy(apiKeys.createdAt).all();
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    return this.db.update(apiKeys).set({ revokedAt: at }).where(and(eq(apiKeys.id, id), sql`${apiKeys.revokedAt} is null`)).run().changes > 0;
  }

  async getVerification(id: string): Promise<VerificationRow | null> {
    return this.hot.verificationById.get({ id }) ?? null;
  }

  async findPending(serviceId: string, to: string): Promise<VerificationRow | null> {
    return this.hot.pendingVerification.get({ serviceId, to }) ?? null;
  }

  async findLatest(serviceId: string, to: string): Promise<VerificationRow | null> {
    // rowid breaks ties between rows created in the same millisecond (insertion order).
    return (
      this.db
        .select()
        .from(verifications)
        .where(and(eq(verifications.serviceId, serviceId), eq(verifications.to, to)))
        .orderBy(sql`${verifications.createdAt} desc, rowid desc`)
        .limit(1)
        .get() ?? null
    );
  }

  async createOrResend(input: {
    fresh: VerificationRow;
    attempt: SendAttemptRow;
    maxSendAttempts: number;
    now: number;
    job?: DeliveryJobBuilder;
  }): Promise<CreateOrResendResult> {
    const { fresh, attempt, maxSendAttempts, now, job } = input;
    return this.db.transaction((tx): CreateOrResendResult => {
      // A PENDING row past its TTL is dead: expire it so a fresh code can be issued. (Prepared
      // statements run on this connection, so inside this transaction.)
      this.hot.expireStalePending.run({ serviceId: fresh.serviceId, to: fresh.to, now });
      const live = this.hot.pendingVerification.get({ serviceId: fresh.serviceId, to: fresh.to });
      if (live) {
        // Guarded resend: the send cap is checked in the same statement that counts the send.
        const bumped = tx
          .update(verifications)
          .set({ sendAttempts: sql`${verifications.sendAttempts} + 1`, channel: attempt.channel, updatedAt: now })
          .where(and(eq(verifications.id, live.id), eq(verifications.status, "PENDING"), lt(verifications.sendAttempts, maxSendAttempts)))
          .returning()
          .get();
        if (!bumped) return { kind: "max_sends", verification: live };
        const a = { ...attempt, verificationId: live.id };
        this.hot.insertSendAttempt.run({ ...a });
        // The transactional outbox: the send job commits (or rolls back) with the attempt it sends.
        if (job) tx.insert(deliveryJobs).values(job(bumped, a)).run();
        return { kind: "resent", verification: bumped, attempt: a };
      }
      this.hot.insertVerification.run({ ...fresh });
      this.hot.insertSendAttempt.run({ ...attempt });
      if (job) tx.insert(deliveryJobs).values(job(fresh, attempt)).run();
      return { kind: "created", verification: fresh, attempt };
    });
  }

  async approve(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult> {
    // The race gate: only one UPDATE can match `status = 'PENDING'`, so two correct codes sent at
    // once approve exactly once; the loser sees not_pending.
    const row = this.hot.approve.get({ id, maxCheckAttempts, now });
    if (row) return { kind: "approved", verification: row };
    return { kind: "not_pending", verification: await this.getVerification(id) };
  }

  async recordWrongCheck(id: string, maxCheckAttempts: number, now: number): Promise<CheckWriteResult> {
    // Counting and the limit test are one statement: N concurrent wrong guesses cannot push
    // check_attempts past the limit, and the one that reaches it moves the status.
    const row = this.hot.recordWrongCheck.get({ id, maxCheckAttempts, now });
    if (row) return { kind: "wrong", verification: row };
    return { kind: "not_pending", verification: await this.getVerification(id) };
  }

  async setFinalStatus(id: string, status: "CANCELED" | "FAILED" | "EXPIRED", now: number): Promise<VerificationRow | null> {
    return (
      this.db
        .update(verifications)
        .set({ status, updatedAt: now })
        .where(and(eq(verifications.id, id), eq(verifications.status, "PENDING")))
        .returning()
        .get() ?? null
    );
  }

  async expireDue(now: number, limit = 500): Promise<VerificationRow[]> {
    return this.db
      .update(verifications)
      .set({ status: "EXPIRED", updatedAt: now })
      .where(
        sql`${verifications.id} in (select id from verifications where status = 'PENDING' and expires_at <= ${now} limit ${limit})`,
      )
      .returning()
      .all();
  }

  async listSendAttempts(verificationId: string): Promise<SendAttemptRow[]> {
    // rowid keeps sends made in the same millisecond in the order they were made (ids are random).
    return this.hot.listSendAttempts.all({ verificationId });
  }

  async findSendAttemptByProviderSid(providerSid: string): Promise<SendAttemptRow | null> {
    return this.db.select().from(sendAttempts).where(eq(sendAttempts.providerSid, providerSid)).get() ?? null;
  }

  async insertDecision(row: RiskDecisionRow): Promise<void> {
    this.hot.insertDecision.run({ ...row });
  }

  async markConverted(verificationId: string): Promise<void> {
    this.hot.markConverted.run({ verificationId });
  }

  async ping(): Promise<void> {
    this.sqlite.prepare("select 1").get();
  }

  async close(): Promise<void> {
    if (this.sqlite.open) this.sqlite.close();
  }
}

