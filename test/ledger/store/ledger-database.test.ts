/**
 * The ledger database can be opened by several processes starting at once (`npm start`
 * starts the gateway and the ledger service together): each migrates or finds it done.
 * On PostgreSQL, plain concurrent migration loses the race on CREATE TABLE.
 */
import { LEDGER_DATABASE, openLedgerDatabase } from '../../../ledger/store/database';
import { LedgerState } from '../../../ledger/store/entities';
import { freshDatabase } from '../../support/database';

test('concurrent opens all succeed and leave one migrated ledger with one state row', async () => {
  const database = await freshDatabase();
  try {
    const opened = await Promise.allSettled([1, 2, 3, 4].map(() => openLedgerDatabase(database.env)));
    const ok = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(opened.filter((r) => r.status === 'rejected')).toEqual([]);
      expect(await ok[0].getRepository(LedgerState).find()).toEqual([{ id: 1, size: 0 }]);
      expect(await ok[0].query('SELECT name FROM migrations')).toHaveLength((LEDGER_DATABASE.migrations as unknown[]).length);
    } finally {
      for (const db of ok) await db.destroy();
    }
  } finally {
    await database.drop();
  }
});
