/**
 * Appending events to the ledger, exactly once.
 *
 * The source of truth for "already appended" is the unique event_id in ledger_leaf, not
 * the queue: a batch first drops events already present (and repeats within itself),
 * then appends the rest as leaves in the given order, writing the leaf rows, the tree
 * nodes and the new size in ONE transaction. So a job delivered twice, or re-delivered
 * after its worker was killed before acknowledging it, never becomes a second leaf, and
 * an append is either wholly committed or not at all.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { encodeBase64 } from '../core/encoding';
import { ConcurrentAppendError, type AppendRange } from '../core/node-store';
import { MerkleTree } from '../core/tree';
import { DbNodeStore } from './db-node-store';
import { LedgerLeaf, LedgerLeafIndex } from './entities';
import { leafIndexRow } from './leaf-index';
import { exclusive } from './database';
import { encodeLeaf, type LedgerEvent } from '../core/leaf';

export interface AppendResult extends AppendRange {
  /** Ids of the events that became leaves fromSize.., in leaf order. */
  readonly appended: readonly string[];
  /** Ids skipped because they were already in the ledger or repeated in the batch. */
  readonly skipped: readonly string[];
  /** The leaf index of every event of the batch: new, repeated, or appended before. */
  readonly leafIndexOf: ReadonlyMap<string, number>;
}

/** Rows per INSERT: 5 bind parameters each. */
const INSERT_ROWS = 400;
/** Another writer committed between our read and our compare-and-set: just try again. */
const CONFLICT_RETRIES = 5;

export async function appendEvents(db: DataSource, events: readonly LedgerEvent[], now: () => Date = () => new Date()): Promise<AppendResult> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await exclusive(db, () => db.transaction((tx) => appendInTransaction(tx, events, now())));
    } catch (err) {
      if (attempt >= CONFLICT_RETRIES || !isConflict(err)) throw err;
    }
  }
}

async function appendInTransaction(tx: EntityManager, events: readonly LedgerEvent[], at: Date): Promise<AppendResult> {
  const seen = new Set<string>();
  const skipped: string[] = [];
  const unique: LedgerEvent[] = [];
  for (const event of events) {
    if (seen.has(event.id)) skipped.push(event.id);
    else {
      seen.add(event.id);
      unique.push(event);
    }
  }

  const leafIndexOf = new Map<string, number>();
  for (let i = 0; i < unique.length; i += INSERT_ROWS) {
    const ids = unique.slice(i, i + INSERT_ROWS).map((e) => e.id);
    const rows = await tx.createQueryBuilder(LedgerLeaf, 'l').select(['l.eventId', 'l.leafIndex']).where('l.eventId IN (:...ids)', { ids }).getMany();
    for (const row of rows) leafIndexOf.set(row.eventId, Number(row.leafIndex));
  }
  const present = new Set(leafIndexOf.keys());
  const fresh = unique.filter((e) => {
    if (!present.has(e.id)) return true;
    skipped.push(e.id);
    return false;
  });

  const leaves = fresh.map((event) => encodeLeaf(event));
  const tree = new MerkleTree(new DbNodeStore(tx));
  const range = await tree.append(leaves.map((l) => l.hash));
  const rows = fresh.map((event, i) => ({
    leafIndex: range.fromSize + i,
    eventId: event.id,
    leafHash: encodeBase64(leaves[i].hash),
    leafData: leaves[i].text,
    appendedAt: at,
  }));
  for (let i = 0; i < rows.length; i += INSERT_ROWS) {
    const chunk = rows.slice(i, i + INSERT_ROWS);
    await tx.createQueryBuilder().insert().into(LedgerLeaf).values(chunk).execute();
    // From the events themselves: their leaf data is their canonical JSON, no need to parse it back.
    await tx.createQueryBuilder().insert().into(LedgerLeafIndex).values(chunk.map((r, j) => leafIndexRow(r.leafIndex, fresh[i + j]!))).execute();
  }
  fresh.forEach((e, i) => leafIndexOf.set(e.id, range.fromSize + i));
  return { ...range, appended: fresh.map((e) => e.id), skipped, leafIndexOf };
}

/**
 * Lost races that a retry resolves: the size compare-and-set, a unique key taken by a
 * concurrent writer (PostgreSQL 23505, SQLite constraint), or SQLite's "database is
 * locked"/stale snapshot when another process wrote first.
 */
export function isConflict(err: unknown): boolean {
  if (err instanceof ConcurrentAppendError) return true;
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = String(e?.driverError?.code ?? e?.code ?? '');
  return code === '23505' || code === '40001' || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_CONSTRAINT');
}
