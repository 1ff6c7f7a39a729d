import type { Dialect } from "./sql/dialect.js";

/**
 * The roll-up counting rules, defined once. Each counter of risk_rollups / risk_prefix_rollups is a
 * condition on one decision row `r`; a decision adds 1 to every counter whose condition holds, in its
 * HOUR, DAY and prefix-DAY buckets. Everything that counts is derived from this table: the SQLite
 * triggers and the PostgreSQL trigger functions ({@link rollupTriggerDdl}, kept in the migrations and
 * checked against this file by test/stats.rollup-rules.test.ts), and the statistics queries that count
 * raw decisions for the partial buckets at the ends of a range (store/queries/stats.ts).
 */
export const ROLLUP_RULES: Record<(typeof COUNTERS)[number], (r: string, d: Dialect) => string> = {
  /** Every decision (starts and checks). */
  decisions: () => "true",
  allowed: (r) => `${r}.outcome = 'ALLOWED'`,
  /** Allowed starts: each sent a code. */
  sends: (r) => `${r}.kind = 'START' and ${r}.outcome = 'ALLOWED'`,
  checks: (r) => `${r}.kind = 'CHECK'`,
  /** Blocked starts except invalid input (60200, which could never be sent): sends the guard prevented. */
  prevented: (r) => `${r}.kind = 'START' and ${r}.outcome = 'BLOCKED' and coalesce(${r}.error_code, 0) <> 60200`,
  /** Sends whose verification was approved later. */
  converted: (r) => `${r}.converted`,
  /** Approved verifications, counted once: at the first allowed start of the verification. */
  approvals: (r, d) => `${r}.converted and ${firstSend(r, d)}`,
  /** Allowed decisions a stage in shadow mode would have blocked. */
  shadowed: (r) => `${r}.outcome = 'ALLOWED' and ${r}.shadow is not null`,
};

/** The counters, in column order. */
export const COUNTERS = ["decisions", "allowed", "sends", "checks", "prevented", "converted", "approvals", "shadowed"] as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Is `r` the first allowed START of its verification (ties in time broken by id, bytewise)? On
 * PostgreSQL a SQL function of that name holds the expression (the triggers and queries call it).
 */
function firstSend(r: string, d: Dialect): string {
  return d.name === "postgres" ? `risk_decision_first_send(${r})` : firstSendExpr(r, d);
}

function firstSendExpr(r: string, d: Dialect): string {
  return `${r}.kind = 'START' and ${r}.outcome = 'ALLOWED' and (${r}.verification_id is null or not exists (
    select 1 from risk_decisions e
    where e.verification_id = ${r}.verification_id and e.kind = 'START' and e.outcome = 'ALLOWED'
      and (e.created_at < ${r}.created_at or (e.created_at = ${r}.created_at and ${d.bytewise("e.id")} < ${d.bytewise(`${r}.id`)}))))`;
}

/** A rule as a 0/1 integer (SQLite's booleans are integers already). */
const asInt = (expr: string, d: Dialect) => (d.name === "postgres" ? `(${expr})::integer` : expr);

/** The counters of one raw decision `r`, as a select list (`… as decisions, …`): what a roll-up row adds. */
export function logCounters(r: string, d: Dialect): string {
  return COUNTERS.map((c) => `${c === "decisions" ? "1" : asInt(ROLLUP_RULES[c](r, d), d)} as ${c}`).join(",\n  ");
}

/** The buckets a decision counts in, with their key columns (each key '' or 0 for "none"). */
function buckets(r: string): { table: string; keys: [column: string, value: string][] }[] {
  const dims = (prefix: boolean): [string, string][] => [
    ["service_id", `${r}.service_id`],
    ...(prefix ? ([["prefix", `coalesce(${r}.prefix, '')`]] as [string, string][]) : []),
    ["country", `coalesce(${r}.country, '')`],
    ["channel", `coalesce(${r}.channel, '')`],
    ["stage", `coalesce(${r}.stage, '')`],
    ["error_code", `coalesce(${r}.error_code, 0)`],
  ];
  const start = (unit: number) => `${r}.created_at - ${r}.created_at % ${unit}`;
  return [
    { table: "risk_rollups", keys: [["span", "'HOUR'"], ["bucket", start(HOUR_MS)], ...dims(false)] },
    { table: "risk_rollups", keys: [["span", "'DAY'"], ["bucket", start(DAY_MS)], ...dims(false)] },
    { table: "risk_prefix_rollups", keys: [["day", start(DAY_MS)], ...dims(true)] },
  ];
}

/** The conflict target of each roll-up table: its primary key (schema/tables.ts). */
const PRIMARY_KEY: Record<string, string> = {
  risk_rollups: "span, service_id, bucket, country, channel, stage, error_code",
  risk_prefix_rollups: "service_id, day, prefix, country, channel, stage, error_code",
};

/**
 * The DDL that keeps the roll-ups in step with the log: an AFTER INSERT trigger adding a decision to
 * its buckets, and an AFTER UPDATE OF converted trigger moving the conversion counters. Triggers run
 * in the statement's own transaction, so the counters never drift from the log; the three roll-up rows
 * are always touched in the same order, which keeps concurrent inserts on PostgreSQL deadlock-free.
 * Statements are separated by drizzle's `--> statement-breakpoint`.
 */
export function rollupTriggerDdl(d: Dialect): string {
  const header = "-- Generated from src/store/rollups.ts (npm run db:rollups): the roll-up triggers, re-created from the rules.\n";
  return header + (d.name === "sqlite" ? sqliteTriggers(d) : pgTriggers(d)).join("\n--> statement-breakpoint\n") + "\n";
}

function sqliteTriggers(d: Dialect): string[] {
  // The INSERT … VALUES … ON CONFLICT … SET c = c + excluded.c form is what bench/lib/bulk-load.ts reads.
  const inserts = buckets("NEW").map(({ table, keys }) => {
    const counters = COUNTERS.map((c) => (c === "decisions" ? "1" : ROLLUP_RULES[c]("NEW", d)));
    return `  INSERT INTO ${table} (${[...keys.map(([k]) => k), ...COUNTERS].join(", ")})
  VALUES (${[...keys.map(([, v]) => v), ...counters].join(", ")})
  ON CONFLICT (${PRIMARY_KEY[table]}) DO UPDATE SET ${COUNTERS.map((c) => `${c} = ${c} + excluded.${c}`).join(", ")};`;
  });
  const updates = buckets("NEW").map(({ table, keys }) =>
    `  UPDATE ${table} SET converted = converted + (NEW.converted - OLD.converted),
    approvals = approvals + CASE WHEN ${firstSend("NEW", d)} THEN NEW.converted - OLD.converted ELSE 0 END
  WHERE ${keys.map(([k, v]) => `${k} = ${v}`).join(" AND ")};`,
  );
  return [
    "DROP TRIGGER IF EXISTS `risk_rollups_after_insert`;",
    "DROP TRIGGER IF EXISTS `risk_rollups_after_convert`;",
    `CREATE TRIGGER \`risk_rollups_after_insert\` AFTER INSERT ON \`risk_decisions\`\nBEGIN\n${inserts.join("\n")}\nEND;`,
    `CREATE TRIGGER \`risk_rollups_after_convert\` AFTER UPDATE OF \`converted\` ON \`risk_decisions\`\nWHEN NEW.converted <> OLD.converted\nBEGIN\n${updates.join("\n")}\nEND;`,
  ];
}

function pgTriggers(d: Dialect): string[] {
  const declare = COUNTERS.filter((c) => c !== "decisions").map((c) => `  c_${c} integer := ${asInt(ROLLUP_RULES[c]("NEW", d), d)};`);
  const inserts = buckets("NEW").map(({ table, keys }) =>
    `  INSERT INTO ${table} AS r (${[...keys.map(([k]) => k), ...COUNTERS].join(", ")})
  VALUES (${[...keys.map(([, v]) => v), "1", ...COUNTERS.slice(1).map((c) => `c_${c}`)].join(", ")})
  ON CONFLICT (${PRIMARY_KEY[table]}) DO UPDATE SET ${COUNTERS.map((c) => `${c} = r.${c} + excluded.${c}`).join(", ")};`,
  );
  const updates = buckets("NEW").map(({ table, keys }) =>
    `  UPDATE ${table} SET converted = converted + d_converted, approvals = approvals + d_approvals
  WHERE ${keys.map(([k, v]) => `${k} = ${v}`).join(" AND ")};`,
  );
  return [
    `CREATE OR REPLACE FUNCTION risk_decision_first_send(d risk_decisions) RETURNS boolean LANGUAGE sql STABLE AS $$\n  SELECT ${firstSendExpr("d", d)}\n$$;`,
    `CREATE OR REPLACE FUNCTION risk_rollups_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n${declare.join("\n")}\nBEGIN\n${inserts.join("\n")}\n  RETURN NULL;\nEND\n$$;`,
    `CREATE OR REPLACE FUNCTION risk_rollups_after_convert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d_converted integer := NEW.converted::integer - OLD.converted::integer;
  d_approvals integer := CASE WHEN ${firstSend("NEW", d)} THEN NEW.converted::integer - OLD.converted::integer ELSE 0 END;
BEGIN
${updates.join("\n")}
  RETURN NULL;
END
$$;`,
    "DROP TRIGGER IF EXISTS risk_rollups_after_insert ON risk_decisions;",
    "CREATE TRIGGER risk_rollups_after_insert AFTER INSERT ON risk_decisions FOR EACH ROW EXECUTE FUNCTION risk_rollups_after_insert();",
    "DROP TRIGGER IF EXISTS risk_rollups_after_convert ON risk_decisions;",
    "CREATE TRIGGER risk_rollups_after_convert AFTER UPDATE OF converted ON risk_decisions\nFOR EACH ROW WHEN (NEW.converted IS DISTINCT FROM OLD.converted) EXECUTE FUNCTION risk_rollups_after_convert();",
  ];
}
