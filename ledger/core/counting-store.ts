/**
 * A NodeStore that counts what the tree asks of the store it wraps: how the tests and
 * the benchmark show that a proof costs O(log n) node reads, not a rebuild.
 */
import type { AppendRange, NodeKey, NodeRun, NodeStore } from './node-store';

export class CountingStore implements NodeStore {
  getNodesCalls = 0;
  nodesRead = 0;
  sizeCalls = 0;
  putNodesCalls = 0;
  constructor(private readonly inner: NodeStore) {}

  reset(): void {
    this.getNodesCalls = this.nodesRead = this.sizeCalls = this.putNodesCalls = 0;
  }
  size(): Promise<number> {
    this.sizeCalls++;
    return this.inner.size();
  }
  getNodes(keys: readonly NodeKey[]): Promise<Map<string, Buffer>> {
    this.getNodesCalls++;
    this.nodesRead += keys.length;
    return this.inner.getNodes(keys);
  }
  putNodes(runs: readonly NodeRun[], range: AppendRange): Promise<void> {
    this.putNodesCalls++;
    return this.inner.putNodes(runs, range);
  }
}
