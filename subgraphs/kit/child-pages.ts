/**
 * Paginated child lists (a patient's lab results, a device's readings, a project's
 * enrolments) resolved for many parents at once.
 *
 * When the gateway asks for `labResults(first: 5)` of 50 patients, the resolver runs 50
 * times in one tick. This loader answers all of them with ONE statement: a window
 * function numbers each parent's rows in sort order and keeps the first `limit + 1`,
 * so the page size still holds per parent and no parent can starve another. A `last`
 * page numbers rows in the reverse order and is flipped back by toConnection: the same
 * one statement, whichever end the client pages from.
 */
import DataLoader from 'dataloader';
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { num } from '../../common/database';
import {
  fetchOrder,
  orderBy,
  parsePage,
  seekPredicates,
  toConnection,
  type Connection,
  type CursorValue,
  type Page,
  type PageArgs,
  type SortColumn,
} from '../../common/pagination';
import type { SubgraphContext } from './context';
import { chunk } from './loaders';
import { openCursors, sealConnection, type CursorSeal } from './sealed-cursors';

export interface Filter {
  /** SQL over unqualified column names, with :named parameters. */
  sql: string;
  params: Record<string, unknown>;
}

export interface ChildListSpec<T> {
  /** Distinguishes loaders within a request, e.g. `Patient.labResults`. */
  name: string;
  entity: EntityTarget<T>;
  table: string;
  parentColumn: string;
  /** The sort, over unqualified column names; the last column must be unique (the id). */
  sort: SortColumn[];
  /** The cursor values of a row, in the order of `sort`. */
  sortKey: (row: T) => CursorValue[];
  /** The parent id of a row. */
  parentOf: (row: T) => string;
  filters: Filter[];
}

export type ChildConnection<T> = Connection<T> & { totalCount: () => Promise<number> };

function whereClause(filters: Filter[]): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  for (const f of filters) Object.assign(params, f.params);
  return { sql: filters.map((f) => `(${f.sql})`).join(' AND '), params };
}

export function childPage<T extends ObjectLiteral>(
  ctx: SubgraphContext,
  spec: ChildListSpec<T>,
  page: Page,
  parentId: string,
): Promise<ChildConnection<T>> {
  const signature = JSON.stringify([spec.name, spec.filters.map((f) => f.params), page]);
  const pages = ctx.loader(`page:${signature}`, () =>
    new DataLoader<string, T[]>(async (parentIds) => {
      const filters = [...spec.filters, ...seekPredicates(spec.sort, page)];
      const order = fetchOrder(spec.sort, page);
      const byParent = new Map<string, T[]>(parentIds.map((id) => [id, []]));
      for (const ids of chunk(parentIds)) {
        const where = whereClause([{ sql: `${spec.parentColumn} IN (:...parentIds)`, params: { parentIds: ids } }, ...filters]);
        const ranked =
          `SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY ${spec.parentColumn} ORDER BY ${orderBy(order)}) AS rn ` +
          `FROM ${spec.table} WHERE ${where.sql}) ranked WHERE rn <= :rowsPerParent`;
        const rows = await ctx.db
          .getRepository(spec.entity)
          .createQueryBuilder('row')
          .where(`row.id IN (${ranked})`, { ...where.params, rowsPerParent: page.limit + 1 })
          .getMany();
        for (const row of rows) byParent.get(spec.parentOf(row))?.push(row);
      }
      return parentIds.map((id) => sortRows(byParent.get(id) ?? [], order, spec.sortKey));
    }),
  );
  const counts = ctx.loader(`count:${JSON.stringify([spec.name, spec.filters.map((f) => f.params)])}`, () =>
    new DataLoader<string, number>(async (parentIds) => {
      const totals = new Map<string, number>();
      for (const ids of chunk(parentIds)) {
        const where = whereClause([{ sql: `${spec.parentColumn} IN (:...parentIds)`, params: { parentIds: ids } }, ...spec.filters]);
        const rows: { parent: string; total: unknown }[] = await ctx.db
          .createQueryBuilder()
          .select(`${spec.parentColumn}`, 'parent')
          .addSelect('COUNT(*)', 'total')
          .from(spec.table, 't')
          .where(where.sql, where.params)
          .groupBy(spec.parentColumn)
          .getRawMany();
        for (const r of rows) totals.set(r.parent, num(r.total) ?? 0);
      }
      return parentIds.map((id) => totals.get(id) ?? 0);
    }),
  );
  return pages.load(parentId).then((rows) => ({
    ...toConnection(rows, page, spec.sortKey),
    totalCount: () => counts.load(parentId),
  }));
}

/** Rows of one parent in fetch order (the window kept the right ones; IN (...) lost their order). */
function sortRows<T>(rows: T[], order: SortColumn[], sortKey: (row: T) => CursorValue[]): T[] {
  return rows.sort((a, b) => {
    const ka = sortKey(a);
    const kb = sortKey(b);
    for (let i = 0; i < order.length; i++) {
      if (ka[i] === kb[i]) continue;
      const less = ka[i]! < kb[i]!;
      return (less ? -1 : 1) * (order[i]!.direction === 'ASC' ? 1 : -1);
    }
    return 0;
  });
}

/**
 * childPage behind sealed cursors (sealed-cursors.ts), for lists whose plain cursors would
 * show a row id that leads back to a patient (the research series, a project's subjects):
 * the client's cursors opened, the page read, every cursor of the answer sealed.
 * `defaultFirst` replaces the default page size when neither `first` nor `last` is given.
 */
export async function sealedChildPage<T extends ObjectLiteral>(
  ctx: SubgraphContext,
  spec: ChildListSpec<T>,
  args: PageArgs,
  seal: CursorSeal,
  parentId: string,
  defaultFirst?: number,
): Promise<ChildConnection<T>> {
  const opened = openCursors(args, seal);
  const page = parsePage(defaultFirst !== undefined && opened.last == null ? { ...opened, first: opened.first ?? defaultFirst } : opened, spec.sort.length);
  return sealConnection(await childPage(ctx, spec, page, parentId), seal);
}
