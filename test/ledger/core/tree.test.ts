/**
 * The Merkle tree against an independent recursive RFC 6962 reference (test/support/ledger.ts):
 * roots, inclusion and consistency proofs at the current and every historical size,
 * however the leaves were batched, plus the store contract and argument checking.
 */
import { emptyRoot } from '../../../ledger/core/hashing';
import { InMemoryNodeStore } from '../../../ledger/core/memory-node-store';
import { ConcurrentAppendError, MissingNodeError, nodesOfRun, type NodeKey, type NodeStore } from '../../../ledger/core/node-store';
import { nodesCompletedByAppend } from '../../../ledger/core/subtrees';
import { MerkleTree, TreeRangeError } from '../../../ledger/core/tree';
import { ProofError, verifyConsistency, verifyInclusion } from '../../../ledger/core/verify';
import { CountingStore } from '../../../ledger/core/counting-store';
import { ReferenceTree, flipBit, leafData, refLeafHash, seededRandom } from '../../support/ledger';

const hexList = (hashes: readonly Buffer[]) => hashes.map((h) => h.toString('hex'));

/** Builds a tree of `size` leaves, appended in random batch sizes (including 1 and large). */
async function buildTree(size: number, random: (bound: number) => number, salt: number) {
  const leaves = Array.from({ length: size }, (_, i) => refLeafHash(leafData(i, salt)));
  const store = new InMemoryNodeStore();
  const tree = new MerkleTree(store);
  for (let done = 0; done < size; ) {
    const batch = Math.min(size - done, 1 + random(random(2) === 0 ? 4 : 64));
    const range = await tree.append(leaves.slice(done, done + batch));
    expect(range).toEqual({ fromSize: done, toSize: done + batch });
    done += batch;
  }
  return { tree, store, leaves, reference: new ReferenceTree(leaves) };
}

/** Every way a verifier must refuse a tampered inclusion proof. */
function expectInclusionTamperingRefused(
  i: number,
  n: number,
  leaf: Buffer,
  proof: Buffer[],
  root: Buffer,
  otherRoot: Buffer,
  random: (bound: number) => number,
) {
  const refuse = (p: Buffer[], leafHash = leaf, r = root) => expect(() => verifyInclusion(i, n, leafHash, p, r)).toThrow(ProofError);
  if (proof.length > 0) {
    refuse(flipBit(proof, random(proof.length), random(256)));
    refuse(proof.slice(0, -1));
    refuse(proof.slice(1));
  }
  refuse([...proof, root]);
  refuse([leaf, ...proof]);
  const swap = proof.findIndex((h, j) => j > 0 && !h.equals(proof[j - 1]));
  if (swap > 0) refuse([...proof.slice(0, swap - 1), proof[swap], proof[swap - 1], ...proof.slice(swap + 1)]);
  refuse(proof, flipBit([leaf], 0, random(256))[0]);
  refuse(proof, leaf, otherRoot);
}

function expectConsistencyTamperingRefused(
  m: number,
  n: number,
  proof: Buffer[],
  rootM: Buffer,
  rootN: Buffer,
  otherRoot: Buffer,
  random: (bound: number) => number,
) {
  const refuse = (p: Buffer[], a = rootM, b = rootN) => expect(() => verifyConsistency(m, n, a, b, p)).toThrow(ProofError);
  if (proof.length > 0) {
    refuse(flipBit(proof, random(proof.length), random(256)));
    refuse(proof.slice(0, -1));
    refuse(proof.slice(1));
  }
  refuse([...proof, rootN]);
  refuse(proof, otherRoot, rootN);
  refuse(proof, rootM, otherRoot);
  if (m !== n) refuse(proof, rootN, rootM);
}

describe('exhaustively against the RFC reference, every size up to 70', () => {
  const N = 70;
  let built: Awaited<ReturnType<typeof buildTree>>;
  beforeAll(async () => {
    built = await buildTree(N, seededRandom(7), 1);
  });

  test('every historical root', async () => {
    for (let n = 0; n <= N; n++) expect((await built.tree.rootHash(n)).equals(built.reference.mth(0, n))).toBe(true);
    expect((await built.tree.rootHash()).equals(built.reference.mth(0, N))).toBe(true);
  });

  test('every inclusion proof (i, n) equals PATH and verifies; tampering is refused', async () => {
    const random = seededRandom(11);
    for (let n = 1; n <= N; n++) {
      const root = built.reference.mth(0, n);
      for (let i = 0; i < n; i++) {
        const proof = await built.tree.inclusionProof(i, n);
        expect(hexList(proof)).toEqual(hexList(built.reference.path(i, 0, n)));
        verifyInclusion(i, n, built.leaves[i], proof, root);
        expectInclusionTamperingRefused(i, n, built.leaves[i], proof, root, built.reference.mth(0, n - 1), random);
      }
    }
  });

  test('every consistency proof (m, n) equals PROOF and verifies; tampering is refused', async () => {
    const random = seededRandom(13);
    for (let n = 1; n <= N; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = await built.tree.consistencyProof(m, n);
        expect(hexList(proof)).toEqual(hexList(built.reference.proof(m, n)));
        const [rootM, rootN] = [built.reference.mth(0, m), built.reference.mth(0, n)];
        verifyConsistency(m, n, rootM, rootN, proof);
        expectConsistencyTamperingRefused(m, n, proof, rootM, rootN, built.reference.mth(0, m - 1), random);
      }
    }
  });
});

describe('random trees up to 300 leaves, sampled pairs', () => {
  const seeds = [101, 202, 303, 404, 505, 606];
  test.each(seeds)('seed %i', async (seed) => {
    const random = seededRandom(seed);
    const size = 1 + random(300);
    const { tree, leaves, reference } = await buildTree(size, random, seed);
    for (let sample = 0; sample < 250; sample++) {
      const n = 1 + random(size);
      const i = random(n);
      const proof = await tree.inclusionProof(i, n);
      expect(hexList(proof)).toEqual(hexList(reference.path(i, 0, n)));
      verifyInclusion(i, n, leaves[i], proof, reference.mth(0, n));
      expectInclusionTamperingRefused(i, n, leaves[i], proof, reference.mth(0, n), reference.mth(0, n - 1), random);

      const m = 1 + random(n);
      const consistency = await tree.consistencyProof(m, n);
      expect(hexList(consistency)).toEqual(hexList(reference.proof(m, n)));
      verifyConsistency(m, n, reference.mth(0, m), reference.mth(0, n), consistency);
      expectConsistencyTamperingRefused(m, n, consistency, reference.mth(0, m), reference.mth(0, n), reference.mth(0, m - 1), random);
    }
    expect((await tree.rootHash()).equals(reference.mth(0, size))).toBe(true);
  });
});

test('a tree of about 300 leaves: every inclusion pair and every consistency pair verifies against the reference roots', async () => {
  const random = seededRandom(2024);
  const size = 280 + random(21);
  const { tree, leaves, reference } = await buildTree(size, random, 77);
  const roots = Array.from({ length: size + 1 }, (_, n) => reference.mth(0, n));
  let checked = 0;
  for (let n = 1; n <= size; n++) {
    for (let i = 0; i < n; i++) verifyInclusion(i, n, leaves[i], await tree.inclusionProof(i, n), roots[n]);
    for (let m = 1; m <= n; m++) verifyConsistency(m, n, roots[m], roots[n], await tree.consistencyProof(m, n));
    checked += 2 * n;
  }
  expect(checked).toBe(size * (size + 1));
});

describe('appending', () => {
  /** Every node the store should hold for `size` leaves, read back in level order. */
  async function allNodes(store: NodeStore, size: number): Promise<string[]> {
    const keys: NodeKey[] = nodesCompletedByAppend(0, size).flatMap(({ level, first, end }) =>
      Array.from({ length: end - first }, (_, i) => ({ level, index: first + i })),
    );
    const found = await store.getNodes(keys);
    expect(found.size).toBe(keys.length);
    return keys.map((k) => found.get(`${k.level}:${k.index}`)!.toString('hex'));
  }

  test('the stored nodes do not depend on how the leaves were batched', async () => {
    const size = 257;
    const one = await buildTree(size, () => 0, 9); // batches of 1
    const whole = new InMemoryNodeStore();
    await new MerkleTree(whole).append(one.leaves);
    const random = await buildTree(size, seededRandom(3), 9);
    const expected = await allNodes(whole, size);
    expect(await allNodes(one.store, size)).toEqual(expected);
    expect(await allNodes(random.store, size)).toEqual(expected);
  });

  test('proofs served while the tree grows equal the proofs served later for the same size', async () => {
    const leaves = Array.from({ length: 100 }, (_, i) => refLeafHash(leafData(i, 4)));
    const tree = new MerkleTree(new InMemoryNodeStore());
    const early = new Map<string, string[]>();
    for (let n = 1; n <= leaves.length; n++) {
      await tree.append([leaves[n - 1]]);
      early.set(`i${n - 1}/${n}`, hexList(await tree.inclusionProof(n - 1, n)));
      early.set(`i0/${n}`, hexList(await tree.inclusionProof(0, n)));
      if (n > 1) early.set(`c${n - 1}/${n}`, hexList(await tree.consistencyProof(n - 1, n)));
    }
    for (const [key, proof] of early) {
      const [, kind, a, b] = /^([ic])(\d+)\/(\d+)$/.exec(key)!;
      const later = kind === 'i' ? await tree.inclusionProof(+a, +b) : await tree.consistencyProof(+a, +b);
      expect(hexList(later)).toEqual(proof);
    }
  });

  test('an empty batch changes nothing and writes nothing', async () => {
    const store = new CountingStore(new InMemoryNodeStore());
    const tree = new MerkleTree(store);
    await tree.append([refLeafHash(leafData(0))]);
    store.reset();
    expect(await tree.append([])).toEqual({ fromSize: 1, toSize: 1 });
    expect(store.putNodesCalls).toBe(0);
    expect(await tree.size()).toBe(1);
  });

  test('concurrent appends through one tree are serialised in call order', async () => {
    const leaves = Array.from({ length: 60 }, (_, i) => refLeafHash(leafData(i, 5)));
    const tree = new MerkleTree(new InMemoryNodeStore());
    const batches = [leaves.slice(0, 7), leaves.slice(7, 8), leaves.slice(8, 40), leaves.slice(40, 41), leaves.slice(41)];
    const ranges = await Promise.all(batches.map((batch) => tree.append(batch)));
    expect(ranges.map((r) => r.toSize)).toEqual([7, 8, 40, 41, 60]);
    expect((await tree.rootHash()).equals(new ReferenceTree(leaves).mth(0, 60))).toBe(true);
  });

  test('a second writer on the same store loses the compare-and-set instead of corrupting the tree', async () => {
    const store = new InMemoryNodeStore();
    const leaves = Array.from({ length: 10 }, (_, i) => refLeafHash(leafData(i, 6)));
    await new MerkleTree(store).append(leaves.slice(0, 3));
    const [a, b] = await Promise.allSettled([
      new MerkleTree(store).append(leaves.slice(3, 6)),
      new MerkleTree(store).append(leaves.slice(3, 10)),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status === 'rejected' && b.reason instanceof ConcurrentAppendError).toBe(true);
    const tree = new MerkleTree(store);
    expect(await tree.size()).toBe(6);
    expect((await tree.rootHash()).equals(new ReferenceTree(leaves).mth(0, 6))).toBe(true);
  });

  test('a failed append can be retried and the tree stays correct', async () => {
    let fail = true;
    const inner = new InMemoryNodeStore();
    const flaky: NodeStore = {
      size: () => inner.size(),
      getNodes: (keys) => inner.getNodes(keys),
      putNodes: async (nodes, range) => {
        if (fail) {
          fail = false;
          throw new Error('database went away');
        }
        return inner.putNodes(nodes, range);
      },
    };
    const leaves = Array.from({ length: 5 }, (_, i) => refLeafHash(leafData(i, 8)));
    const tree = new MerkleTree(flaky);
    await expect(tree.append(leaves)).rejects.toThrow('database went away');
    expect(await tree.size()).toBe(0);
    await tree.append(leaves);
    expect((await tree.rootHash()).equals(new ReferenceTree(leaves).mth(0, 5))).toBe(true);
  });
});

describe('refusals', () => {
  let tree: MerkleTree;
  beforeAll(async () => {
    tree = new MerkleTree(new InMemoryNodeStore());
    await tree.appendLeafData(Array.from({ length: 10 }, (_, i) => leafData(i)));
  });

  test('the empty tree has the empty root and no proofs', async () => {
    const empty = new MerkleTree(new InMemoryNodeStore());
    expect((await empty.rootHash()).equals(emptyRoot())).toBe(true);
    await expect(empty.inclusionProof(0, 0)).rejects.toThrow(TreeRangeError);
    await expect(empty.rootHash(1)).rejects.toThrow(TreeRangeError);
  });

  test.each([
    ['index = size', 10, 10],
    ['index > size', 11, 10],
    ['size beyond the tree', 0, 11],
    ['size 0', 0, 0],
    ['negative index', -1, 5],
    ['fractional index', 1.5, 5],
    ['NaN size', 0, Number.NaN],
    ['unsafe index', 2 ** 64, 10],
  ])('inclusion proof: %s', async (_, i, n) => {
    await expect(tree.inclusionProof(i, n)).rejects.toThrow(TreeRangeError);
  });

  test.each([
    ['m > n', 6, 5],
    ['m = 0', 0, 5],
    ['m = n = 0', 0, 0],
    ['n beyond the tree', 5, 11],
    ['negative m', -1, 5],
  ])('consistency proof: %s', async (_, m, n) => {
    await expect(tree.consistencyProof(m, n)).rejects.toThrow(TreeRangeError);
  });

  test('equal sizes give an empty consistency proof', async () => {
    expect(await tree.consistencyProof(4, 4)).toEqual([]);
  });

  test('root of a size beyond the tree', async () => {
    await expect(tree.rootHash(11)).rejects.toThrow(TreeRangeError);
    await expect(tree.rootHash(-1)).rejects.toThrow(TreeRangeError);
  });

  test('leaf hashes that are not 32 bytes', async () => {
    const size = await tree.size();
    expect(() => tree.append([Buffer.alloc(31)])).toThrow(TreeRangeError);
    expect(() => tree.append([Buffer.alloc(32), Buffer.alloc(33)])).toThrow(TreeRangeError);
    expect(await tree.size()).toBe(size);
  });

  test('a store that lost a node makes proofs fail loudly, not wrongly', async () => {
    const inner = new InMemoryNodeStore();
    await new MerkleTree(inner).appendLeafData(Array.from({ length: 6 }, (_, i) => leafData(i)));
    const lossy: NodeStore = {
      size: () => inner.size(),
      putNodes: (nodes, range) => inner.putNodes(nodes, range),
      getNodes: async (keys) => {
        const found = await inner.getNodes(keys);
        found.delete('1:2'); // leaves 4..5
        return found;
      },
    };
    const tree = new MerkleTree(lossy);
    await expect(tree.inclusionProof(0, 6)).rejects.toThrow(MissingNodeError);
    await expect(tree.rootHash()).rejects.toThrow(MissingNodeError);
    // Growing 6 → 8 completes node (2, 1), whose left child is the lost one.
    await expect(tree.appendLeafData([leafData(6), leafData(7)])).rejects.toThrow(MissingNodeError);
    expect(await tree.size()).toBe(6);
    expect(await tree.inclusionProof(0, 4)).toHaveLength(2); // sizes that do not need the node still work
  });
});

describe('InMemoryNodeStore enforces the store contract', () => {
  const hashes = (...fill: number[]) => Buffer.concat(fill.map((n) => Buffer.alloc(32, n)));
  let store: InMemoryNodeStore;
  beforeEach(async () => {
    store = new InMemoryNodeStore();
    await store.putNodes([{ level: 0, first: 0, hashes: hashes(1) }], { fromSize: 0, toSize: 1 });
  });

  const refusedUnchanged = async (promise: Promise<void>, error: unknown) => {
    await expect(promise).rejects.toThrow(error as Error);
    expect(await store.size()).toBe(1);
    expect((await store.getNodes([{ level: 0, index: 1 }])).size).toBe(0);
    expect((await store.getNodes([{ level: 0, index: 0 }])).get('0:0')).toEqual(hashes(1));
  };
  const leaf1 = { level: 0, first: 1, hashes: hashes(2) };
  const parent = { level: 1, first: 0, hashes: hashes(3) };

  test('a correct append is accepted', async () => {
    await store.putNodes([leaf1, parent], { fromSize: 1, toSize: 2 });
    expect(await store.size()).toBe(2);
    expect((await store.getNodes([{ level: 1, index: 0 }])).get('1:0')).toEqual(hashes(3));
  });
  test('wrong fromSize', async () => {
    await refusedUnchanged(store.putNodes([{ level: 0, first: 0, hashes: hashes(2) }], { fromSize: 0, toSize: 1 }), ConcurrentAppendError);
  });
  test('a missing level (the new parent)', async () => {
    await refusedUnchanged(store.putNodes([leaf1], { fromSize: 1, toSize: 2 }), RangeError);
  });
  test('a level the append does not complete', async () => {
    await refusedUnchanged(store.putNodes([leaf1, parent, { level: 2, first: 0, hashes: hashes(4) }], { fromSize: 1, toSize: 2 }), RangeError);
  });
  test('a run with too many nodes', async () => {
    await refusedUnchanged(store.putNodes([{ level: 0, first: 1, hashes: hashes(2, 5) }, parent], { fromSize: 1, toSize: 2 }), RangeError);
  });
  test('rewriting an old node', async () => {
    await refusedUnchanged(store.putNodes([{ level: 0, first: 0, hashes: hashes(9, 2) }, parent], { fromSize: 1, toSize: 2 }), RangeError);
  });
  test('the same level twice', async () => {
    await refusedUnchanged(store.putNodes([leaf1, leaf1], { fromSize: 1, toSize: 2 }), RangeError);
  });
  test('a short hash', async () => {
    await refusedUnchanged(store.putNodes([{ level: 0, first: 1, hashes: Buffer.alloc(31) }, parent], { fromSize: 1, toSize: 2 }), RangeError);
  });
  test('a shrinking size', async () => {
    await refusedUnchanged(store.putNodes([], { fromSize: 1, toSize: 0 }), RangeError);
  });
  test('returned hashes are copies', async () => {
    const got = (await store.getNodes([{ level: 0, index: 0 }])).get('0:0')!;
    got.fill(0);
    expect((await store.getNodes([{ level: 0, index: 0 }])).get('0:0')).toEqual(hashes(1));
  });
});

test('nodesOfRun splits a run into rows for per-node stores', () => {
  const run = { level: 3, first: 5, hashes: Buffer.concat([Buffer.alloc(32, 1), Buffer.alloc(32, 2)]) };
  expect(nodesOfRun(run)).toEqual([
    { level: 3, index: 5, hash: Buffer.alloc(32, 1) },
    { level: 3, index: 6, hash: Buffer.alloc(32, 2) },
  ]);
});
