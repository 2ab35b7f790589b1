/**
 * Pure index arithmetic over perfect subtrees: which stored nodes make up a root, a
 * proof, or an append. No hashing and no I/O here, so the "which nodes" question can be
 * answered (and batched into one read) before any node is fetched.
 *
 * Sizes go up to 2^53, so this uses arithmetic rather than JS bit operators (which
 * truncate to 32 bits). Dividing an integer below 2^53 by a power of two is exact.
 */
import type { NodeKey } from './node-store';

/** A proof element: the hash of one perfect node, or the fold of several (ephemeral node). */
export type ProofPart = readonly NodeKey[];

const pow2 = (k: number): number => 2 ** k;

/**
 * The maximal perfect subtrees covering leaves [begin, end), left to right. When begin
 * is 0, or a multiple of a power of two larger than end - begin, folding their hashes
 * right to left gives MTH(D[begin:end]) exactly as RFC 6962 §2.1 splits it: the first
 * part is the largest power of two below the length, and so on down the right edge.
 */
export function perfectSubtrees(begin: number, end: number): NodeKey[] {
  const keys: NodeKey[] = [];
  let position = begin;
  while (position < end) {
    let level = 0;
    while (position % pow2(level + 1) === 0 && position + pow2(level + 1) <= end) level++;
    keys.push({ level, index: position / pow2(level) });
    position += pow2(level);
  }
  return keys;
}

/**
 * The audit path of the perfect node (level, index) in the tree of `size` leaves, bottom
 * up: exactly the RFC 9162 §2.1.3.1 PATH when level is 0. At each level the sibling is
 * either a stored perfect node, an ephemeral node on the right edge (returned as its
 * perfect parts, all inside [0, size)), or absent because it would start at or beyond
 * `size` — the node then rises unchanged, as in RFC 6962's unbalanced split.
 */
export function inclusionParts(level: number, index: number, size: number): ProofPart[] {
  const parts: ProofPart[] = [];
  let k = level;
  let current = index;
  while (!(current === 0 && pow2(k) >= size)) {
    const sibling = current % 2 === 0 ? current + 1 : current - 1;
    const start = sibling * pow2(k);
    if (start < size) {
      const end = start + pow2(k);
      parts.push(end <= size ? [{ level: k, index: sibling }] : perfectSubtrees(start, size));
    }
    current = Math.floor(current / 2);
    k++;
  }
  return parts;
}

/**
 * The RFC 9162 §2.1.4.1 consistency proof from size m to size n (0 < m ≤ n), expressed
 * as perfect nodes. The last perfect subtree of the old tree, (level, index) with
 * level = trailing zeros of m, is the seam between old and new: the proof is that node
 * (omitted when m is a power of two — it is then the old root, which the verifier
 * already has) followed by its audit path in the new tree. This is the same node
 * sequence SUBPROOF produces, computed without recursion.
 */
export function consistencyParts(m: number, n: number): ProofPart[] {
  if (!(m >= 1 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  if (m === n) return [];
  let level = 0;
  while ((m / pow2(level)) % 2 === 0) level++;
  const index = m / pow2(level) - 1;
  const parts: ProofPart[] = index === 0 ? [] : [[{ level, index }]];
  for (const part of inclusionParts(level, index, n)) parts.push(part);
  return parts;
}

/** For each level, the index range [first, end) of perfect nodes an append completes. */
export interface LevelRange {
  readonly level: number;
  readonly first: number;
  readonly end: number;
}

/**
 * Nodes that become perfect when the tree grows from `fromSize` to `toSize` leaves.
 * Level k goes from floor(from/2^k) to floor(to/2^k) nodes. If a level gains nothing, no
 * higher level can (a new parent needs a new right child), so the list stops there.
 */
export function nodesCompletedByAppend(fromSize: number, toSize: number): LevelRange[] {
  const ranges: LevelRange[] = [];
  for (let level = 0; ; level++) {
    const first = Math.floor(fromSize / pow2(level));
    const end = Math.floor(toSize / pow2(level));
    if (first >= end) return ranges;
    ranges.push({ level, first, end });
  }
}
