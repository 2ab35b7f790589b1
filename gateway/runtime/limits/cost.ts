/**
 * The estimated cost of an operation, in rows, computed before it is planned:
 *
 *  - each root field is one fetch: 1;
 *  - a list of objects is as many rows as it may hold, times the objects it hangs from:
 *    a connection's `nodes`/`edges` hold its `first` or `last` argument (a literal, a
 *    variable, or the default page size, at most the page maximum of 100, common/pagination.ts); a list
 *    without paging holds the page maximum too, or the cap its resolver documents;
 *  - crossing into another subgraph (an entity hop) fetches every object reached so far
 *    again: one representation each.
 *
 * So `patients(first:100) { nodes { labResults(first:100) { nodes { patient {
 * labResults(first:100) { nodes { value } } } } } } }` costs 1 + 100 + 100 (hop to labs)
 * + 100·100 + 100·100·100 = 1,010,201 rows, and is refused long before any subgraph or
 * the consent gate sees it.
 *
 * Why written here rather than taken from a library: graphql-armor's cost limit (used for
 * nothing else here) prices every field flat with a depth factor and never multiplies by
 * `first`; graphql-query-complexity multiplies but works on one schema and cannot see
 * Federation's subgraph boundaries, which only the supergraph's join directives reveal
 * (ownership.ts). Entity hops are what make a federated query expensive, so the model
 * must count them.
 *
 * The cost is linear in the number of parent objects, so each fragment is priced once per
 * (type, subgraph, page size) and reused: fragments spread inside fragments cannot make
 * the estimate itself exponential. The same walk counts the fields the operation has once
 * its fragments are expanded (`fields`): a few fragments spreading each other twice make
 * millions of fields out of a few hundred tokens, which the query planner would expand.
 */
import {
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromAST,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../../common/pagination';
import type { Ownership } from './ownership';

/** Unpaged lists whose resolvers cap them below or above the page maximum (their SDL says so). */
export const LIST_CAPS: Record<string, number> = {
  'Query.breakGlassReviews': 500,
  'BreakGlassAccess.accesses': 1000,
};

export interface CostInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables?: Record<string, unknown> | null;
  ownership: Ownership;
}

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

export interface Estimate {
  /** Estimated rows read. */
  rows: number;
  /** Fields once fragments are expanded. */
  fields: number;
}

const add = (a: Estimate, b: Estimate): Estimate => ({ rows: a.rows + b.rows, fields: a.fields + b.fields });

export function estimateCost({ schema, document, operation, variables, ownership }: CostInput): Estimate {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const memo = new Map<string, Estimate>();

  /**
   * How many a paginated field's connection holds: its `first` or `last`, within
   * 0..MAX_PAGE_SIZE; neither given, the schema default or DEFAULT_PAGE_SIZE, as the
   * resolver will (common/pagination.ts).
   */
  const pageSize = (field: GraphQLField<unknown, unknown>, node: FieldNode): number | undefined => {
    const sizeArgs = field.args.filter((a) => a.name === 'first' || a.name === 'last');
    if (!sizeArgs.length) return undefined;
    let value: unknown;
    for (const arg of sizeArgs) {
      const given = node.arguments?.find((a) => a.name.value === arg.name);
      const v = given ? valueFromAST(given.value, arg.type, variables ?? undefined) : undefined;
      if (v !== undefined && v !== null) value = Math.max(Number(value ?? 0), Number(v));
    }
    if (value === undefined) value = sizeArgs.find((a) => a.defaultValue != null)?.defaultValue ?? DEFAULT_PAGE_SIZE;
    const n = typeof value === 'number' && Number.isFinite(value) ? value : MAX_PAGE_SIZE;
    return Math.min(Math.max(n, 0), MAX_PAGE_SIZE);
  };

  /** Rows for one parent object reached in `graph` (undefined at the root). */
  const unit = (set: SelectionSetNode, parent: GraphQLCompositeType, graph: string | undefined, page: number | undefined): Estimate => {
    let total: Estimate = { rows: 0, fields: 0 };
    for (const sel of set.selections) {
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        const on = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        if (on && isCompositeType(on)) total = add(total, unit(sel.selectionSet, on, graph, page));
        continue;
      }
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(sel.name.value);
        const on = fragment && schema.getType(fragment.typeCondition.name.value);
        if (!fragment || !on || !isCompositeType(on)) continue;
        const key = `${fragment.name.value}|${on.name}|${graph ?? ''}|${page ?? ''}`;
        let cost = memo.get(key);
        if (cost === undefined) {
          memo.set(key, { rows: 0, fields: 0 }); // a cycle (refused by validation anyway) counts nothing
          cost = unit(fragment.selectionSet, on, graph, page);
          memo.set(key, cost);
        }
        total = add(total, cost);
        continue;
      }
      const name = sel.name.value;
      total = add(total, { rows: 0, fields: 1 });
      if (name.startsWith('__')) continue; // __typename, introspection
      if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
      const field = parent.getFields()[name];
      if (!field) continue;
      const owners = ownership.owners(parent.name, name);
      let here = graph;
      let cost: Estimate = { rows: 0, fields: 0 };
      if (graph === undefined) {
        cost.rows += 1; // a root field: one fetch
        here = owners[0];
      } else if (owners.length && !owners.includes(graph)) {
        cost.rows += 1; // an entity hop: this object is fetched again from its owner
        here = owners[0];
      }
      const named = getNamedType(field.type);
      if (isCompositeType(named)) {
        const rows = isList(field.type) ? (page ?? LIST_CAPS[`${parent.name}.${name}`] ?? MAX_PAGE_SIZE) : 1;
        if (isList(field.type)) cost.rows += rows;
        if (sel.selectionSet) {
          const child = unit(sel.selectionSet, named, here, pageSize(field, sel));
          cost = { rows: cost.rows + rows * child.rows, fields: cost.fields + child.fields };
        }
      }
      total = add(total, cost);
    }
    return total;
  };

  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'query' ? schema.getQueryType() : null;
  return root ? unit(operation.selectionSet, root, undefined, undefined) : { rows: 0, fields: 0 };
}
