/**
 * The Merkle tree's NodeStore in the ledger database: one `ledger_node` row per perfect
 * node, keyed (level, idx), and the committed size in `ledger_state`.
 *
 * One row per node (rather than packed runs) keeps reads exact: a root or proof needs
 * at most about 2·log2(n) specific nodes, which the primary key finds in one statement,
 * without reading or unpacking anything else. Writes stay cheap because the tree hands
 * over whole runs, which become multi-row INSERTs.
 *
 * putNodes is one transaction that first compare-and-sets the size and then inserts the
 * nodes. Taking the state row first means a second writer blocks on it (PostgreSQL) or
 * on the database lock (SQLite) and then finds the size moved — ConcurrentAppendError,
 * nothing written — instead of colliding on node keys. A crash anywhere before COMMIT
 * leaves neither the nodes nor the new size.
 */
import { DataSource, type EntityManager } from 'typeorm';
import { HASH_SIZE } from '../core/hashing';
import { decodeBase64Strict, encodeBase64 } from '../core/encoding';
import {
  ConcurrentAppendError,
  nodeKeyString,
  nodesOfRun,
  type AppendRange,
  type NodeKey,
  type NodeRun,
  type NodeStore,
} from '../core/node-store';
import { nodesCompletedByAppend } from '../core/subtrees';
import { LedgerNode, LedgerState } from './entities';
import { exclusive } from './database';

/** Rows per INSERT: 3 bind parameters each stays far below SQLite's and PostgreSQL's limits. */
const INSERT_ROWS = 500;

export class DbNodeStore implements NodeStore {
  private readonly manager: EntityManager;
  private readonly turn: <T>(task: () => Promise<T>) => Promise<T>;

  /**
   * Give it the EntityManager of an open transaction to make its reads and writes part
   * of that transaction (the worker does, so the leaf rows commit with the nodes). Given
   * a DataSource, each call takes its turn (see `exclusive`), so that on SQLite it never
   * lands inside another caller's open transaction.
   */
  constructor(db: DataSource | EntityManager) {
    if (db instanceof DataSource) {
      this.manager = db.manager;
      this.turn = (task) => exclusive(db, task);
    } else {
      this.manager = db;
      this.turn = (task) => task();
    }
  }

  size(): Promise<number> {
    return this.turn(() => readSize(this.manager));
  }

  getNodes(keys: readonly NodeKey[]): Promise<Map<string, Buffer>> {
    return this.turn(() => this.readNodes(keys));
  }

  putNodes(runs: readonly NodeRun[], range: AppendRange): Promise<void> {
    return this.turn(() => this.writeNodes(runs, range));
  }

  private async readNodes(keys: readonly NodeKey[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    if (keys.length === 0) return found;
    // Group by level: "(level = k AND idx IN (…)) OR …" — one statement, a handful of
    // index probes, and far fewer bind parameters than one pair per key.
    const byLevel = new Map<number, number[]>();
    for (const { level, index } of keys) {
      if (!Number.isSafeInteger(level) || !Number.isSafeInteger(index)) continue;
      const list = byLevel.get(level) ?? [];
      list.push(index);
      byLevel.set(level, list);
    }
    const clauses: string[] = [];
    const params: Record<string, unknown> = {};
    [...byLevel].forEach(([level, indices], i) => {
      clauses.push(`(n.level = :l${i} AND n.idx IN (:...i${i}))`);
      params[`l${i}`] = level;
      params[`i${i}`] = indices;
    });
    const rows = await this.manager
      .createQueryBuilder(LedgerNode, 'n')
      .select(['n.level', 'n.idx', 'n.hash'])
      .where(clauses.join(' OR '), params)
      .getMany();
    for (const row of rows) {
      const hash = decodeBase64Strict(row.hash);
      // A malformed row is left out, so the tree reports it as MissingNodeError.
      if (hash && hash.length === HASH_SIZE) found.set(nodeKeyString({ level: row.level, index: row.idx }), hash);
    }
    return found;
  }

  private async writeNodes(runs: readonly NodeRun[], range: AppendRange): Promise<void> {
    const { fromSize, toSize } = range;
    checkRuns(runs, fromSize, toSize);
    const rows = runs.flatMap(nodesOfRun).map((node) => ({ level: node.level, idx: node.index, hash: encodeBase64(node.hash) }));

    // Nested in the caller's transaction when there is one (a savepoint), else its own.
    await this.manager.transaction(async (tx) => {
      const moved = await tx
        .createQueryBuilder()
        .update(LedgerState)
        .set({ size: toSize })
        .where('id = 1 AND size = :fromSize', { fromSize })
        .execute();
      if (moved.affected !== 1) throw new ConcurrentAppendError(fromSize, await readSize(tx));
      for (let i = 0; i < rows.length; i += INSERT_ROWS) {
        await tx.createQueryBuilder().insert().into(LedgerNode).values(rows.slice(i, i + INSERT_ROWS)).execute();
      }
    });
  }
}

export async function readSize(manager: EntityManager): Promise<number> {
  const row = await manager.findOne(LedgerState, { where: { id: 1 } });
  if (!row) throw new Error('ledger_state has no row: the ledger migration has not run');
  return Number(row.size);
}

/** Exactly the nodes the append completes, one run per level: anything else is a tree bug. */
function checkRuns(runs: readonly NodeRun[], fromSize: number, toSize: number): void {
  if (!Number.isSafeInteger(toSize) || toSize < fromSize || toSize > 2 ** 31 - 1) {
    throw new RangeError(`cannot move tree size from ${fromSize} to ${toSize}`);
  }
  const expected = nodesCompletedByAppend(fromSize, toSize);
  if (runs.length !== expected.length) {
    throw new RangeError(`append ${fromSize}..${toSize} completes nodes on ${expected.length} levels, got ${runs.length} runs`);
  }
  for (const want of expected) {
    const run = runs.find((r) => r.level === want.level);
    if (!run || run.first !== want.first || run.hashes.length !== (want.end - want.first) * HASH_SIZE) {
      throw new RangeError(`level ${want.level} run must hold nodes ${want.first}..${want.end - 1}`);
    }
  }
}
