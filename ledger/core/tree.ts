/**
 * An append-only RFC 6962 / RFC 9162 Merkle tree over an abstract NodeStore.
 *
 * Every read — a root, an inclusion proof, a consistency proof, at the current size or
 * any earlier one — first works out which perfect-subtree hashes it needs (at most about
 * 2·log2(n)), fetches them with one getNodes call, then hashes. Nothing is rebuilt and no
 * leaf outside the proof is read. Historical sizes are safe because every part is chosen
 * inside [0, treeSize) and perfect nodes never change once written.
 */
import { HASH_SIZE, emptyRoot, leafHash, nodeHash, nodeHashAt } from './hashing';
import { isSafeCount } from './encoding';
import {
  MissingNodeError,
  nodeKeyString,
  type AppendRange,
  type NodeKey,
  type NodeRun,
  type NodeStore,
} from './node-store';
import { consistencyParts, inclusionParts, nodesCompletedByAppend, perfectSubtrees, type ProofPart } from './subtrees';

/** A size or index outside what the tree can answer for (the HTTP layer maps it to 400). */
export class TreeRangeError extends RangeError {
  override readonly name = 'TreeRangeError';
}

export class MerkleTree {
  /** Appends through this instance run one at a time; the store's compare-and-set covers other writers. */
  private appendQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: NodeStore) {}

  size(): Promise<number> {
    return this.store.size();
  }

  /**
   * Appends leaves given by their leaf hashes (SHA-256(0x00 ‖ data), 32 bytes each) and
   * stores every perfect node they complete in one putNodes call, one run per level.
   * Reads only the old tree's right frontier (≤ log2(n) nodes, one getNodes call).
   */
  append(leafHashes: readonly Uint8Array[]): Promise<AppendRange> {
    // Copy now, packed into one buffer: the caller may reuse its buffers before the
    // queued append runs, and one buffer is far cheaper than a million small ones.
    const packed = Buffer.allocUnsafe(leafHashes.length * HASH_SIZE);
    leafHashes.forEach((hash, i) => {
      if (hash.length !== HASH_SIZE) throw new TreeRangeError(`leaf hash ${i} is ${hash.length} bytes, not ${HASH_SIZE}`);
      packed.set(hash, i * HASH_SIZE);
    });
    return this.exclusive(() => this.appendNow(packed));
  }

  /** Appends leaves by their exact bytes, hashing each as an RFC 6962 leaf. */
  appendLeafData(leaves: readonly Uint8Array[]): Promise<AppendRange> {
    return this.append(leaves.map((data) => leafHash(data)));
  }

  /** MTH(D[0:treeSize]); the current root when treeSize is omitted. */
  async rootHash(treeSize?: number): Promise<Buffer> {
    const size = await this.store.size();
    const n = treeSize ?? size;
    this.checkSize('tree size', n, size);
    if (n === 0) return emptyRoot();
    const [root] = await this.fetchParts([perfectSubtrees(0, n)]);
    return root;
  }

  /** PATH(leafIndex, D[0:treeSize]) per RFC 9162 §2.1.3.1, bottom up. */
  async inclusionProof(leafIndex: number, treeSize: number): Promise<Buffer[]> {
    const size = await this.store.size();
    this.checkSize('tree size', treeSize, size);
    if (!isSafeCount(leafIndex) || leafIndex >= treeSize) {
      throw new TreeRangeError(`leaf index ${leafIndex} is not below tree size ${treeSize}`);
    }
    return this.fetchParts(inclusionParts(0, leafIndex, treeSize));
  }

  /**
   * PROOF(fromSize, D[0:toSize]) per RFC 9162 §2.1.4.1. fromSize must be at least 1: a
   * proof from the empty tree proves nothing and verifiers refuse it. Equal sizes give
   * an empty proof.
   */
  async consistencyProof(fromSize: number, toSize: number): Promise<Buffer[]> {
    const size = await this.store.size();
    this.checkSize('to size', toSize, size);
    if (!isSafeCount(fromSize) || fromSize < 1 || fromSize > toSize) {
      throw new TreeRangeError(`no consistency proof from size ${fromSize} to size ${toSize}`);
    }
    return this.fetchParts(consistencyParts(fromSize, toSize));
  }

  private checkSize(what: string, n: number, currentSize: number): void {
    if (!isSafeCount(n) || n > currentSize) {
      throw new TreeRangeError(`${what} ${n} is not within the tree's ${currentSize} leaves`);
    }
  }

  /** One batched read for every node of every part, then each part folded to one hash. */
  private async fetchParts(parts: readonly ProofPart[]): Promise<Buffer[]> {
    const keys = new Map<string, NodeKey>();
    for (const part of parts) for (const key of part) keys.set(nodeKeyString(key), key);
    if (keys.size === 0) return [];
    const found = await this.store.getNodes([...keys.values()]);
    return parts.map((part) => {
      const hashes = part.map((key) => {
        const hash = found.get(nodeKeyString(key));
        if (!hash || hash.length !== HASH_SIZE) throw new MissingNodeError(key);
        return hash;
      });
      return foldRight(hashes);
    });
  }

  private async appendNow(packedLeaves: Buffer): Promise<AppendRange> {
    const fromSize = await this.store.size();
    const toSize = fromSize + packedLeaves.length / HASH_SIZE;
    if (!Number.isSafeInteger(toSize)) throw new TreeRangeError(`tree cannot grow past 2^53 leaves`);
    if (toSize === fromSize) return { fromSize, toSize };

    // The old tree's perfect subtrees are exactly the old nodes that new parents need as
    // left children: a level k node is old-left-child iff bit k of fromSize is set.
    const frontier = fromSize === 0 ? new Map<string, Buffer>() : await this.store.getNodes(perfectSubtrees(0, fromSize));

    // Level by level, each level's new nodes packed in one buffer, index `first` at offset 0.
    const runs: NodeRun[] = [];
    let below = packedLeaves;
    let belowFirst = fromSize;
    for (const { level, first, end } of nodesCompletedByAppend(fromSize, toSize)) {
      let current = packedLeaves;
      if (level > 0) {
        current = Buffer.allocUnsafe((end - first) * HASH_SIZE);
        for (let index = first; index < end; index++) {
          const leftIndex = 2 * index;
          // The right child is always new; the left one is new or on the old frontier.
          let left = below;
          let leftOffset = (leftIndex - belowFirst) * HASH_SIZE;
          if (leftIndex < belowFirst) {
            const key = { level: level - 1, index: leftIndex };
            const stored = frontier.get(nodeKeyString(key));
            if (!stored || stored.length !== HASH_SIZE) throw new MissingNodeError(key);
            [left, leftOffset] = [stored, 0];
          }
          nodeHashAt(left, leftOffset, below, (leftIndex + 1 - belowFirst) * HASH_SIZE).copy(current, (index - first) * HASH_SIZE);
        }
      }
      runs.push({ level, first, hashes: current });
      below = current;
      belowFirst = first;
    }

    await this.store.putNodes(runs, { fromSize, toSize });
    return { fromSize, toSize };
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.appendQueue.then(task, task);
    this.appendQueue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Hash of consecutive perfect subtrees that lie on a right edge: h0 ‖ (h1 ‖ (h2 ‖ …)).
 * A single hash folds to itself.
 */
function foldRight(hashes: readonly Buffer[]): Buffer {
  let accumulator = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) accumulator = nodeHash(hashes[i], accumulator);
  return accumulator;
}
