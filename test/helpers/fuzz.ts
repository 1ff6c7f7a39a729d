import Database from "better-sqlite3";
import fc from "fast-check";
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from "graphql";
import { ErrorCatalog } from "../../src/errors.js";
import { queryDb, type TestServer } from "./harness.js";

/**
 * Fuzzing helpers (issue 13): hostile values for every kind of argument, a GraphQL operation
 * generated from the schema for every mutation, and the properties every answer must have.
 *
 * Budget: `FUZZ_RUNS` runs per property (default 20 in `npm test`; `npm run fuzz` sets thousands) and
 * `FUZZ_SEED` to replay a failure (fast-check prints the seed and the shrunk counterexample).
 */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 20);
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

/** Strings an attacker or a broken client sends: control, bidi, fullwidth, huge, JSON, SQL, format strings. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\n\r\t",
    "\u202Eevil",
    "\u2066x\u2069",
    "１２３４５６",
    "١٢٣٤٥٦",
    "'; drop table services; --",
    '{"$ne":null}',
    "%s%s%n",
    "{code}",
    "../../etc/passwd",
    "\uD800",
    "0".repeat(300),
    "x".repeat(5_000),
    "+",
    "+0",
    "+999999999999999999999",
    "NaN",
    "-1",
    "1e309",
  ),
  fc.integer().map(String),
);

/** Phone numbers: valid mobiles, near misses, and anything at all. */
export const phoneLike: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0, max: 999_999 }).map((n) => "+447400" + String(n).padStart(6, "0")),
  fc.stringMatching(/^\+?[0-9 ()-]{0,20}$/),
  fc.integer({ min: 0, max: 999_999 }).map((n) => "＋４４７４００" + String(n).padStart(6, "0")),
  hostileString,
);

/** Codes: plausible ones, fullwidth ones, and anything. */
export const codeLike: fc.Arbitrary<string> = fc.oneof(fc.stringMatching(/^[0-9]{4,10}$/), fc.stringMatching(/^[0-9A-Za-z]{1,12}$/), hostileString);

/** Ids: the fixture's real ones (so deeper code runs), well-formed unknown ones, and junk. */
export function idLike(real: string[]): fc.Arbitrary<string> {
  const hex = fc.stringMatching(/^[0-9a-f]{32}$/);
  return fc.oneof(fc.constantFrom(...real), hex.map((h) => "VA" + h), hex.map((h) => "VE" + h), hex.map((h) => "VK" + h), hostileString);
}

/** A value for a GraphQL input type, sometimes of the wrong type (the server must say so, coded). */
function inputValue(type: GraphQLInputType, ids: fc.Arbitrary<string>, depth = 0): fc.Arbitrary<unknown> {
  const wrong = fc.oneof(hostileString, fc.integer(), fc.boolean(), fc.constant(null), fc.constant({ unexpected: 1 }));
  const t = getNullableType(type) as GraphQLInputType;
  let right: fc.Arbitrary<unknown>;
  if (isListType(t)) right = fc.array(inputValue(t.ofType, ids, depth + 1), { maxLength: depth > 1 ? 2 : 5 });
  else if (isEnumType(t)) right = fc.constantFrom(...t.getValues().map((v) => v.name));
  else if (isInputObjectType(t)) {
    const fields = Object.values(t.getFields());
    right = depth > 3 ? fc.constant({}) : fc.record(Object.fromEntries(fields.map((f) => [f.name, argumentValue(f.name, f.type, ids, depth + 1)])), { requiredKeys: [] });
  } else if (isScalarType(t)) {
    switch (t.name) {
      case "Int":
        right = fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)));
        break;
      case "Float":
        right = fc.double({ noNaN: true });
        break;
      case "Boolean":
        right = fc.boolean();
        break;
      case "ID":
        right = ids;
        break;
      case "DateTimeISO":
        right = fc.oneof(fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()), hostileString);
        break;
      default:
        right = hostileString;
    }
  } else right = hostileString;
  return fc.oneof({ arbitrary: right, weight: 9 }, { arbitrary: wrong, weight: 1 });
}

/** Arguments by name where the name says more than the type (numbers, codes). */
function argumentValue(name: string, type: GraphQLInputType, ids: fc.Arbitrary<string>, depth: number): fc.Arbitrary<unknown> {
  const named = getNamedType(type);
  if (named.name === "String" && /^(to|number)$/i.test(name)) return fc.oneof({ arbitrary: phoneLike, weight: 9 }, { arbitrary: inputValue(type, ids, depth), weight: 1 });
  if (named.name === "String" && /code$/i.test(name)) return fc.oneof({ arbitrary: codeLike, weight: 9 }, { arbitrary: inputValue(type, ids, depth), weight: 1 });
  return inputValue(type, ids, depth);
}

/** One mutation with fuzzed variables: the document declares every argument as a variable of its own type. */
export interface FuzzOperation {
  field: string;
  query: string;
  variables: Record<string, unknown>;
}

export function mutationArbitraries(schema: GraphQLSchema, ids: fc.Arbitrary<string>): { field: string; arbitrary: fc.Arbitrary<FuzzOperation> }[] {
  const mutation = schema.getMutationType();
  if (!mutation) return [];
  return Object.values(mutation.getFields()).map((f: GraphQLField<unknown, unknown>) => {
    const args = f.args;
    const decl = args.length ? `(${args.map((a: GraphQLArgument) => `$${a.name}: ${a.type.toString()}`).join(", ")})` : "";
    const call = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(", ")})` : "";
    const selection = isObjectType(getNamedType(f.type)) ? " { __typename }" : "";
    const query = `mutation${decl} { ${f.name}${call}${selection} }`;
    const vars = fc.record(Object.fromEntries(args.map((a) => [a.name, argumentValue(a.name, a.type, ids, 0)])), { requiredKeys: [] });
    return { field: f.name, arbitrary: vars.map((variables) => ({ field: f.name, query, variables })) };
  });
}

const FINGERPRINT = `select
  (select count(*) from services) as services, (select max(updated_at) from services) as services_at,
  (select count(*) from api_keys) as keys, (select count(*) from api_keys where revoked_at is not null) as revoked,
  (select count(*) from verifications) as verifications, (select max(updated_at) from verifications) as verifications_at,
  (select count(*) from send_attempts) as sends, (select count(*) from delivery_jobs) as jobs,
  (select count(*) from safe_numbers) as safe, (select count(*) from geo_permissions) as geo,
  (select count(*) from blocked_prefixes) as blocked, (select count(*) from price_overrides) as prices,
  (select count(*) from approval_redemptions) as redemptions`;

/**
 * Reads what the database holds that a refused request must not change (the attempts log and the
 * counters may change: they record refusals on purpose). On SQLite through one read-only connection
 * kept open (the fuzz loop reads it twice per request).
 */
export function businessFingerprint(s: TestServer): { read(): string; close(): void } {
  if (s.app.config.database.kind !== "sqlite") return { read: () => JSON.stringify(queryDb(s, FINGERPRINT)[0]), close: () => undefined };
  const db = new Database(s.dbFile, { readonly: true, fileMustExist: true });
  const stmt = db.prepare(FINGERPRINT);
  return { read: () => JSON.stringify(stmt.get()), close: () => db.close() };
}

const CODES = new Set(Object.keys(ErrorCatalog));
const INTERNALS = /\bat [\w.<>]+ \(|\.ts:\d+|\.js:\d+|node_modules|SQLITE_|sqlite|postgres|TypeError|ReferenceError/;

/** A GraphQL answer's errors: each coded from the catalog, with its number, never INTERNAL, no internals. */
export function assertCodedErrors(body: { errors?: { message: string; extensions?: { code?: string; errorCode?: number } }[] }, context: string): void {
  for (const e of body.errors ?? []) {
    const code = e.extensions?.code;
    if (!code || !CODES.has(code)) throw new Error(`${context}: an error without a catalog code: ${JSON.stringify(e)}`);
    if (code === "INTERNAL") throw new Error(`${context}: INTERNAL: ${JSON.stringify(e)}`);
    if (e.extensions?.errorCode !== ErrorCatalog[code as keyof typeof ErrorCatalog].errorCode) throw new Error(`${context}: wrong errorCode: ${JSON.stringify(e)}`);
    if (INTERNALS.test(e.message)) throw new Error(`${context}: internals in a message: ${e.message}`);
  }
}
