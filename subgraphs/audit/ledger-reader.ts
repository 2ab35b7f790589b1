/**
 * The audit subgraph reads the ledger database the worker appends to: leaves found
 * through their search columns (ledger_leaf_index), proofs from the stored tree nodes,
 * checkpoints as published. It never writes there.
 */
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Env } from '../../common/config';
import { openLedgerDatabase } from '../../ledger/store/database';
import { latestCheckpoint, type StoredCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { LedgerLeaf, LedgerLeafIndex } from '../../ledger/store/entities';
import { encodeBase64 } from '../../ledger/core/encoding';
import { parseLeaf } from '../../ledger/store/leaf-index';
import { ledgerTree } from '../../ledger/store/read-model';
import type { SubgraphContext } from '../kit/context';
import type { SubgraphResources } from '../kit/server';

export async function openLedger(env: Env): Promise<SubgraphResources> {
  const ledger = await openLedgerDatabase(env);
  return { values: { ledger }, close: () => ledger.destroy() };
}

export function ledgerOf(ctx: SubgraphContext): DataSource {
  return ctx.resources.ledger as DataSource;
}

/** A leaf as the audit trail shows it: position, exact bytes, and what they say. */
export interface AuditLeaf {
  index: number;
  /** The canonical JSON text that was hashed. */
  leafData: string;
  /** As stored (base64); a client recomputes it from leafData to check. */
  leafHash: string;
  event: Record<string, unknown>;
}

export interface TrailFilter {
  patientId?: string | null;
  subject?: string | null;
  /** Leave out this actor's events (a patient's own reads of their record). */
  notSubject?: string | null;
  category?: string | null;
  decision?: 'permit' | 'deny' | null;
  kind?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/** Leaves matching `filter`, newest first, below `beforeIndex`; at most `limit`. */
export async function findLeaves(db: DataSource, filter: TrailFilter, limit: number, beforeIndex?: number): Promise<AuditLeaf[]> {
  const qb = db
    .createQueryBuilder()
    .select('i.leafIndex', 'leaf_index')
    .addSelect('l.leafData', 'leaf_data')
    .addSelect('l.leafHash', 'leaf_hash')
    .from(LedgerLeafIndex, 'i')
    .innerJoin(LedgerLeaf, 'l', 'l.leafIndex = i.leafIndex')
    .where('1 = 1');
  if (filter.patientId) qb.andWhere('i.patientId = :patientId', { patientId: filter.patientId });
  if (filter.subject) qb.andWhere('i.subject = :subject', { subject: filter.subject });
  if (filter.notSubject) qb.andWhere('(i.subject IS NULL OR i.subject <> :notSubject)', { notSubject: filter.notSubject });
  if (filter.category) qb.andWhere('i.category = :category', { category: filter.category });
  if (filter.decision) qb.andWhere('i.decision = :decision', { decision: filter.decision });
  if (filter.kind) qb.andWhere('i.kind = :kind', { kind: filter.kind });
  // Instants are fixed-width UTC text, so text order is time order.
  if (filter.from) qb.andWhere('i.at >= :from', { from: filter.from.toISOString() });
  if (filter.to) qb.andWhere('i.at < :to', { to: filter.to.toISOString() });
  if (beforeIndex !== undefined) qb.andWhere('i.leafIndex < :before', { before: beforeIndex });
  const rows: { leaf_index: number | string; leaf_data: string; leaf_hash: string }[] = await qb.orderBy('i.leafIndex', 'DESC').limit(limit).getRawMany();
  return rows.map((r) => ({ index: Number(r.leaf_index), leafData: r.leaf_data, leafHash: r.leaf_hash, event: parseLeaf(r.leaf_data) }));
}

/** The latest published checkpoint, read once per request. */
export function checkpointFor(ctx: SubgraphContext): Promise<StoredCheckpoint | null> {
  return ctx
    .loader(
      'audit:checkpoint',
      () =>
        new DataLoader<string, StoredCheckpoint | null>(async (keys) => {
          const latest = await latestCheckpoint(ledgerOf(ctx));
          return keys.map(() => latest);
        }),
    )
    .load('latest');
}

/** The audit path of leaf `index` to the latest checkpoint, or null when no checkpoint covers it yet. */
export async function inclusionOf(ctx: SubgraphContext, index: number) {
  const checkpoint = await checkpointFor(ctx);
  if (!checkpoint || index >= checkpoint.size) return null;
  const hashes = await ledgerTree(ledgerOf(ctx)).inclusionProof(index, checkpoint.size);
  return { treeSize: checkpoint.size, hashes: hashes.map(encodeBase64), checkpoint: checkpoint.note };
}
