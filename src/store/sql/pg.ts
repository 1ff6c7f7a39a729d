import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";
import { pgDialect } from "./dialect.js";
import { migrationsFolder } from "./migrations.js";
import { bind, compile, driveAsync, mapRow, type Compiled, type Db, type Query, type Step, type TxBody } from "./query.js";

/**
 * Key of the session-level advisory lock held while migrating. Any constant works as long as every
 * instance uses the same one; this is the 64-bit reading of the ASCII bytes "vg-migra".
 */
export const MIGRATION_LOCK_KEY = 0x76672d6d69677261n;

/** SQLSTATEs of a transaction that lost a race to another instance: running it again is correct. */
const RACE_CODES = new Set(["23505", "40P01", "40001"]); // unique_violation, deadlock_detected, serialization_failure
const RACE_RETRIES = 5;

export interface PgConnectOptions {
  /** Pool size per instance. With N instances the server needs N × max connections. @default 10 */
  max?: number;
}

/** A database failure with the driver's message and SQLSTATE, but none of the query's parameters. */
export class PgStoreError extends Error {
  override name = "PgStoreError";
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** bigint (int8) columns and sums as JS numbers: times are epoch ms and money micro-dollars, far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * The scale-out database: a node-postgres pool, migrated on open under an advisory lock. Hot queries
 * are named prepared statements (parsed once per connection); transactions run on one connection.
 */
export class PgDb implements Db {
  readonly dialect = pgDialect;
  private readonly compiled = new Map<Query<object, unknown>, Compiled>();

  private constructor(readonly pool: pg.Pool) {}

  /**
   * Connects and brings the schema up to date. N instances that start at once each take
   * `pg_advisory_lock` on a dedicated connection before running drizzle's migrator: the first migrates,
   * the others wait and then find every migration recorded, so each runs exactly once.
   */
  static async open(url: string, opts: PgConnectOptions = {}): Promise<PgDb> {
    const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, types });
    // An idle client that loses its server emits 'error' on the pool; without a listener that would
    // crash the process. The next query reconnects, and /readyz reports the outage meanwhile.
    pool.on("error", () => undefined);
    try {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY.toString()]);
        try {
          await migrate(drizzle(client), { migrationsFolder: migrationsFolder("pg") });
        } finally {
          await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY.toString()]);
        }
      } catch (err) {
        broken = err instanceof Error ? err : new Error(String(err));
        throw err;
      } finally {
        // After a failure the session may still hold the lock: destroy it rather than pool it.
        client.release(broken);
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return new PgDb(pool);
  }

  get<P extends object, R>(q: Query<P, R>, params: P): Promise<R | undefined> {
    return this.exec(this.pool, { op: "get", q, params }) as Promise<R | undefined>;
  }

  all<P extends object, R>(q: Query<P, R>, params: P): Promise<R[]> {
    return this.exec(this.pool, { op: "all", q, params }) as Promise<R[]>;
  }

  run<P extends object>(q: Query<P, unknown>, params: P): Promise<number> {
    return this.exec(this.pool, { op: "run", q, params }) as Promise<number>;
  }

  async transaction<T>(body: () => TxBody<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("begin");
        const result = await driveAsync(body(), (s) => this.exec(client, s));
        await client.query("commit");
        return result;
      } catch (err) {
        await client.query("rollback").catch((e: Error) => (broken = e));
        const e = clean(err);
        if (!(e instanceof PgStoreError && e.code && RACE_CODES.has(e.code) && attempt < RACE_RETRIES)) throw e;
      } finally {
        client.release(broken);
      }
    }
  }

  async ping(): Promise<void> {
    await this.pool.query("select 1");
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  private async exec(on: pg.Pool | pg.PoolClient, s: Step): Promise<unknown> {
    let c = s.q.prepared ? this.compiled.get(s.q) : undefined;
    if (!c) {
      c = compile(s.q.sql(this.dialect), this.dialect);
      if (s.q.prepared) this.compiled.set(s.q, c);
    }
    let res: pg.QueryResult;
    try {
      const values = bind(c, s.params, this.dialect);
      res = await on.query(s.q.prepared ? { name: s.q.name, text: c.text, values } : { text: c.text, values });
    } catch (err) {
      throw clean(err);
    }
    if (s.op === "run") return res.rowCount ?? 0;
    if (s.op === "get") return mapRow(s.q, res.rows[0], this.dialect);
    return res.rows.map((r: Record<string, unknown>) => mapRow(s.q, r, this.dialect));
  }
}

/**
 * A driver error as a {@link PgStoreError}: its message and SQLSTATE only. The driver's `detail` may
 * quote a row's values (a phone number in a unique violation), and unknown errors are logged in full.
 */
function clean(err: unknown): unknown {
  if (err instanceof PgStoreError || !(err instanceof Error) || !("code" in err)) return err;
  return new PgStoreError(err.message, typeof err.code === "string" ? err.code : null);
}
