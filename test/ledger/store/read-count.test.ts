/**
 * Proofs cost O(log n) node reads in a single batched store call, at a million leaves,
 * for the current size and historical ones. The root is also checked against an
 * independent recursive computation over all the leaves.
 */
import { createCipheriv } from 'node:crypto';
import { InMemoryNodeStore } from '../../../ledger/core/memory-node-store';
import { MerkleTree } from '../../../ledger/core/tree';
import { verifyConsistency, verifyInclusion } from '../../../ledger/core/verify';
import { CountingStore } from '../../../ledger/core/counting-store';
import { refNodeHash, seededRandom } from '../../support/ledger';

const SIZE = 1_000_003; // not a power of two, so the right edge has ephemeral nodes
const BATCH = 1 << 16;

/** MTH over leaf hashes [begin, end), by RFC 6962's recursive split; O(n) hashes, depth log n. */
function naiveRoot(leaves: readonly Buffer[], begin: number, end: number): Buffer {
  if (end - begin === 1) return leaves[begin];
  let k = 1;
  while (k * 2 < end - begin) k *= 2;
  return refNodeHash(naiveRoot(leaves, begin, begin + k), naiveRoot(leaves, begin + k, end));
}

const log2ceil = (n: number) => Math.ceil(Math.log2(n));

describe(`a tree of ${SIZE} leaves`, () => {
  const store = new CountingStore(new InMemoryNodeStore());
  const tree = new MerkleTree(store);
  let leaves: Buffer[];
  const appendReads: number[] = [];

  beforeAll(async () => {
    // Any distinct 32-byte values serve as leaf hashes here. An AES-CTR keystream under a
    // fixed key is reproducible noise made in milliseconds, and one backing buffer spares the GC.
    const packed = createCipheriv('aes-128-ctr', Buffer.alloc(16, 1), Buffer.alloc(16)).update(Buffer.alloc(SIZE * 32));
    leaves = Array.from({ length: SIZE }, (_, i) => packed.subarray(i * 32, i * 32 + 32));
    for (let done = 0; done < SIZE; done += BATCH) {
      store.reset();
      await tree.append(leaves.slice(done, Math.min(SIZE, done + BATCH)));
      expect(store.getNodesCalls).toBe(done === 0 ? 0 : 1);
      expect(store.putNodesCalls).toBe(1);
      appendReads.push(store.nodesRead);
    }
  }, 60_000);

  test('appends read only the old right frontier', () => {
    expect(Math.max(...appendReads)).toBeLessThanOrEqual(log2ceil(SIZE));
  });

  test('the root equals an independent computation over every leaf', async () => {
    store.reset();
    const root = await tree.rootHash();
    expect(root.equals(naiveRoot(leaves, 0, SIZE))).toBe(true);
    expect(store.getNodesCalls).toBe(1);
    expect(store.nodesRead).toBeLessThanOrEqual(log2ceil(SIZE));
  });

  test('inclusion proofs read at most 2·log2(n)+2 nodes, in one call, for current and historical sizes', async () => {
    const random = seededRandom(99);
    const roots = new Map<number, Buffer>();
    let most = 0;
    for (let sample = 0; sample < 300; sample++) {
      const n = sample % 3 === 0 ? SIZE : 1 + random(SIZE);
      const i = sample % 5 === 0 ? n - 1 : random(n);
      if (!roots.has(n)) roots.set(n, await tree.rootHash(n));
      store.reset();
      const proof = await tree.inclusionProof(i, n);
      expect(store.getNodesCalls).toBe(1);
      expect(store.nodesRead).toBeLessThanOrEqual(2 * log2ceil(n) + 2);
      most = Math.max(most, store.nodesRead);
      verifyInclusion(i, n, leaves[i], proof, roots.get(n)!);
    }
    // Far below n: the proof never touched more than a few dozen of the ~2 million stored nodes.
    expect(most).toBeLessThan(64);
  });

  test('historical roots agree with independent computations over their prefixes', async () => {
    for (const n of [1, 2, 3, 1000, 65_537, 524_289]) {
      expect((await tree.rootHash(n)).equals(naiveRoot(leaves, 0, n))).toBe(true);
    }
  });

  test('consistency proofs read at most 2·log2(n)+2 nodes, in one call', async () => {
    const random = seededRandom(7);
    for (let sample = 0; sample < 200; sample++) {
      const n = sample % 2 === 0 ? SIZE : 2 + random(SIZE - 1);
      const m = 1 + random(n - 1);
      const [rootM, rootN] = [await tree.rootHash(m), await tree.rootHash(n)];
      store.reset();
      const proof = await tree.consistencyProof(m, n);
      expect(store.getNodesCalls).toBe(1);
      expect(store.nodesRead).toBeLessThanOrEqual(2 * log2ceil(n) + 2);
      verifyConsistency(m, n, rootM, rootN, proof);
    }
  });
});
