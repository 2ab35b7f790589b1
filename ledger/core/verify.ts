/**
 * Verification of RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs,
 * written from the RFC's algorithms rather than from the tree code, so the two check
 * each other. Semantics match transparency-dev/merkle (see the shared test vectors).
 *
 * Every function throws ProofError on failure and returns normally on success: a caller
 * cannot forget to look at a boolean and accept a bad proof by accident.
 *
 * Sizes are JS numbers and must be safe integers; anything else (including the 2^64-1
 * "index minus one" vectors, which JSON turns into an inexact number) is refused. The
 * bit manipulation uses BigInt so it stays exact above 2^32.
 */
import { HASH_SIZE, nodeHash } from './hashing';
import { isSafeCount } from './encoding';

export type ProofErrorCode =
  /** A size or index is not a non-negative safe integer, or the sizes do not admit a proof. */
  | 'invalid-argument'
  /** A leaf hash, proof element or root is not a 32-byte SHA-256 digest. */
  | 'bad-hash-size'
  /** The proof does not have the exact number of elements the sizes call for. */
  | 'wrong-proof-size'
  /** The proof is well-formed but leads to a different root. */
  | 'root-mismatch';

export class ProofError extends Error {
  override readonly name = 'ProofError';
  constructor(
    readonly code: ProofErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The root that an inclusion proof implies for the leaf. Use it when the root comes from
 * elsewhere (a checkpoint) and verifyInclusion when you already hold the trusted root.
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  requireCount('leaf index', leafIndex);
  requireCount('tree size', treeSize);
  if (leafIndex >= treeSize) {
    throw new ProofError('invalid-argument', `leaf index ${leafIndex} is not below tree size ${treeSize}`);
  }
  requireHash('leaf hash', leafHash);
  proof.forEach((p, i) => requireHash(`proof[${i}]`, p));

  const { inner, border } = decomposeInclusion(BigInt(leafIndex), BigInt(treeSize));
  if (proof.length !== inner + border) {
    throw new ProofError('wrong-proof-size', `inclusion proof has ${proof.length} hashes, want ${inner + border}`);
  }

  // RFC 9162 §2.1.3.2, steps 2-5.
  let fn = BigInt(leafIndex);
  let sn = BigInt(treeSize - 1);
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0n) throw new ProofError('wrong-proof-size', 'inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError('wrong-proof-size', 'inclusion proof is too short');
  return r;
}

/** Succeeds iff `proof` shows the leaf with this hash at leafIndex in the tree with this root. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof);
  requireHash('root', root);
  if (!computed.equals(root)) throw new ProofError('root-mismatch', 'inclusion proof leads to a different root');
}

/**
 * Succeeds iff `proof` shows the tree with root rootM (size m) is a prefix of the tree
 * with root rootN (size n).
 *
 * m = 0 is refused: every tree extends the empty tree, so such a "proof" shows nothing,
 * and transparency-dev refuses it too. For m = n the proof must be empty and the roots
 * byte-identical; like transparency-dev the roots' length is not checked there, since
 * equality of the two values is the entire claim (checkpoint parsing already insists on
 * 32-byte roots).
 */
export function verifyConsistency(
  m: number,
  n: number,
  rootM: Uint8Array,
  rootN: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  requireCount('first size', m);
  requireCount('second size', n);
  if (m > n) throw new ProofError('invalid-argument', `first size ${m} exceeds second size ${n}`);
  if (m === 0) throw new ProofError('invalid-argument', 'a consistency proof from the empty tree proves nothing');
  if (m === n) {
    if (proof.length !== 0) throw new ProofError('wrong-proof-size', 'sizes are equal but the proof is not empty');
    if (!Buffer.from(rootM).equals(rootN)) throw new ProofError('root-mismatch', 'sizes are equal but roots differ');
    return;
  }
  requireHash('first root', rootM);
  requireHash('second root', rootN);
  proof.forEach((p, i) => requireHash(`proof[${i}]`, p));

  const bigM = BigInt(m);
  const bigN = BigInt(n);
  const mIsPowerOfTwo = (bigM & (bigM - 1n)) === 0n;
  const want = expectedConsistencySize(bigM, bigN);
  if (proof.length !== want) {
    throw new ProofError('wrong-proof-size', `consistency proof has ${proof.length} hashes, want ${want}`);
  }

  // RFC 9162 §2.1.4.2. Step 2: when m is a power of two the old root is the seed.
  const path = mIsPowerOfTwo ? [rootM, ...proof] : [...proof];
  // Steps 3-4.
  let fn = bigM - 1n;
  let sn = bigN - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // Steps 5-6.
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError('wrong-proof-size', 'consistency proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  // Step 7.
  if (sn !== 0n) throw new ProofError('wrong-proof-size', 'consistency proof is too short');
  if (!fr.equals(rootM)) throw new ProofError('root-mismatch', 'consistency proof does not lead to the first root');
  if (!sr.equals(rootN)) throw new ProofError('root-mismatch', 'consistency proof does not lead to the second root');
}

/**
 * Shape of the audit path of `index` in a tree of `size` leaves: `inner` levels below
 * the point where the path meets the tree's right border, then `border` left siblings
 * above it (one per set bit of the index above that point).
 */
function decomposeInclusion(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  return { inner, border };
}

/**
 * Number of hashes in the consistency proof from m to n (0 < m < n): the audit path of
 * the old tree's last perfect subtree, plus that subtree's own hash unless m is a power
 * of two (then it is rootM, which the verifier already holds).
 */
function expectedConsistencySize(m: bigint, n: bigint): number {
  const { inner, border } = decomposeInclusion(m - 1n, n);
  const shift = trailingZeros(m);
  const seed = (m & (m - 1n)) === 0n ? 0 : 1;
  return seed + (inner - shift) + border;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function popCount(x: bigint): number {
  let count = 0;
  for (const digit of x.toString(2)) if (digit === '1') count++;
  return count;
}

function trailingZeros(x: bigint): number {
  if (x === 0n) throw new RangeError('trailing zeros of 0'); // callers exclude it; never loop forever
  let count = 0;
  while ((x & 1n) === 0n) {
    x >>= 1n;
    count++;
  }
  return count;
}

function requireCount(what: string, value: number): void {
  if (!isSafeCount(value)) throw new ProofError('invalid-argument', `${what} ${value} is not a non-negative safe integer`);
}

function requireHash(what: string, hash: Uint8Array): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    throw new ProofError('bad-hash-size', `${what} is not a ${HASH_SIZE}-byte hash`);
  }
}
