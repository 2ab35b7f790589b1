/**
 * The database NodeStore against the in-memory one and the independent RFC reference:
 * same roots and proofs for the same leaves, proofs in one O(log n) read, and appends
 * that are all-or-nothing with a compare-and-set on the size.
 */
import type { DataSource } from 'typeorm';
import { dbQueries } from '../../../common/database';
import { openLedgerDatabase } from '../../../ledger/store/database';
import { DbNodeStore } from '../../../ledger/store/db-node-store';
import { LedgerLeaf, LedgerNode } from '../../../ledger/store/entities';
import { appendEvents } from '../../../ledger/store/append';
import { InMemoryNodeStore } from '../../../ledger/core/memory-node-store';
import { ConcurrentAppendError } from '../../../ledger/core/node-store';
import { MerkleTree } from '../../../ledger/core/tree';
import { nodesCompletedByAppend } from '../../../ledger/core/subtrees';
import { leafHash } from '../../../ledger/core/hashing';
import { verifyConsistency, verifyInclusion } from '../../../ledger/core/verify';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { CountingStore } from '../../../ledger/core/counting-store';
import { ReferenceTree, leafData, seededRandom } from '../../support/ledger';

const SIZE = 700;
const log2ceil = (n: number) => Math.ceil(Math.log2(Math.max(n, 2)));

async function ledgerQueries(): Promise<number> {
  const metric = await dbQueries.get();
  return metric.values.find((v) => v.labels.service === 'ledger')?.value ?? 0;
}

describe('DbNodeStore', () => {
  let database: TestDatabase;
  let db: DataSource;
  const leaves = Array.from({ length: SIZE }, (_, i) => leafHash(leafData(i, 7)));
  const reference = new ReferenceTree(leaves);
  const memory = new MerkleTree(new InMemoryNodeStore());
  let counting: CountingStore;
  let tree: MerkleTree;

  beforeAll(async () => {
    database = await freshDatabase();
    db = await openLedgerDatabase(database.env);
    counting = new CountingStore(new DbNodeStore(db));
    tree = new MerkleTree(counting);
    // Uneven batches, so appends start and end at every kind of boundary.
    const random = seededRandom(5);
    for (let done = 0; done < SIZE; ) {
      const end = Math.min(SIZE, done + 1 + random(40));
      const batch = leaves.slice(done, end);
      const [a, b] = await Promise.all([tree.append(batch), memory.append(batch)]);
      expect(a).toEqual(b);
      expect((await tree.rootHash()).equals(reference.mth(0, end))).toBe(true);
      done = end;
    }
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  test('holds exactly the perfect nodes: 2n minus the number of one bits of n', async () => {
    const ones = SIZE.toString(2).split('').filter((b) => b === '1').length;
    expect(await db.getRepository(LedgerNode).count()).toBe(2 * SIZE - ones);
    expect(await tree.size()).toBe(SIZE);
  });

  test('roots at every size equal the in-memory tree and the RFC reference', async () => {
    for (let n = 0; n <= SIZE; n += n < 70 ? 1 : 37) {
      const root = await tree.rootHash(n);
      expect(root.equals(await memory.rootHash(n))).toBe(true);
      expect(root.equals(reference.mth(0, n))).toBe(true);
    }
  });

  test('inclusion proofs equal the in-memory ones, verify, and read ≤ 2·log2(n)+2 nodes in one statement', async () => {
    const random = seededRandom(11);
    for (let sample = 0; sample < 120; sample++) {
      const n = sample % 4 === 0 ? SIZE : 1 + random(SIZE);
      const i = sample % 5 === 0 ? n - 1 : random(n);
      const root = reference.mth(0, n);
      counting.reset();
      const before = await ledgerQueries();
      const proof = await tree.inclusionProof(i, n);
      const statements = (await ledgerQueries()) - before;
      // A one-leaf tree has an empty proof and reads no node at all.
      const reads = n > 1 ? 1 : 0;
      expect(counting.getNodesCalls).toBe(reads);
      expect(counting.nodesRead).toBeLessThanOrEqual(2 * log2ceil(n) + 2);
      // One statement for the size, one for every node of the proof.
      expect(statements).toBe(1 + reads);
      expect(proof).toEqual(await memory.inclusionProof(i, n));
      expect(proof).toEqual(reference.path(i, 0, n));
      verifyInclusion(i, n, leaves[i], proof, root);
    }
  });

  test('consistency proofs equal the in-memory ones and verify', async () => {
    const random = seededRandom(12);
    for (let sample = 0; sample < 80; sample++) {
      const n = 1 + random(SIZE);
      const m = 1 + random(n);
      counting.reset();
      const proof = await tree.consistencyProof(m, n);
      expect(counting.getNodesCalls).toBeLessThanOrEqual(1);
      expect(counting.nodesRead).toBeLessThanOrEqual(2 * log2ceil(n) + 2);
      expect(proof).toEqual(await memory.consistencyProof(m, n));
      expect(proof).toEqual(reference.proof(m, n));
      verifyConsistency(m, n, reference.mth(0, m), reference.mth(0, n), proof);
    }
  });

  test('a stale append is refused with ConcurrentAppendError and writes nothing', async () => {
    const store = new DbNodeStore(db);
    const nodesBefore = await db.getRepository(LedgerNode).count();
    // Well-formed runs for an append from SIZE-1, as a writer that missed the last leaf would send.
    const stale = nodesCompletedByAppend(SIZE - 1, SIZE).map(({ level, first, end }) => ({ level, first, hashes: Buffer.alloc(32 * (end - first), 9) }));
    await expect(store.putNodes(stale, { fromSize: SIZE - 1, toSize: SIZE })).rejects.toBeInstanceOf(ConcurrentAppendError);
    expect(await store.size()).toBe(SIZE);
    expect(await db.getRepository(LedgerNode).count()).toBe(nodesBefore);
  });

  test('two trees appending at once over one database: one wins, the loser retries, nothing is lost', async () => {
    const other = new MerkleTree(new DbNodeStore(db));
    const extra = [leafHash(Buffer.from('x')), leafHash(Buffer.from('y'))];
    const results = await Promise.allSettled([tree.append([extra[0]]), other.append([extra[1]])]);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrentAppendError);
    // Whichever lost (on SQLite the two may also serialise and both succeed) appends again.
    const appended = results.filter((r) => r.status === 'fulfilled').length;
    if (appended === 1) await other.append([extra[results[0].status === 'fulfilled' ? 1 : 0]]);
    expect(await tree.size()).toBe(SIZE + 2);
    const all = new ReferenceTree([...leaves, ...(await leafOrder(tree, extra))]);
    expect((await tree.rootHash()).equals(all.mth(0, SIZE + 2))).toBe(true);
  });

  test('an append that fails half-way (a leaf row already taken) rolls back nodes and size with it', async () => {
    const store = new DbNodeStore(db);
    const size = await store.size();
    const nodesBefore = await db.getRepository(LedgerNode).count();
    // Plant a leaf row where the next leaf must go: the leaf INSERT, after the nodes and the
    // size update in the same transaction, then fails.
    await db.getRepository(LedgerLeaf).insert({ leafIndex: size, eventId: 'evt_squatter', leafHash: 'x', leafData: '{}', appendedAt: new Date() });
    await expect(appendEvents(db, [{ id: 'evt_blocked', kind: 'test', at: '2026-01-01T00:00:00.000Z' }])).rejects.toThrow();
    expect(await store.size()).toBe(size);
    expect(await db.getRepository(LedgerNode).count()).toBe(nodesBefore);
    expect(await db.getRepository(LedgerLeaf).countBy({ eventId: 'evt_blocked' })).toBe(0);
    await db.getRepository(LedgerLeaf).delete({ eventId: 'evt_squatter' });
  });
});

/** Which of the two extra leaves went first, read back from the tree's own level 0. */
async function leafOrder(tree: MerkleTree, extra: Buffer[]): Promise<Buffer[]> {
  const proof = await tree.inclusionProof(SIZE, SIZE + 2);
  // Leaf SIZE's sibling at level 0 is leaf SIZE+1 (SIZE is even).
  return proof[0].equals(extra[1]) ? [extra[0], extra[1]] : [extra[1], extra[0]];
}
