/**
 * Relay-style cursor pagination with keyset (seek) queries: a page costs the same at
 * row 10 and at row 10,000,000, and rows inserted meanwhile never shift a page.
 *
 * A cursor is opaque to clients: base64url of `[version, ...sortKeyValues]`. Anything
 * that does not decode to the expected shape is a BAD_USER_INPUT, never a crash.
 */
import { badInput } from './errors';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
const CURSOR_VERSION = 1;

export type CursorValue = string | number;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/**
 * A validated page request, Relay Cursor Connections semantics: `after` and `before`
 * bound the list (either, both or neither); `first` takes rows from the start of what
 * remains, `last` from its end (`backward`). Neither given: the first DEFAULT_PAGE_SIZE.
 */
export interface Page {
  limit: number;
  /** Sort-key values of the row the page starts strictly after, or null. */
  after: CursorValue[] | null;
  /** Sort-key values of the row the page ends strictly before, or null. */
  before: CursorValue[] | null;
  /** `last` was asked for: fetch in reverse order, LIMIT, then flip. */
  backward: boolean;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
}

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, ...values]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, arity: number, argument: 'after' | 'before' = 'after'): CursorValue[] {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput('Malformed cursor: pass back a startCursor or endCursor exactly as it was returned', argument);
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== CURSOR_VERSION ||
    parsed.length !== arity + 1 ||
    !parsed.slice(1).every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    throw badInput('Malformed cursor: it does not belong to this list', argument);
  }
  return parsed.slice(1) as CursorValue[];
}

function pageSize(value: number, name: 'first' | 'last', maxSize: number): number {
  if (!Number.isInteger(value) || value < 0) throw badInput(`\`${name}\` must be a non-negative integer`, name);
  if (value > maxSize) throw badInput(`\`${name}\` may be at most ${maxSize}`, name);
  return value;
}

/** Validates `first`/`after`/`last`/`before` against the hard maximum page size. */
export function parsePage(args: PageArgs, arity: number, maxSize = MAX_PAGE_SIZE): Page {
  const hasFirst = args.first !== undefined && args.first !== null;
  const hasLast = args.last !== undefined && args.last !== null;
  // The spec discourages both; what they would mean together is never what a client wants.
  if (hasFirst && hasLast) throw badInput('Pass `first` or `last`, not both', 'last');
  const limit = hasLast ? pageSize(args.last!, 'last', maxSize) : pageSize(args.first ?? DEFAULT_PAGE_SIZE, 'first', maxSize);
  return {
    limit,
    after: args.after ? decodeCursor(args.after, arity, 'after') : null,
    before: args.before ? decodeCursor(args.before, arity, 'before') : null,
    backward: hasLast,
  };
}

/**
 * Builds a connection from rows fetched in `fetchOrder(sort, page)` with `limit + 1` (the
 * extra row only tells whether more rows lie beyond the page and is not returned). A
 * backward page was fetched in reverse and is flipped back into the list's order here.
 *
 * The far side of the cursor is not queried: a page after a cursor says it has a previous
 * page, one before a cursor that it has a next page (the spec's "may", answered cheaply);
 * the near side — what `hasNextPage` of a `first` page and `hasPreviousPage` of a `last`
 * page promise — is exact.
 */
export function toConnection<T>(rows: T[], page: Page, sortKey: (row: T) => CursorValue[]): Connection<T> {
  const more = rows.length > page.limit;
  const nodes = rows.slice(0, page.limit);
  if (page.backward) nodes.reverse();
  const edges = nodes.map((node) => ({ cursor: encodeCursor(sortKey(node)), node }));
  return {
    edges,
    nodes,
    pageInfo: {
      hasNextPage: page.backward ? page.before !== null : more,
      hasPreviousPage: page.backward ? more : page.after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

export type SortDirection = 'ASC' | 'DESC';
export interface SortColumn {
  /** Column expression as written in SQL, e.g. `r.effective_at`. */
  column: string;
  direction: SortDirection;
}

/**
 * The seek predicate "strictly after the cursor row" for a multi-column sort, written as
 * an OR of prefixes so that it works the same on SQLite and PostgreSQL regardless of mixed
 * directions: (a > :a) OR (a = :a AND b > :b) ...
 */
export function keysetPredicate(
  sort: SortColumn[],
  after: CursorValue[],
  paramPrefix = 'k',
): { sql: string; params: Record<string, CursorValue> } {
  const params: Record<string, CursorValue> = {};
  sort.forEach((_, i) => (params[`${paramPrefix}${i}`] = after[i]!));
  const disjuncts = sort.map((col, i) => {
    const equalities = sort.slice(0, i).map((prev, j) => `${prev.column} = :${paramPrefix}${j}`);
    const op = col.direction === 'ASC' ? '>' : '<';
    return [...equalities, `${col.column} ${op} :${paramPrefix}${i}`].join(' AND ');
  });
  return { sql: `(${disjuncts.map((d) => `(${d})`).join(' OR ')})`, params };
}

export function orderBy(sort: SortColumn[]): string {
  return sort.map((s) => `${s.column} ${s.direction}`).join(', ');
}

const flip = (d: SortDirection): SortDirection => (d === 'ASC' ? 'DESC' : 'ASC');

/** The order rows are fetched in: the list's own, or its reverse for a `last` page. */
export function fetchOrder(sort: SortColumn[], page: Page): SortColumn[] {
  return page.backward ? sort.map((s) => ({ column: s.column, direction: flip(s.direction) })) : sort;
}

/** The seek predicates of a page's cursors: strictly after `after`, strictly before `before`. */
export function seekPredicates(sort: SortColumn[], page: Page): { sql: string; params: Record<string, CursorValue> }[] {
  const seeks = [];
  if (page.after) seeks.push(keysetPredicate(sort, page.after, 'ka'));
  // "Strictly before" in the list's order is "strictly after" in the reversed order.
  if (page.before) seeks.push(keysetPredicate(fetchOrder(sort, { ...page, backward: true }), page.before, 'kb'));
  return seeks;
}

/** The part of a TypeORM SelectQueryBuilder that paging needs. */
export interface PageableQuery {
  andWhere(sql: string, params: Record<string, unknown>): this;
  addOrderBy(column: string, direction: SortDirection): this;
  limit(n: number): this;
}

/** Adds a page's seeks, order and LIMIT (limit + 1) to a query; feed its rows to toConnection. */
export function pageQuery<Q extends PageableQuery>(qb: Q, sort: SortColumn[], page: Page): Q {
  for (const seek of seekPredicates(sort, page)) qb.andWhere(seek.sql, seek.params);
  for (const s of fetchOrder(sort, page)) qb.addOrderBy(s.column, s.direction);
  return qb.limit(page.limit + 1);
}
