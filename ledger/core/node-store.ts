/**
 * The storage boundary of the Merkle tree. A store keeps only the hashes of *perfect*
 * (complete) subtrees: level 0 holds the leaf hashes, and node (level k, index i) is the
 * hash of leaves [i·2^k, (i+1)·2^k). Such a node never changes once every leaf under it
 * exists, so stored rows are immutable: appends only insert, and a proof for any
 * historical size can be served from the same rows. Nodes on the right edge of a tree
 * whose size is not a power of two ("ephemeral" nodes) are never stored; the tree
 * recomputes them from at most log2(n) perfect nodes.
 *
 * Level k holds exactly floor(size / 2^k) nodes, indices 0.. dense, which is what lets a
 * database store them as (level, index) → hash with a plain primary key.
 */
import { HASH_SIZE } from './hashing';

export interface NodeKey {
  readonly level: number;
  readonly index: number;
}

/**
 * Consecutive perfect nodes of one level — indices first, first+1, … — with their hashes
 * packed 32 bytes each. An append completes one contiguous run per level, so a batch of
 * a million leaves is about twenty runs rather than two million small objects, and a
 * database can turn each run into one multi-row insert (see nodesOfRun).
 */
export interface NodeRun {
  readonly level: number;
  readonly first: number;
  readonly hashes: Buffer;
}

export interface StoredNode extends NodeKey {
  readonly hash: Buffer;
}

/** The tree sizes before and after one append. */
export interface AppendRange {
  readonly fromSize: number;
  readonly toSize: number;
}

export interface NodeStore {
  /** Number of leaves committed so far. */
  size(): Promise<number>;

  /**
   * Batch read. The result maps `nodeKeyString(key)` to the hash; keys the store does not
   * hold are simply absent (the tree turns that into a MissingNodeError). The tree makes
   * exactly one call per root or proof, so a database needs one round trip.
   */
  getNodes(keys: readonly NodeKey[]): Promise<Map<string, Buffer>>;

  /**
   * Atomically inserts the perfect nodes completed by appending leaves
   * [range.fromSize, range.toSize) — one run per level, exactly
   * nodesCompletedByAppend(fromSize, toSize) — and advances the size to range.toSize.
   *
   * Must reject with ConcurrentAppendError, writing nothing, when the stored size is not
   * range.fromSize: that compare-and-set is what keeps two writers (two worker processes,
   * or a retried job) from interleaving appends. A database does the inserts and the
   * size update in one transaction, so a crash never exposes a size whose nodes are
   * missing.
   */
  putNodes(runs: readonly NodeRun[], range: AppendRange): Promise<void>;
}

/** The map key used by getNodes results. */
export function nodeKeyString(key: NodeKey): string {
  return `${key.level}:${key.index}`;
}

/** The individual nodes of a run, for stores that write one row per node. */
export function nodesOfRun(run: NodeRun): StoredNode[] {
  const nodes: StoredNode[] = [];
  for (let offset = 0; offset < run.hashes.length; offset += HASH_SIZE) {
    nodes.push({ level: run.level, index: run.first + offset / HASH_SIZE, hash: run.hashes.subarray(offset, offset + HASH_SIZE) });
  }
  return nodes;
}

/** The store's size moved under us: another writer appended first. Safe to retry. */
export class ConcurrentAppendError extends Error {
  override readonly name = 'ConcurrentAppendError';
  constructor(
    readonly expectedSize: number,
    readonly actualSize: number,
  ) {
    super(`tree size is ${actualSize}, not ${expectedSize}: another append committed first`);
  }
}

/** A node the tree needs is absent or not 32 bytes: the store is corrupt or behind its size. */
export class MissingNodeError extends Error {
  override readonly name = 'MissingNodeError';
  constructor(readonly key: NodeKey) {
    super(`node store has no valid hash for level ${key.level} index ${key.index}`);
  }
}
