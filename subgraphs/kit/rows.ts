/**
 * Rows of patient data — a lab result, a device, a reading — each have ONE visibility
 * rule, declared once per kind beside the subgraph's resolvers (`<subgraph>/rules.ts`):
 * the category it belongs to, whose it is, and what a consent's exceptions can name
 * about it (consent/exceptions.ts). The same rule is applied on every path to a row:
 *
 *   by id                 `visibleById` — unknown and hidden answer the same NOT_FOUND
 *   lists                 `rowFilters`  — the rule as SQL, so pages and totals agree
 *   references, payloads  the gate (gate.ts) checks `visible` on every field of the row
 */
import { GraphQLError } from 'graphql';
import { notFound } from '../../common/errors';
import { excluded, exclusionPredicates, type FactColumns, type RowFacts } from '../../consent/exceptions';
import type { PrincipalScope } from '../../consent/principals';
import type { Category } from '../../consent/vocabulary';
import type { Filter } from './child-pages';
import type { SubgraphContext } from './context';

export interface RowRule<T> {
  /** The GraphQL type, as NOT_FOUND errors name it. */
  kind: string;
  category: Category;
  patientOf(row: T): string;
  /** What an exception can name about the row; absent where the category takes none. */
  facts?(row: T): RowFacts;
  /** The SQL columns of those facts, for lists. */
  columns?: FactColumns;
}

/** Is `row` visible to this request? (One decision per patient and category, made once per request.) */
export async function visible<T>(ctx: SubgraphContext, rule: RowRule<T>, row: T): Promise<boolean> {
  const decision = await ctx.access.check(rule.patientOf(row), rule.category);
  return decision.allowed && !(rule.facts && decision.exclusions.length && excluded(decision.exclusions, rule.facts(row)));
}

/** `visible`, answered without waiting when the decision is already made (the gate's hot path). */
export function knownVisible<T>(ctx: SubgraphContext, rule: RowRule<T>, row: T): boolean | undefined {
  const decision = ctx.access.known(rule.patientOf(row), rule.category);
  if (!decision) return undefined;
  return decision.allowed && !(rule.facts && decision.exclusions.length && excluded(decision.exclusions, rule.facts(row)));
}

/** The error for a row that is unknown or hidden: the same either way, naming only the id asked for. */
export const hiddenRow = (rule: RowRule<unknown>, id: string): GraphQLError => notFound(rule.kind, id);

/** A row by id, if visible; unknown and hidden rows both answer NOT_FOUND. */
export async function visibleById<T>(ctx: SubgraphContext, rule: RowRule<T>, row: T | null, id: string): Promise<T> {
  if (!row || !(await visible(ctx, rule, row))) throw hiddenRow(rule as RowRule<unknown>, id);
  return row;
}

/**
 * The rule as SQL for a list of `patientId`'s rows, once the gate has decided the
 * category for this request. A patient whose category is denied gets `1 = 0`. `scope`
 * is the context the gate decided in (a research project's, for a research series).
 */
export async function rowFilters<T>(ctx: SubgraphContext, rule: RowRule<T>, patientId: string, scope: PrincipalScope = 'all'): Promise<Filter[]> {
  const decision = await ctx.access.check(patientId, rule.category, 'read', scope);
  if (!decision.allowed) return [{ sql: '1 = 0', params: {} }];
  if (!decision.exclusions.length) return [];
  if (!rule.columns) throw new Error(`${rule.kind} has exclusions but no fact columns`);
  return exclusionPredicates(decision.exclusions, rule.columns);
}
