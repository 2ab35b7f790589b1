/**
 * The search columns of a leaf (ledger_leaf_index), read from its canonical JSON. They
 * are a convenience for finding leaves, never evidence: what a leaf says is its data,
 * and the audit subgraph answers from the data, not from these columns.
 */
import type { LedgerLeafIndex } from './entities';

const text = (value: unknown): string | null => (typeof value === 'string' && value.length <= 100 ? value : null);

/** What a leaf's bytes say, as an object; `{}` for data that is not a JSON object. */
export function parseLeaf(leafData: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(leafData);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Not JSON (only hand-made test leaves): indexed by position alone.
  }
  return {};
}

/** The search columns of the leaf at `leafIndex` holding `event` (the event appended, or parseLeaf of its data). */
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
