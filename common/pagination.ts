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
}

export interface Page {
  limit: number;
  /** Sort-key values of the last row the client saw, or null for the first page. */
  after: CursorValue[] | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, ...values]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): CursorValue[] {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badInput('Malformed cursor: pass back an endCursor exactly as it was returned', 'after');
  }
  if (
    !Array.isArray(parsed) ||
    parsed[0] !== CURSOR_VERSION ||
    parsed.length !== arity + 1 ||
    !parsed.slice(1).every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    throw badInput('Malformed cursor: it does not belong to this list', 'after');
  }
  return parsed.slice(1) as CursorValue[];
}

/** Validates `first`/`after` against the hard maximum page size. */
export function parsePage(args: PageArgs, arity: number, maxSize = MAX_PAGE_SIZE): Page {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw badInput('`first` must be a non-negative integer', 'first');
  if (first > maxSize) throw badInput(`\`first\` may be at most ${maxSize}`, 'first');
  return { limit: first, after: args.after ? decodeCursor(args.after, arity) : null };
}

/**
 * Builds a connection from rows fetched with `limit + 1` (the extra row only tells
 * whether another page exists and is not returned).
 */
export function toConnection<T>(rows: T[], limit: number, sortKey: (row: T) => CursorValue[]): Connection<T> {
  const nodes = rows.slice(0, limit);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(sortKey(node)), node }));
  return {
    edges,
    nodes,
    pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
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
