/**
 * The search columns of a leaf (ledger_leaf_index). They are a convenience for finding
 * leaves, never evidence: what a leaf says is its data, and the audit subgraph answers
 * from the data (read by ledger/core/leaf.ts readLeaf), not from these columns.
 */
import { LeafFormatError, readLeaf } from '../core/leaf';
import type { LedgerLeafIndex } from './entities';

const text = (value: unknown): string | null => (typeof value === 'string' && value.length <= 100 ? value : null);

/** The search columns of the leaf at `leafIndex` holding `event`. */
export function leafIndexRow(leafIndex: number, event: Readonly<Record<string, unknown>>): LedgerLeafIndex {
  const at = typeof event.at === 'string' ? new Date(event.at) : new Date(NaN);
  return {
    leafIndex,
    kind: text(event.kind) ?? 'unknown',
    at: Number.isNaN(at.getTime()) ? new Date(0) : at,
    patientId: text(event.patientId),
    subject: text(event.subject),
    category: text(event.category),
    decision: text(event.decision),
  };
}

/** The search columns of a stored leaf's data; data that is no leaf (hand-made in tests) is indexed by position alone. */
export function leafIndexRowOfData(leafIndex: number, leafData: string): LedgerLeafIndex {
  try {
    return leafIndexRow(leafIndex, readLeaf(leafData).event);
  } catch (err) {
    if (!(err instanceof LeafFormatError)) throw err;
    return leafIndexRow(leafIndex, {});
  }
}
