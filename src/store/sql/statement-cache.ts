import type Database from "better-sqlite3";

/**
 * Makes `sqlite.prepare(sql)` reuse compiled statements. drizzle's better-sqlite3 driver (and
 * rate-limiter-flexible's SQLite limiter) call `prepare` for every query they run, and compiling the
 * SQL was the largest single cost in the server's CPU profile under start/check load (`npm run bench`).
 * The SQL text they generate is stable per query shape (values are bound, not inlined), so a cache
 * keyed by the text turns each compile into a Map lookup.
 *
 * Safe because better-sqlite3 is synchronous: a statement runs to completion before the next use.
 * The exceptions are handled here: a statement busy in an unfinished `.iterate()` is never handed out
 * again (a fresh one is compiled instead), and the per-statement modes a previous user may have
 * switched on (`raw`, `pluck`, `expand`; drizzle switches `raw` on for typed selects) are reset.
 * Callers must not `.bind()` a statement obtained from `prepare` (that binding would stick to it).
 */
export function cacheStatements(sqlite: Database.Database, capacity = 500): void {
  const compile = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, Database.Statement>();
  const prepare = (source: string): Database.Statement => {
    const hit = cache.get(source);
    if (hit && !hit.busy) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      cache.delete(source);
      cache.set(source, hit);
      if (hit.reader) hit.raw(false).pluck(false).expand(false);
      return hit;
    }
    const stmt = compile(source);
    if (hit) return stmt; // the cached one is busy iterating: leave it be, hand out a private one
    cache.set(source, stmt);
    if (cache.size > capacity) cache.delete(cache.keys().next().value!);
    return stmt;
  };
  sqlite.prepare = prepare as Database.Database["prepare"];
}
