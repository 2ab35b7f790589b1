/**
 * Batching: the gateway sends entity representations in batches (one `_entities` call
 * per subgraph per query-plan step) and list fields resolve once per parent. These
 * loaders turn N lookups in one tick into one `IN (...)` query.
 */
import DataLoader from 'dataloader';
import { In, type EntityTarget, type ObjectLiteral } from 'typeorm';
import type { SubgraphContext } from './context';

/** PostgreSQL takes up to 65,535 bind parameters and SQLite 32,766; stay well below. */
export const MAX_IN_LIST = 5_000;

export function chunk<T>(items: readonly T[], size = MAX_IN_LIST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Loads rows of `entity` by primary key `id`, one query per batch. Missing ids load as null. */
export function byId<T extends ObjectLiteral & { id: string }>(
  ctx: SubgraphContext,
  entity: EntityTarget<T>,
  name: string,
): DataLoader<string, T | null> {
  return ctx.loader(`byId:${name}`, () =>
    new DataLoader<string, T | null>(
      async (ids) => {
        const repo = ctx.db.getRepository(entity);
        const rows: T[] = [];
        for (const part of chunk(ids)) rows.push(...(await repo.findBy({ id: In(part) } as never)));
        const map = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => map.get(id) ?? null);
      },
      { maxBatchSize: MAX_IN_LIST },
    ),
  );
}

/** Loads all rows whose `column` equals each key, one query per batch. */
export function groupedBy<T extends ObjectLiteral>(
  ctx: SubgraphContext,
  entity: EntityTarget<T>,
  property: keyof T & string,
  name: string,
  order?: Record<string, 'ASC' | 'DESC'>,
): DataLoader<string, T[]> {
  return ctx.loader(`groupedBy:${name}:${property}`, () =>
    new DataLoader<string, T[]>(
      async (keys) => {
        const repo = ctx.db.getRepository(entity);
        const groups = new Map<string, T[]>(keys.map((k) => [k, []]));
        for (const part of chunk(keys)) {
          const rows = await repo.find({ where: { [property]: In(part) } as never, order: order as never });
          for (const row of rows) groups.get(row[property] as string)?.push(row);
        }
        return keys.map((k) => groups.get(k) ?? []);
      },
      { maxBatchSize: MAX_IN_LIST },
    ),
  );
}
