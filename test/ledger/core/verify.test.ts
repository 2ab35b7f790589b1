/**
 * The verifier's refusals, each with the reason a caller can act on. Proofs and roots
 * come from the independent reference in test/support/ledger.ts, not from ledger/core/tree.ts.
 */
import { ProofError, rootFromInclusionProof, verifyConsistency, verifyInclusion, type ProofErrorCode } from '../../../ledger/core/verify';
import { ReferenceTree, leafData, refLeafHash } from '../../support/ledger';

const leaves = Array.from({ length: 13 }, (_, i) => refLeafHash(leafData(i, 42)));
const ref = new ReferenceTree(leaves);
const root = (n: number) => ref.mth(0, n);

function expectCode(run: () => unknown, code: ProofErrorCode): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProofError);
  expect((caught as ProofError).code).toBe(code);
}

describe('inclusion', () => {
  test('a genuine proof verifies and implies the root', () => {
    verifyInclusion(5, 13, leaves[5], ref.path(5, 0, 13), root(13));
    expect(rootFromInclusionProof(5, 13, leaves[5], ref.path(5, 0, 13)).equals(root(13))).toBe(true);
  });

  test('the last leaf of a single-leaf tree needs no proof', () => {
    verifyInclusion(0, 1, leaves[0], [], root(1));
  });

  test('index ≥ size', () => {
    expectCode(() => verifyInclusion(13, 13, leaves[5], ref.path(5, 0, 13), root(13)), 'invalid-argument');
    expectCode(() => verifyInclusion(14, 13, leaves[5], ref.path(5, 0, 13), root(13)), 'invalid-argument');
  });

  test('size 0', () => {
    expectCode(() => verifyInclusion(0, 0, leaves[0], [], ref.mth(0, 0)), 'invalid-argument');
  });

  test.each([
    ['negative', -1],
    ['fractional', 2.5],
    ['NaN', Number.NaN],
    ['2^64 - 1 (inexact in a JS number)', 18446744073709551615],
    ['2^53', 2 ** 53],
  ])('index that is not a safe count: %s', (_, index) => {
    expectCode(() => verifyInclusion(index, 13, leaves[5], ref.path(5, 0, 13), root(13)), 'invalid-argument');
  });

  test('hashes that are not 32 bytes', () => {
    const proof = ref.path(5, 0, 13);
    expectCode(() => verifyInclusion(5, 13, leaves[5].subarray(1), proof, root(13)), 'bad-hash-size');
    const longLast = [...proof.slice(0, -1), Buffer.concat([proof[proof.length - 1], Buffer.alloc(1)])];
    expectCode(() => verifyInclusion(5, 13, leaves[5], longLast, root(13)), 'bad-hash-size');
    expectCode(() => verifyInclusion(5, 13, leaves[5], proof, Buffer.alloc(0)), 'bad-hash-size');
  });

  test('a proof of the wrong length, even when its hashes are genuine', () => {
    const proof = ref.path(5, 0, 13);
    expectCode(() => verifyInclusion(5, 13, leaves[5], proof.slice(0, -1), root(13)), 'wrong-proof-size');
    expectCode(() => verifyInclusion(5, 13, leaves[5], [...proof, root(8)], root(13)), 'wrong-proof-size');
  });

  test('a proof for another leaf, or against another root', () => {
    expectCode(() => verifyInclusion(5, 13, leaves[6], ref.path(5, 0, 13), root(13)), 'root-mismatch');
    expectCode(() => verifyInclusion(5, 13, leaves[5], ref.path(5, 0, 13), root(12)), 'root-mismatch');
    expectCode(() => verifyInclusion(4, 13, leaves[5], ref.path(5, 0, 13), root(13)), 'root-mismatch');
  });
});

describe('consistency', () => {
  test('a genuine proof verifies, including from a power-of-two size (seed omitted)', () => {
    verifyConsistency(6, 13, root(6), root(13), ref.proof(6, 13));
    verifyConsistency(8, 13, root(8), root(13), ref.proof(8, 13));
    expect(ref.proof(8, 13)).not.toContainEqual(root(8));
  });

  test('m > n', () => {
    expectCode(() => verifyConsistency(7, 6, root(7), root(6), ref.proof(6, 7)), 'invalid-argument');
  });

  test('size 0, even with matching roots', () => {
    expectCode(() => verifyConsistency(0, 5, root(0), root(5), []), 'invalid-argument');
    expectCode(() => verifyConsistency(0, 0, root(0), root(0), []), 'invalid-argument');
  });

  test('equal sizes: empty proof and identical roots only', () => {
    verifyConsistency(9, 9, root(9), root(9), []);
    expectCode(() => verifyConsistency(9, 9, root(9), root(8), []), 'root-mismatch');
    expectCode(() => verifyConsistency(9, 9, root(9), root(9), [root(9)]), 'wrong-proof-size');
  });

  test('an empty proof between different sizes', () => {
    expectCode(() => verifyConsistency(4, 8, root(4), root(8), []), 'wrong-proof-size');
  });

  test('hashes that are not 32 bytes', () => {
    expectCode(() => verifyConsistency(6, 13, root(6).subarray(0, 31), root(13), ref.proof(6, 13)), 'bad-hash-size');
    expectCode(() => verifyConsistency(6, 13, root(6), root(13), [Buffer.alloc(0), ...ref.proof(6, 13).slice(1)]), 'bad-hash-size');
  });

  test('sizes that are not safe counts', () => {
    expectCode(() => verifyConsistency(1.5, 13, root(6), root(13), ref.proof(6, 13)), 'invalid-argument');
    expectCode(() => verifyConsistency(6, 2 ** 64, root(6), root(13), ref.proof(6, 13)), 'invalid-argument');
  });

  test('a genuine proof for other sizes does not carry over', () => {
    // Depending on the sizes it fails on its length or on the roots; either way, refused.
    expect(() => verifyConsistency(5, 13, root(5), root(13), ref.proof(6, 13))).toThrow(ProofError);
    expect(() => verifyConsistency(6, 12, root(6), root(12), ref.proof(6, 13))).toThrow(ProofError);
    expect(() => verifyConsistency(7, 13, root(7), root(13), ref.proof(6, 13))).toThrow(ProofError);
  });

  test('swapped roots', () => {
    expectCode(() => verifyConsistency(6, 13, root(13), root(6), ref.proof(6, 13)), 'root-mismatch');
  });
});
