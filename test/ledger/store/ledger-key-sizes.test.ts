/**
 * The migration that records the tree sizes each note key signs, on a ledger written
 * before it (keys swapped without an announcement, as the worker did then): the oldest
 * key signs from 0 until the last checkpoint before the next key's first; the newest is
 * current; a publisher with the current key goes on signing, and `GET /ledger/keys`'s
 * read shows the legacy swap as it was — a key with no announcing checkpoint.
 */
import { openDatabase, sqlQuery } from '../../../common/database';
import { signCheckpoint } from '../../../ledger/core/checkpoint';
import { generateNoteKey, parseSignerKey } from '../../../ledger/core/note';
import { fromSignerKey } from '../../../ledger/core/note-key';
import { publishCheckpoint } from '../../../ledger/pipeline/checkpoint-publisher';
import { appendEvents } from '../../../ledger/store/append';
import { LEDGER_DATABASE, openLedgerDatabase } from '../../../ledger/store/database';
import { LedgerKeySizes1765000000000 } from '../../../ledger/store/migrations/1765000000000-ledger-key-sizes';
import { ledgerKeys } from '../../../ledger/store/ledger-keys';
import { ledgerTree } from '../../../ledger/store/read-model';
import { encodeBase64 } from '../../../ledger/core/encoding';
import { freshDatabase } from '../../support/database';
import { testEvent } from '../../support/ledger-pipeline';

const ORIGIN = 'custodian.test/legacy';

test('legacy keys get the sizes they signed; the newest stays current and keeps signing', async () => {
  const database = await freshDatabase();
  const [a, b] = [generateNoteKey(ORIGIN), generateNoteKey(ORIGIN)];
  // Every migration older than the one under test (later ones, e.g. the lease's, are not its concern).
  const all = LEDGER_DATABASE.migrations as (typeof LedgerKeySizes1765000000000)[];
  const before = all.slice(0, all.indexOf(LedgerKeySizes1765000000000)) as typeof LEDGER_DATABASE.migrations;
  const old = await openDatabase({ ...LEDGER_DATABASE, migrations: before }, database.env);
  try {
    // Leaves through the real append (it writes only tables older than the migration).
    await appendEvents(old, [1, 2, 3, 4].map((i) => testEvent(i)));
    const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, s)).toISOString();
    const checkpoint = async (size: number, key: typeof a, second: number) => {
      const rootHash = await ledgerTree(old).rootHash(size);
      const note = signCheckpoint({ origin: ORIGIN, size, rootHash }, parseSignerKey(key.signerKey));
      await sqlQuery(old, 'INSERT INTO ledger_checkpoint (size, root, note, published_at) VALUES (:size, :root, :note, :at)', { size, root: encodeBase64(rootHash), note, at: at(second) });
    };
    // Raw SQL: the entities describe the table after the migration.
    const recordKey = (key: typeof a, second: number) => sqlQuery(old, 'INSERT INTO ledger_key (verifier_key, first_used_at) VALUES (:key, :at)', { key: key.verifierKey, at: at(second) });
    await recordKey(a, 0);
    await checkpoint(0, a, 0);
    await checkpoint(1, a, 1);
    await checkpoint(2, a, 2);
    await recordKey(b, 3);
    await checkpoint(3, b, 3);
  } finally {
    await old.destroy();
  }

  const ledger = await openLedgerDatabase(database.env);
  try {
    expect((await ledgerKeys(ledger)).map((k) => [k.verifierKey, k.fromSize, k.retiredAtSize])).toEqual([
      [a.verifierKey, 0, 2],
      [b.verifierKey, 3, null],
    ]);
    // The current key signs on; the retired one cannot.
    await expect(publishCheckpoint(ledger, fromSignerKey(a.signerKey), ORIGIN)).rejects.toThrow(/retired at tree size 2/);
    await expect(publishCheckpoint(ledger, fromSignerKey(b.signerKey), ORIGIN)).resolves.toMatchObject({ size: 4 });
  } finally {
    await ledger.destroy();
    await database.drop();
  }
});
