/**
 * The search columns of a leaf (ledger_leaf_index), read from its canonical JSON. They
 * are a convenience for finding leaves, never evidence: what a leaf says is its data,
 * and the audit subgraph answers from the data, not from these columns.
 */
import type { LedgerLeafIndex } from './entities';

const text = (value: unknown): string | null => (typeof value === 'string' && value.length <= 100 ? value : null);

export function leafIndexRow(leafIndex: number, leafData: string): LedgerLeafIndex {
  let event: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(leafData);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) event = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (only hand-made test leaves): indexed by position alone.
  }
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
