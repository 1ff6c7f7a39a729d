import type Database from "better-sqlite3";

/**
 * Bulk loading into a table whose AFTER INSERT triggers keep additive roll-ups, for the admin-query
 * benchmark's million seeded decisions. Row by row, the roll-up triggers (three upserts per row) and
 * the secondary indexes are most of the load time: about a minute for 1,000,000 rows on a 2-core
 * machine. So, on an empty table, the load runs without them, and then
 *   1. the indexes are created again from their own DDL (one sorted build each), and
 *   2. each trigger's INSERT … VALUES (…) ON CONFLICT (keys) DO UPDATE SET c = c + excluded.c is run
 *      once, set-based: the same expressions over every row (the table aliased as NEW), grouped by
 *      the conflict keys, summing the additive columns. That is what the trigger would have summed
 *      row by row, provided rows arrive in time order (true of the seed).
 *   3. the triggers are created again from their own DDL.
 * Nothing here knows the roll-up schema: it reads the triggers from sqlite_master. A trigger of any
 * other shape, or a table or roll-up that is not empty, makes it fall back to the plain row-by-row
 * load (correct, only slower), and says why.
 */
export async function loadWithDeferredRollups<T>(
  sqlite: Database.Database,
  table: string,
  load: () => Promise<T>,
  log: (line: string) => void,
): Promise<T> {
  const triggers = sqlite
    .prepare(`select name, sql from sqlite_master where type = 'trigger' and tbl_name = ?`)
    .all(table) as { name: string; sql: string }[];
  const inserts = triggers.filter((t) => /\bAFTER\s+INSERT\s+ON\b/i.test(t.sql));
  const plans = inserts.map((t) => ({ trigger: t, rebuild: rebuildStatements(t.sql, table) }));
  const refuse = (why: string) => {
    log(`  (bulk load off: ${why}; loading row by row)`);
    return load();
  };
  const bad = plans.find((p) => typeof p.rebuild === "string");
  if (bad) return refuse(`trigger ${bad.trigger.name}: ${bad.rebuild as string}`);
  const count = (t: string) => (sqlite.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n;
  if (count(table) > 0) return refuse(`${table} is not empty`);
  const targets = [...new Set(plans.flatMap((p) => (p.rebuild as Rebuild[]).map((r) => r.target)))];
  const busy = targets.find((t) => count(t) > 0);
  if (busy) return refuse(`${busy} is not empty`);

  const indexes = sqlite
    .prepare(`select name, sql from sqlite_master where type = 'index' and tbl_name = ? and sql is not null`)
    .all(table) as { name: string; sql: string }[];
  for (const t of inserts) sqlite.exec(`drop trigger "${t.name}"`);
  for (const i of indexes) sqlite.exec(`drop index "${i.name}"`);
  try {
    return await load();
  } finally {
    sqlite.transaction(() => {
      for (const i of indexes) sqlite.exec(i.sql);
      for (const p of plans) for (const r of p.rebuild as Rebuild[]) sqlite.exec(r.sql);
      for (const t of inserts) sqlite.exec(t.sql);
    })();
  }
}

interface Rebuild {
  target: string;
  sql: string;
}

/** The set-based form of each statement of an additive roll-up trigger, or why there is none. */
function rebuildStatements(rawSql: string, table: string): Rebuild[] | string {
  const triggerSql = rawSql.replace(/--[^\n]*/g, ""); // line comments (none of ours hold "--" in a string)
  const body = /\bBEGIN\b([\s\S]*)\bEND\b\s*;?\s*$/i.exec(triggerSql)?.[1];
  if (!body) return "no BEGIN … END body";
  if (/\bWHEN\b/i.test(triggerSql.slice(0, triggerSql.search(/\bBEGIN\b/i)))) return "a WHEN clause";
  const out: Rebuild[] = [];
  for (const stmt of splitTopLevel(body, ";").filter((s) => s.trim())) {
    const head = /^\s*INSERT\s+INTO\s+([`"\w]+)\s*\(([^)]*)\)\s*VALUES\s*\(/i.exec(stmt);
    if (!head) return "a statement that is not INSERT … VALUES";
    const open = head[0].length - 1;
    const close = matchingParen(stmt, open);
    if (close < 0) return "unbalanced parentheses";
    const tail = /^\s*ON\s+CONFLICT\s*\(([^)]*)\)\s*DO\s+UPDATE\s+SET\s+([\s\S]*)$/i.exec(stmt.slice(close + 1));
    if (!tail) return "an INSERT without ON CONFLICT … DO UPDATE";
    const target = head[1]!;
    const cols = splitTopLevel(head[2]!, ",").map((c) => c.trim());
    const exprs = splitTopLevel(stmt.slice(open + 1, close), ",").map((e) => e.trim());
    const keys = splitTopLevel(tail[1]!, ",").map((k) => k.trim());
    if (cols.length !== exprs.length) return "column and value counts differ";
    const additive = new Set<string>();
    for (const set of splitTopLevel(tail[2]!, ",")) {
      const m = /^\s*(\w+)\s*=\s*(\w+)\s*\+\s*excluded\.(\w+)\s*$/i.exec(set);
      if (!m || m[1] !== m[2] || m[1] !== m[3]) return `an update that is not c = c + excluded.c (${set.trim().slice(0, 60)})`;
      additive.add(m[1]!);
    }
    const stray = cols.find((c) => !keys.includes(c) && !additive.has(c));
    if (stray) return `column ${stray} is neither a conflict key nor additive`;
    const inner = cols.map((c, i) => `${exprs[i]} AS ${c}`).join(", ");
    const outer = cols.map((c) => (keys.includes(c) ? c : `sum(${c})`)).join(", ");
    // Groups are written in the order the trigger would have created them (first row of each),
    // so the roll-up table's physical layout, and the queries' page reads, match the trigger path.
    out.push({
      target,
      sql: `INSERT INTO ${target} (${cols.join(", ")}) SELECT ${outer} FROM (SELECT ${inner}, "NEW".rowid AS bulk_rowid FROM ${table} AS "NEW") GROUP BY ${keys.join(", ")} ORDER BY min(bulk_rowid)`,
    });
  }
  return out.length ? out : "an empty body";
}

/** Splits on `sep` outside parentheses and quotes. */
function splitTopLevel(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"' || ch === "`") quote = ch;
    else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === sep && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** Index of the parenthesis closing the one at `open`, or -1. */
function matchingParen(s: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = open; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"' || ch === "`") quote = ch;
    else if (ch === "(") depth++;
    else if (ch === ")" && --depth === 0) return i;
  }
  return -1;
}
