/**
 * Reading the ledger back: entries (GET /ledger/entries/I) and the tree for proofs.
 * On SQLite, call these from a process that does not also append, or through
 * `exclusive` (database.ts) — entry() does so itself.
 */
import type { DataSource } from 'typeorm';
import { decodeBase64Strict, encodeBase64 } from '../core/encoding';
import { leafHash } from '../core/hashing';
import { MerkleTree } from '../core/tree';
import { DbNodeStore } from './db-node-store';
import { LedgerLeaf } from './entities';
import { exclusive } from './database';
import type { LedgerEvent } from '../core/leaf';

export interface LedgerEntry {
  readonly index: number;
  /** base64 SHA-256(0x00 ‖ leaf data). */
  readonly leafHash: string;
  /** base64 of the exact bytes hashed: the canonical JSON of `event`. */
  readonly leafData: string;
  readonly event: LedgerEvent;
}

/** The leaf at `index`, or null when there is none. */
export function entry(db: DataSource, index: number): Promise<LedgerEntry | null> {
  if (!Number.isSafeInteger(index) || index < 0 || index > 2 ** 31 - 1) return Promise.resolve(null);
  return exclusive(db, async () => {
    const row = await db.manager.findOne(LedgerLeaf, { where: { leafIndex: index } });
    if (!row) return null;
    const data = Buffer.from(row.leafData, 'utf8');
    // The stored text must still be the bytes that were hashed; refuse to serve it otherwise.
    if (!decodeBase64Strict(row.leafHash)?.equals(leafHash(data))) {
      throw new Error(`ledger leaf ${index} does not match its stored hash`);
    }
    return { index: Number(row.leafIndex), leafHash: row.leafHash, leafData: encodeBase64(data), event: JSON.parse(row.leafData) as LedgerEvent };
  });
}

/** The Merkle tree over the ledger database, for roots and proofs. */
export function ledgerTree(db: DataSource): MerkleTree {
  return new MerkleTree(new DbNodeStore(db));
}
