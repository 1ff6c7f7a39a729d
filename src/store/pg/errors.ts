import { DrizzleQueryError } from "drizzle-orm/errors";

/** PostgreSQL SQLSTATE of unique_violation. */
export const UNIQUE_VIOLATION = "23505";
/** PostgreSQL SQLSTATE of deadlock_detected (one of the transactions was aborted; retrying is safe). */
export const DEADLOCK_DETECTED = "40P01";

/** The SQLSTATE of a failed query (drizzle wraps the driver's error in `cause`), or null. */
export function pgCode(err: unknown): string | null {
  const inner = err instanceof DrizzleQueryError ? err.cause : err;
  const code = typeof inner === "object" && inner !== null && "code" in inner ? inner.code : null;
  return typeof code === "string" ? code : null;
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

/**
 * drizzle's DrizzleQueryError puts the SQL *and its parameters* in `message`, and the parameters
 * include phone numbers; unknown errors are logged with their stack, so numbers would reach the logs
 * unmasked. This wraps every `async` method of a store class so such an error leaves the store as a
 * {@link PgStoreError} carrying only the driver's message and SQLSTATE.
 */
export function withCleanErrors<T extends abstract new (...args: never[]) => object>(cls: T): T {
  const proto = cls.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const fn = proto[name];
    // Only native async methods: wrapping a synchronous helper would turn its result into a promise.
    if (name === "constructor" || typeof fn !== "function" || fn.constructor.name !== "AsyncFunction") continue;
    proto[name] = async function (this: unknown, ...args: unknown[]) {
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      } catch (err) {
        throw cleanError(err);
      }
    };
  }
  return cls;
}

/** Strips query parameters from a drizzle query error; passes anything else through. */
export function cleanError(err: unknown): unknown {
  if (!(err instanceof DrizzleQueryError)) return err;
  const inner = err.cause;
  const message = inner instanceof Error ? inner.message : "database query failed";
  return new PgStoreError(message, pgCode(err));
}
