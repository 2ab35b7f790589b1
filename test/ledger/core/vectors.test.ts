/**
 * The ledger against reference data we did not write: the 196 transparency-dev/merkle
 * verification cases and the Certificate Transparency reference tree.
 */
import { emptyRoot, leafHash } from '../../../ledger/core/hashing';
import { InMemoryNodeStore } from '../../../ledger/core/memory-node-store';
import { MerkleTree } from '../../../ledger/core/tree';
import { ProofError, rootFromInclusionProof, verifyConsistency, verifyInclusion } from '../../../ledger/core/verify';
import { b64, loadConsistencyVectors, loadInclusionVectors, loadReferenceTree } from '../../support/ledger';

const inclusion = loadInclusionVectors();
const consistency = loadConsistencyVectors();
const reference = loadReferenceTree();
const hex = (text: string) => Buffer.from(text, 'hex');

test('all 196 transparency-dev vectors are present', () => {
  expect(inclusion).toHaveLength(98);
  expect(consistency).toHaveLength(98);
  // Both outcomes are represented, so neither "accept all" nor "refuse all" can pass.
  expect(inclusion.filter((c) => !c.wantErr).length).toBeGreaterThan(0);
  expect(consistency.filter((c) => !c.wantErr).length).toBeGreaterThan(0);
});

describe('inclusion vectors', () => {
  test.each(inclusion.map((c) => [`${c.file} (${c.desc})`, c] as const))('%s', (_, c) => {
    const proof = (c.proof ?? []).map(b64);
    const run = () => verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), proof, b64(c.root));
    if (c.wantErr) {
      expect(run).toThrow(ProofError);
    } else {
      expect(run).not.toThrow();
      expect(rootFromInclusionProof(c.leafIdx, c.treeSize, b64(c.leafHash), proof).equals(b64(c.root))).toBe(true);
    }
  });
});

describe('consistency vectors', () => {
  test.each(consistency.map((c) => [`${c.file} (${c.desc})`, c] as const))('%s', (_, c) => {
    const run = () => verifyConsistency(c.size1, c.size2, b64(c.root1), b64(c.root2), (c.proof ?? []).map(b64));
    if (c.wantErr) expect(run).toThrow(ProofError);
    else expect(run).not.toThrow();
  });
});

describe('reference tree', () => {
  const inputs = reference.leafInputs.map(hex);

  test('leaf hashes and the empty root', () => {
    expect(inputs.map((d) => leafHash(d).toString('hex'))).toEqual(reference.leafHashes);
    expect(emptyRoot().toString('hex')).toBe(reference.emptyTreeRoot);
  });

  test('roots of every size 0..8, appended one leaf at a time', async () => {
    const tree = new MerkleTree(new InMemoryNodeStore());
    expect((await tree.rootHash()).toString('hex')).toBe(reference.rootsBySize['0']);
    for (let n = 1; n <= inputs.length; n++) {
      await tree.appendLeafData([inputs[n - 1]]);
      expect((await tree.rootHash()).toString('hex')).toBe(reference.rootsBySize[String(n)]);
    }
  });

  test('historical roots of every size 0..8 from a tree appended in one batch', async () => {
    const tree = new MerkleTree(new InMemoryNodeStore());
    await tree.appendLeafData(inputs);
    for (let n = 0; n <= inputs.length; n++) {
      expect((await tree.rootHash(n)).toString('hex')).toBe(reference.rootsBySize[String(n)]);
    }
  });

  test('every inclusion and consistency proof of the reference tree verifies against the reference roots', async () => {
    const tree = new MerkleTree(new InMemoryNodeStore());
    await tree.appendLeafData(inputs);
    const root = (n: number) => hex(reference.rootsBySize[String(n)]);
    for (let n = 1; n <= inputs.length; n++) {
      for (let i = 0; i < n; i++) {
        verifyInclusion(i, n, hex(reference.leafHashes[i]), await tree.inclusionProof(i, n), root(n));
      }
      for (let m = 1; m <= n; m++) verifyConsistency(m, n, root(m), root(n), await tree.consistencyProof(m, n));
    }
  });

  // The happy-path vectors that are about the reference tree pin down proof *generation*
  // too: our proofs must be exactly theirs, element for element.
  test('the tree generates exactly the happy-path proofs of the vectors about the reference tree', async () => {
    const tree = new MerkleTree(new InMemoryNodeStore());
    await tree.appendLeafData(inputs);
    const isReferenceRoot = (size: number, root: string) =>
      size >= 1 && size <= inputs.length && b64(root).toString('hex') === reference.rootsBySize[String(size)];

    let compared = 0;
    for (const c of inclusion.filter((v) => !v.wantErr && isReferenceRoot(v.treeSize, v.root))) {
      expect((await tree.inclusionProof(c.leafIdx, c.treeSize)).map((h) => h.toString('base64'))).toEqual(c.proof ?? []);
      compared++;
    }
    for (const c of consistency.filter((v) => !v.wantErr && v.size1 >= 1 && isReferenceRoot(v.size2, v.root2))) {
      expect((await tree.consistencyProof(c.size1, c.size2)).map((h) => h.toString('base64'))).toEqual(c.proof ?? []);
      compared++;
    }
    // Ten happy paths (five of each kind) are about the reference tree.
    expect(compared).toBe(10);
  });
});
