/**
 * A NodeStore in process memory, for tests, benchmarks and the verifier's scratch trees.
 * Because each level is dense (indices 0..floor(size/2^k)-1), a level is one growable
 * buffer of 32-byte slots rather than a Map of small Buffers: a million-leaf tree costs
 * about 64 MB instead of several hundred.
 *
 * It enforces the NodeStore contract strictly (compare-and-set on the size, exactly the
 * nodes the append completes, nothing else) so that a tree bug shows up as an error here
 * instead of as a silently wrong root later.
 */
import { HASH_SIZE } from './hashing';
import {
  ConcurrentAppendError,
  nodeKeyString,
  type AppendRange,
  type NodeKey,
  type NodeRun,
  type NodeStore,
} from './node-store';
import { nodesCompletedByAppend } from './subtrees';
import { isSafeCount } from './encoding';

interface Level {
  slots: Buffer;
  count: number;
}

export class InMemoryNodeStore implements NodeStore {
  private treeSize = 0;
  private readonly levels: Level[] = [];

  async size(): Promise<number> {
    return this.treeSize;
  }

  async getNodes(keys: readonly NodeKey[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    for (const key of keys) {
      const level = this.levels[key.level];
      if (!level || !isSafeCount(key.index) || key.index >= level.count) continue;
      const offset = key.index * HASH_SIZE;
      // A copy: callers must not be able to rewrite history through a returned buffer.
      found.set(nodeKeyString(key), Buffer.from(level.slots.subarray(offset, offset + HASH_SIZE)));
    }
    return found;
  }

  async putNodes(runs: readonly NodeRun[], range: AppendRange): Promise<void> {
    const { fromSize, toSize } = range;
    if (fromSize !== this.treeSize) throw new ConcurrentAppendError(fromSize, this.treeSize);
    if (!isSafeCount(toSize) || toSize < fromSize) {
      throw new RangeError(`cannot move tree size from ${fromSize} to ${toSize}`);
    }

    // Validate everything before writing anything, so a bad call leaves the store as it was.
    const expected = nodesCompletedByAppend(fromSize, toSize);
    if (runs.length !== expected.length) {
      throw new RangeError(`append ${fromSize}..${toSize} completes nodes on ${expected.length} levels, got ${runs.length} runs`);
    }
    const byLevel = new Map<number, NodeRun>();
    for (const run of runs) {
      const want = expected[run.level];
      if (!want || byLevel.has(run.level)) throw new RangeError(`unexpected or repeated run for level ${run.level}`);
      if (run.first !== want.first || run.hashes.length !== (want.end - want.first) * HASH_SIZE) {
        throw new RangeError(
          `level ${run.level} run must hold nodes ${want.first}..${want.end - 1}, ` +
            `got ${run.hashes.length / HASH_SIZE} from ${run.first}`,
        );
      }
      byLevel.set(run.level, run);
    }

    for (const want of expected) {
      const level = this.level(want.level, want.end);
      byLevel.get(want.level)!.hashes.copy(level.slots, want.first * HASH_SIZE);
      level.count = want.end;
    }
    this.treeSize = toSize;
  }

  private level(k: number, capacityNodes: number): Level {
    const level = (this.levels[k] ??= { slots: Buffer.alloc(0), count: 0 });
    if (level.slots.length < capacityNodes * HASH_SIZE) {
      const grown = Buffer.alloc(Math.max(capacityNodes, level.count * 2, 64) * HASH_SIZE);
      level.slots.copy(grown, 0, 0, level.count * HASH_SIZE);
      level.slots = grown;
    }
    return level;
  }
}
