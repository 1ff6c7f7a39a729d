import { AppError } from "../errors.js";
import { invalidParam } from "./errors.js";

/**
 * Strict reading of a request's parameters (the form body of a POST, the query of a GET) by Twilio's
 * PascalCase names. Twilio ignores what it does not know; we do not: a misspelt parameter that is
 * silently dropped is a verification sent without the setting its caller asked for. So:
 * - a parameter the endpoint does not know answers 60200 naming it;
 * - one of Twilio's that verify-guard does not implement answers 501 (20501) naming it;
 * - a value of the wrong type, or given twice, answers 60200 naming the parameter.
 */

/** The type of one parameter: text, `true`/`false`, an integer, a JSON value, or one of a few words. */
export type ParamType = "string" | "boolean" | "integer" | "json" | readonly string[];

export type ParamSpec = Record<string, ParamType>;

type ValueOf<T> = T extends "string" ? string : T extends "boolean" ? boolean : T extends "integer" ? number : T extends "json" ? unknown : T extends readonly (infer E)[] ? E : never;

export type Params<S extends ParamSpec> = { [K in keyof S]?: ValueOf<S[K]> };

export interface ParamRules<S extends ParamSpec> {
  /** Parameters that must be present (and not empty). */
  required?: readonly (keyof S & string)[];
  /** Twilio's parameters of this endpoint that verify-guard does not implement (answered 501). */
  unsupported?: readonly string[];
}

/** Parses `raw` (from express: strings, or arrays of strings for repeated keys) against `spec`. */
export function readParams<S extends ParamSpec>(raw: Record<string, unknown> | undefined, spec: S, rules: ParamRules<S> = {}): Params<S> {
  const out: Record<string, unknown> = {};
  const given = raw ?? {};
  for (const name of Object.keys(given).sort()) {
    const value = given[name];
    if (!Object.hasOwn(spec, name)) {
      if (rules.unsupported?.includes(name)) {
        throw new AppError("NOT_IMPLEMENTED", `Parameter \`${name}\` is not supported by verify-guard (see docs/twilio-compat.md)`, { detail: { field: name } });
      }
      throw invalidParam(name, "unknown parameter for this resource");
    }
    if (typeof value !== "string") throw invalidParam(name, "given more than once");
    out[name] = parseValue(name, value, spec[name]!);
  }
  for (const name of rules.required ?? []) {
    if (out[name] === undefined || out[name] === "") throw invalidParam(name, "required");
  }
  return out as Params<S>;
}

function parseValue(name: string, value: string, type: ParamType): unknown {
  if (type === "string") return value;
  if (type === "boolean") {
    if (value === "true" || value === "True") return true;
    if (value === "false" || value === "False") return false;
    throw invalidParam(name, "must be true or false");
  }
  if (type === "integer") {
    if (!/^-?\d{1,9}$/.test(value)) throw invalidParam(name, "must be an integer");
    return Number(value);
  }
  if (type === "json") {
    try {
      return JSON.parse(value);
    } catch {
      throw invalidParam(name, "must be JSON");
    }
  }
  const word = value.toLowerCase();
  if (!type.includes(word)) throw invalidParam(name, `must be one of ${type.join(", ")}`);
  return word;
}

/** A JSON object of string values (Tags, RateLimits); numbers and booleans are taken as their text. */
export function stringMap(name: string, value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidParam(name, "must be a JSON object");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "string") out[k] = v;
    else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
    else throw invalidParam(name, `the value of "${k.slice(0, 64)}" must be a string`);
  }
  return out;
}
