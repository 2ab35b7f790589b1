import type { DataSource } from 'typeorm';
import type { Env } from '../common/config';
import { createDataSource, type DatabaseSpec } from '../common/database';
import { ledgerEntities } from './entities';
import { CreateLedger1764403200000 } from './migrations/1764403200000-create-ledger';

/** `ledger.sqlite`, or the `ledger` schema in PostgreSQL. */
export const LEDGER_DATABASE: DatabaseSpec = { name: 'ledger', entities: ledgerEntities, migrations: [CreateLedger1764403200000] };

/**
 * Opens (and migrates) the ledger database. Both the ledger service and the gateway open
 * it, and `npm start` starts them together: when two processes migrate at once, the
 * loser fails on a table the winner just created. Trying again then finds the migration
 * recorded and succeeds.
 */
export async function openLedgerDatabase(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>, attempts = 3): Promise<DataSource> {
  for (let attempt = 1; ; attempt++) {
    // As openDatabase does, but closing a failed attempt's connections before the next.
    const db = createDataSource(LEDGER_DATABASE, env);
    try {
      await db.initialize();
      if (db.options.type === 'postgres') await db.query(`CREATE SCHEMA IF NOT EXISTS "${LEDGER_DATABASE.name}"`);
      await db.runMigrations({ transaction: 'each' });
      return db;
    } catch (err) {
      if (db.isInitialized) await db.destroy().catch(() => undefined);
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

const chains = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Runs `task` after every earlier task on the same DataSource has settled — on SQLite.
 *
 * TypeORM's better-sqlite3 driver has a single connection per DataSource: a second
 * transaction started while one is open silently becomes a SAVEPOINT inside it, and a
 * plain read in between sees the open transaction's uncommitted rows. So within one
 * process every ledger write (and every read that must not see half an append) takes
 * turns here. PostgreSQL has a connection pool and real isolation, so there it is a
 * pass-through; other processes are separate connections either way.
 *
 * Not re-entrant: inside a task, use the EntityManager (e.g. `new DbNodeStore(db.manager)`),
 * never something that takes a turn on the same DataSource again.
 */
export function exclusive<T>(db: DataSource, task: () => Promise<T>): Promise<T> {
  if (db.options.type !== 'better-sqlite3') return task();
  const previous = chains.get(db) ?? Promise.resolve();
  const run = previous.then(task, task);
  chains.set(
    db,
    run.catch(() => undefined),
  );
  return run;
}
