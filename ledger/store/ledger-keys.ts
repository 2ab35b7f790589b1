/**
 * The ledger's note keys as recorded in `ledger_key` (see LedgerVerifierKey): which key
 * signs which checkpoints. Written only by the checkpoint publisher, in the transaction
 * that stores the checkpoint; read by GET /ledger/key, GET /ledger/keys and the rotation
 * command.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { hexKeyId, parseVerifierKey } from '../core/note';
import { LedgerVerifierKey } from './entities';
import { exclusive } from './database';

/** One key as GET /ledger/keys lists it. */
export interface PublishedLedgerKey {
  /** `<name>+<hex key id>+<base64(0x01 ‖ public key)>`. */
  readonly verifierKey: string;
  /** 8 hex digits. */
  readonly keyId: string;
  /** The size of the first checkpoint it signs; for a rotated-in key, the announcing checkpoint. */
  readonly fromSize: number;
  /** When it was first used; for a rotated-in key, when its announcement was published. */
  readonly announcedAt: string;
  /** The size of the last checkpoint it signs (its successor's announcement); null while current. */
  readonly retiredAtSize: number | null;
}

/** Every recorded key, oldest first. */
export async function readLedgerKeys(manager: EntityManager, lock = false): Promise<LedgerVerifierKey[]> {
  const rows = await manager.getRepository(LedgerVerifierKey).find({
    order: { firstUsedAt: 'ASC', verifierKey: 'ASC' },
    // PostgreSQL: publishers of several workers take turns on the key rows, so none signs
    // with a key another has just retired. (SQLite transactions are serial already.)
    ...(lock && manager.connection.options.type === 'postgres' ? { lock: { mode: 'pessimistic_write' as const } } : {}),
  });
  return rows
    .map((r) => ({ ...r, fromSize: r.fromSize === null ? null : Number(r.fromSize), retiredAtSize: r.retiredAtSize === null ? null : Number(r.retiredAtSize) }))
    .sort((a, b) => (a.fromSize ?? 0) - (b.fromSize ?? 0) || a.firstUsedAt.getTime() - b.firstUsedAt.getTime());
}

/** The key that signs the next checkpoint: the newest not retired. */
export function activeKey(rows: readonly LedgerVerifierKey[]): LedgerVerifierKey | undefined {
  return [...rows].reverse().find((r) => r.retiredAtSize === null);
}

export function ledgerKeys(db: DataSource): Promise<PublishedLedgerKey[]> {
  return exclusive(db, async () =>
    (await readLedgerKeys(db.manager)).map((r) => ({
      verifierKey: r.verifierKey,
      keyId: hexKeyId(parseVerifierKey(r.verifierKey).keyId),
      fromSize: r.fromSize ?? 0,
      announcedAt: r.firstUsedAt.toISOString(),
      retiredAtSize: r.retiredAtSize,
    })),
  );
}

/** The verifier key that signs now (GET /ledger/key); null before the first checkpoint. */
export function currentLedgerKey(db: DataSource): Promise<string | null> {
  return exclusive(db, async () => activeKey(await readLedgerKeys(db.manager))?.verifierKey ?? null);
}
