/**
 * Leaves as an earlier worker left them: format-1 leaves encoded by the code at main
 * before leaves carried a version (test/ledger/fixtures/format-1-leaves.json), and a
 * way to append such exact bytes to a ledger database — the append path of today would
 * write them in today's format.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { leafHash } from '../../ledger/core/hashing';
import { MerkleTree } from '../../ledger/core/tree';
import { exclusive } from '../../ledger/store/database';
import { DbNodeStore } from '../../ledger/store/db-node-store';
import { LedgerLeaf, LedgerLeafIndex } from '../../ledger/store/entities';
import { leafIndexRowOfData } from '../../ledger/store/leaf-index';

export interface FixtureLeaf {
  /** base64 of the exact bytes. */
  leafData: string;
  /** base64 RFC 6962 leaf hash, as main computed it. */
  leafHash: string;
  /** The bytes as text, for reading the fixture. */
  text: string;
}

export const FORMAT_1_LEAVES: readonly FixtureLeaf[] = (
  JSON.parse(readFileSync(path.resolve(__dirname, '../ledger/fixtures/format-1-leaves.json'), 'utf8')) as { leaves: FixtureLeaf[] }
).leaves;

/** Appends leaves of exactly these texts — JSON objects with an id — (leaf rows, tree nodes, search columns) in one transaction; returns their indexes. */
export function appendLeafTexts(db: DataSource, texts: readonly string[]): Promise<number[]> {
  return exclusive(db, () =>
    db.transaction(async (tx) => {
      const hashes = texts.map((t) => leafHash(Buffer.from(t, 'utf8')));
      const { fromSize } = await new MerkleTree(new DbNodeStore(tx)).append(hashes);
      const indexes = texts.map((_, i) => fromSize + i);
      await tx.getRepository(LedgerLeaf).insert(
        texts.map((text, i) => ({ leafIndex: indexes[i]!, eventId: (JSON.parse(text) as { id: string }).id, leafHash: hashes[i]!.toString('base64'), leafData: text, appendedAt: new Date() })),
      );
      await tx.getRepository(LedgerLeafIndex).insert(texts.map((text, i) => leafIndexRowOfData(indexes[i]!, text)));
      return indexes;
    }),
  );
}
