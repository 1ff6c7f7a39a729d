import {
  GraphQLError,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type ASTNode,
  type DocumentNode,
  type GraphQLSchema,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  validate,
} from "graphql";
import { AppError, ErrorCatalog } from "../errors.js";
import type { Role } from "../store/types.js";

/** Limits on one operation. */
export interface CostLimits {
  /** Deepest field nesting allowed. @default 10 */
  maxDepth: number;
  /** Highest cost allowed (see {@link queryCostRule} for how cost adds up). @default 5000 */
  maxComplexity: number;
}

export const DEFAULT_COST_LIMITS: CostLimits = { maxDepth: 10, maxComplexity: 5000 };

/**
 * Limits per role. A CLIENT (publishable) key only starts, checks and reads verifications (each
 * declared at {@link OPERATION_COST}), so its budget is a few of those, not an admin's report.
 */
export type CostLimitsByRole = Record<Role, CostLimits>;

/** The declared cost of an operation that reads and writes the database (start, check, read). */
export const OPERATION_COST = 10;

/**
 * Prices an already valid document against `limits`: the cost rule alone (the specified rules ran
 * before). Empty when it fits; otherwise one QUERY_TOO_COMPLEX error.
 */
export function costErrors(schema: GraphQLSchema, document: DocumentNode, limits: CostLimits): readonly GraphQLError[] {
  return validate(schema, document, [queryCostRule(limits)]);
}

/** List arguments whose value multiplies the cost of what is selected below the field. */
const LIST_SIZE_ARGS = new Set(["first", "limit"]);
/** A list size given as a variable is unknown at validation time: it is priced at this (the largest page). */
const ASSUMED_LIST_SIZE = 100;

interface Measure {
  depth: number;
  cost: number;
}

/**
 * A validation rule that refuses operations deeper than `maxDepth` or costlier than `maxComplexity`
 * (QUERY_TOO_COMPLEX, 20400), so one request, however many aliases or nested lists it packs, cannot
 * take the server down. Being a validation rule, it runs before any resolver, over HTTP (Apollo) and
 * over WebSocket (graphql-ws) alike.
 *
 * Cost, in the spirit of GitHub's GraphQL limits (what it takes to fetch, not how many scalars come
 * back): a field costs its declared complexity (type-graphql's `complexity` option, e.g. 250 for a
 * field that reads the database), else 1 for an object and 0 for a scalar; what is selected below a
 * field with a `first` or `limit` argument counts that many times (a variable counts as the largest
 * page). Aliases count each time they appear. Fragments are expanded (each
 * measured once, so nesting fragments cannot make the rule itself slow). Introspection fields are
 * left to graphql-js' own MaxIntrospectionDepthRule.
 */
export function queryCostRule(limits: CostLimits = DEFAULT_COST_LIMITS): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const memo = new Map<string, Measure>();
    const schema = context.getSchema();

    const measure = (set: SelectionSetNode, parent: GraphQLNamedType | null | undefined, path: Set<string>): Measure => {
      let depth = 0;
      let cost = 0;
      for (const sel of set.selections) {
        let m: Measure;
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith("__")) continue;
          m = measureField(sel, parent, path);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          const type = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
          m = measure(sel.selectionSet, type, path);
        } else {
          const name = sel.name.value;
          const frag = fragments.get(name);
          // A cycle or an unknown fragment: other rules report it; it adds nothing here.
          if (!frag || path.has(name)) continue;
          let known = memo.get(name);
          if (!known) {
            known = measure(frag.selectionSet, schema.getType(frag.typeCondition.name.value), new Set(path).add(name));
            memo.set(name, known);
          }
          m = known;
        }
        depth = Math.max(depth, m.depth);
        cost += m.cost;
      }
      return { depth, cost };
    };

    const measureField = (node: FieldNode, parent: GraphQLNamedType | null | undefined, path: Set<string>): Measure => {
      const def: GraphQLField<unknown, unknown> | undefined = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[node.name.value] : undefined;
      const declared = typeof def?.extensions?.complexity === "number" ? def.extensions.complexity : null;
      // A scalar is read off an object already fetched: free unless it declares a cost of its own.
      if (!node.selectionSet) return { depth: 1, cost: declared ?? 0 };
      const own = declared ?? 1;
      const below = measure(node.selectionSet, def ? getNamedType(def.type) : undefined, path);
      return { depth: 1 + below.depth, cost: own + listSize(node) * below.cost };
    };

    return {
      OperationDefinition(op) {
        const { depth, cost } = measure(op.selectionSet, schema.getRootType(op.operation), new Set());
        if (depth > limits.maxDepth) context.reportError(tooComplex(`The query is nested ${depth} levels deep; at most ${limits.maxDepth} are allowed`, op));
        else if (cost > limits.maxComplexity) context.reportError(tooComplex(`The query costs ${cost}; at most ${limits.maxComplexity} is allowed (lower first/limit or select fewer fields)`, op));
        return false; // measured in one go above; no need to walk it again
      },
    };
  };
}

function listSize(node: FieldNode): number {
  let size = 1;
  for (const arg of node.arguments ?? []) {
    if (!LIST_SIZE_ARGS.has(arg.name.value)) continue;
    if (arg.value.kind === Kind.INT) size = Math.max(size, Number(arg.value.value));
    else if (arg.value.kind === Kind.VARIABLE) size = Math.max(size, ASSUMED_LIST_SIZE);
  }
  return size;
}

/**
 * A validation error carrying our code. Apollo relabels validation errors GRAPHQL_VALIDATION_FAILED
 * but keeps `originalError`, which the one error formatter (graphql/errors.ts) unwraps to this AppError.
 */
function tooComplex(message: string, node: ASTNode): GraphQLError {
  return new GraphQLError(message, {
    nodes: [node],
    originalError: new AppError("QUERY_TOO_COMPLEX", message),
    extensions: { code: "QUERY_TOO_COMPLEX", errorCode: ErrorCatalog.QUERY_TOO_COMPLEX.errorCode },
  });
}
