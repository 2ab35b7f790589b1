/**
 * The audit subgraph's handle on the ledger database the worker appends to. It reads
 * through the ledger's one read model (ledger/store/read-model.ts) — leaves found through
 * their search columns, proofs from the stored tree nodes, checkpoints as published —
 * and never writes there.
 */
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Env } from '../../common/config';
import { metrics } from '../../common/metrics/series';
import { encodeBase64 } from '../../ledger/core/encoding';
import { openLedgerDatabase } from '../../ledger/store/database';
import { latestCheckpoint, ledgerTree, type StoredCheckpoint } from '../../ledger/store/read-model';
import type { SubgraphContext } from '../kit/context';
import type { SubgraphResources } from '../kit/server';

export async function openLedger(env: Env): Promise<SubgraphResources> {
  const ledger = await openLedgerDatabase(env);
  return { values: { ledger }, close: () => ledger.destroy() };
}

export function ledgerOf(ctx: SubgraphContext): DataSource {
  return ctx.resources.ledger as DataSource;
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
  const served = metrics.proofTimer('inclusion', 'audit');
  const hashes = await ledgerTree(ledgerOf(ctx)).inclusionProof(index, checkpoint.size);
  served();
  return { treeSize: checkpoint.size, hashes: hashes.map(encodeBase64), checkpoint: checkpoint.note };
}
