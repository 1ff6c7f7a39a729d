import { GraphQLError, visit, type DocumentNode } from "graphql";
import { invalidParameter } from "../errors.js";

/**
 * The longest string any argument may carry. Fields have their own, tighter limits where the domain
 * knows them (names, templates, PSD2, tags, codes: src/text-rules.ts and the rules beside each
 * operation); this one bounds every other string argument and input field, so none is unbounded.
 */
export const MAX_STRING_ARGUMENT = 4_096;

/**
 * The first string longer than {@link MAX_STRING_ARGUMENT}, in the document's literals or in the
 * variables, as a 60200 error naming where it is; null when there is none. Runs on the parsed request
 * before any resolver, over HTTP and WebSocket alike.
 */
export function oversizedString(document: DocumentNode, variables: Record<string, unknown> | null | undefined): GraphQLError | null {
  let found: string | null = null;
  visit(document, {
    StringValue(node) {
      if (!found && node.value.length > MAX_STRING_ARGUMENT) found = "a string in the query";
    },
  });
  found ??= longVariable(variables ?? {}, "variables");
  if (!found) return null;
  const err = invalidParameter(found, `strings are at most ${MAX_STRING_ARGUMENT} characters`);
  return new GraphQLError(err.message, { originalError: err, extensions: { code: err.code, http: { status: 400 } } });
}

function longVariable(value: unknown, path: string): string | null {
  if (typeof value === "string") return value.length > MAX_STRING_ARGUMENT ? path : null;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const hit = longVariable(v, `${path}[${i}]`);
      if (hit) return hit;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const hit = longVariable(v, `${path}.${k}`);
      if (hit) return hit;
    }
  }
  return null;
}

