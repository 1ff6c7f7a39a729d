import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";

/**
 * A counting wrapper for the bench, never loaded by production code: it counts every SQL statement
 * a process executes and every commit, on better-sqlite3 and node-postgres alike, by wrapping the
 * drivers' own methods. The bench installs it in its own process ({@link installCounters}, around an
 * in-process app); preloaded into a server (`node --import dist/bench/lib/count-statements.js main.js`
 * with BENCH_COUNT_FILE set) it patches the drivers that server resolves, so it also counts another
 * build, and on SIGUSR2 writes the counts since the previous signal to $BENCH_COUNT_FILE.
 *
 * A commit is an explicit COMMIT, or a write executed outside a transaction (autocommit): each is
 * one durable write of the database.
 */
export interface Counts {
  statements: number;
  commits: number;
  /** Statements by their first words (SELECT/INSERT/UPDATE/…, and the table), for the curious. */
  byKind: Record<string, number>;
}

let counts: Counts = { statements: 0, commits: 0, byKind: {} };
let installed = false;

/** The counts since the previous call, and a fresh start. */
export function takeCounts(): Counts {
  const taken = counts;
  counts = { statements: 0, commits: 0, byKind: {} };
  return taken;
}

/** "insert risk_decisions", "select verifications", "commit", … */
function kindOf(text: string): string {
  const t = text.trim().toLowerCase().replace(/\s+/g, " ");
  const verb = t.split(" ")[0] ?? "";
  const table = /(?:from|into|update|join) ([a-z_]+)/.exec(t)?.[1] ?? "";
  return `${verb} ${verb === "update" ? (/^update ([a-z_]+)/.exec(t)?.[1] ?? "") : table}`.trim();
}

function note(text: string, inTransaction: boolean): void {
  const t = text.trim().toLowerCase();
  if (t === "commit") {
    counts.commits++;
    return;
  }
  if (t.startsWith("begin") || t === "rollback") return;
  counts.statements++;
  const kind = kindOf(t);
  counts.byKind[kind] = (counts.byKind[kind] ?? 0) + 1;
  if (!inTransaction && !/^(select|with recursive|explain|pragma)\b/.test(t)) counts.commits++;
}

/** Wraps the drivers `resolveFrom` (a file path) resolves. Idempotent. */
export function installCounters(resolveFrom: string): void {
  if (installed) return;
  installed = true;
  const serverRequire = createRequire(resolveFrom);
  wrapSqlite(serverRequire);
  wrapPg(serverRequire);
}

/** better-sqlite3: every statement runs through Statement#run/get/all/iterate. */
function wrapSqlite(serverRequire: NodeJS.Require): void {
  try {
  const Database = serverRequire("better-sqlite3") as { prototype: { prepare(sql: string): unknown } };
  const probe = new (Database as unknown as new (f: string) => { prepare(s: string): object; close(): void })(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("select 1")) as Record<string, (...a: unknown[]) => unknown>;
  probe.close();
  for (const method of ["run", "get", "all", "iterate"]) {
    const original = proto[method]!;
    proto[method] = function (this: { source: string; database: { inTransaction: boolean } }, ...args: unknown[]) {
      const inTx = this.database.inTransaction;
      const result = original.apply(this, args);
      note(this.source, inTx);
      return result;
    };
  }
  } catch {
    // not installed where the server runs: nothing to count there
  }
}

/** node-postgres: every statement runs through Client#query; BEGIN … COMMIT tracked per connection. */
function wrapPg(serverRequire: NodeJS.Require): void {
  try {
  const pg = serverRequire("pg") as { Client: { prototype: Record<string, (...a: unknown[]) => unknown> } };
  const proto = pg.Client.prototype;
  const original = proto.query!;
  const inTx = new WeakSet<object>();
  proto.query = function (this: object, config: unknown, ...rest: unknown[]) {
    const text = typeof config === "string" ? config : ((config as { text?: string } | null)?.text ?? "");
    const t = text.trim().toLowerCase();
    if (t.startsWith("begin")) inTx.add(this);
    note(text, inTx.has(this));
    if (t === "commit" || t === "rollback") inTx.delete(this);
    return original.call(this, config, ...rest);
  };
  } catch {
    // not installed where the server runs
  }
}

const file = process.env.BENCH_COUNT_FILE;
if (file) {
  installCounters(process.argv[1] ?? import.meta.url);
  process.on("SIGUSR2", () => writeFileSync(file, JSON.stringify(takeCounts())));
}
