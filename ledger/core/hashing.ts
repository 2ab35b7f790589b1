/**
 * RFC 6962 / RFC 9162 §2.1.1 hashing. The one-byte prefixes keep leaf and interior
 * hashes in separate domains, so a leaf can never be passed off as an interior node
 * (the second-preimage attack on plain Merkle trees).
 */
import { createHash, hash } from 'node:crypto';

/** Every hash in the ledger is a SHA-256 digest. */
export const HASH_SIZE = 32;

// Hashing dominates appends, so each hash is one call of the one-shot crypto.hash
// (Node ≥ 20.12) over a single buffer. Against createHash().update().update().digest()
// that is a third of the time: no Hash object for the garbage collector to finalise,
// and one crossing into C++ instead of four. Node hashes are built in a reused scratch
// buffer, which is safe because crypto.hash consumes its input synchronously.
const nodeScratch = Buffer.alloc(1 + 2 * HASH_SIZE);

/** MTH({d}) = SHA-256(0x00 ‖ d): the hash of one leaf's exact bytes. */
export function leafHash(data: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + data.length);
  input[0] = 0x00;
  input.set(data, 1);
  return hash('sha256', input, 'buffer');
}

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const fits = left.length === HASH_SIZE && right.length === HASH_SIZE;
  const input = fits ? nodeScratch : Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash('sha256', input, 'buffer');
}

/**
 * nodeHash of two 32-byte hashes read in place from packed buffers (as the tree keeps
 * whole levels during an append), without making a Buffer view for each child.
 */
export function nodeHashAt(left: Buffer, leftOffset: number, right: Buffer, rightOffset: number): Buffer {
  nodeScratch[0] = 0x01;
  left.copy(nodeScratch, 1, leftOffset, leftOffset + HASH_SIZE);
  right.copy(nodeScratch, 1 + HASH_SIZE, rightOffset, rightOffset + HASH_SIZE);
  return hash('sha256', nodeScratch, 'buffer');
}

/**
 * MTH({}) = SHA-256(""), the root of the empty tree. A function rather than a shared
 * constant so no caller can mutate the value everyone else compares against.
 */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}
