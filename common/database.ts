/**
 * One TypeORM DataSource per subgraph: each subgraph owns its data.
 *
 * - Embedded default (no DATABASE_URL): a SQLite file `<DATA_DIR>/<name>.sqlite`
 *   (better-sqlite3, WAL), so `npm start` needs no database server.
 * - Production and CI: PostgreSQL at DATABASE_URL, one schema per subgraph.
 *
 * Both run the same migrations, written with TypeORM's driver-neutral Table API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataSource, type Logger as TypeOrmLogger, type MixedList, type EntitySchema } from 'typeorm';
import { Counter } from 'prom-client';
import type { Env } from './config';

export interface DatabaseSpec {
  /** The owning service; also the SQLite file name and the PostgreSQL schema. */
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
}

export const dbQueries = new Counter({
  name: 'custodian_db_queries_total',
  help: 'SQL statements sent to the database, by owning service',
  labelNames: ['service'],
});

/** Counts statements so that batching (one query per page, not per row) is observable. */
class CountingLogger implements TypeOrmLogger {
  constructor(private readonly service: string) {}
  logQuery(): void {
    dbQueries.inc({ service: this.service });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

export function createDataSource(spec: DatabaseSpec, env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'> & { DATABASE_POOL_MAX?: number }): DataSource {
  const common = {
    entities: spec.entities,
    migrations: spec.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: ['query' as const],
    logger: new CountingLogger(spec.name),
  };
  if (env.DATABASE_URL) {
    return new DataSource({
      ...common,
      type: 'postgres',
      url: env.DATABASE_URL,
      schema: spec.name,
      // Unqualified names (raw SQL in repositories) resolve inside the subgraph's schema.
      extra: { options: `-c search_path=${spec.name}`, max: env.DATABASE_POOL_MAX ?? 4, idleTimeoutMillis: 10_000 },
    });
  }
  fs.mkdirSync(env.DATA_DIR, { recursive: true });
  return new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: path.join(env.DATA_DIR, `${spec.name}.sqlite`),
    enableWAL: true,
    // Seeding and a running subgraph may touch the same file; wait rather than fail.
    timeout: 10_000,
  });
}

/**
 * Opens the database and brings its schema up to date. Several processes may open the
 * same database at once (the gateway and the ledger service both open `ledger`): when
 * two migrate together, the loser fails on a table the winner just created, and trying
 * again finds the migration recorded. A failed attempt's connections are closed first.
 */
export async function openDatabase(spec: DatabaseSpec, env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'> & { DATABASE_POOL_MAX?: number }, attempts = 3): Promise<DataSource> {
  for (let attempt = 1; ; attempt++) {
    const ds = createDataSource(spec, env);
    try {
      await ds.initialize();
      if (ds.options.type === 'postgres') await ds.query(`CREATE SCHEMA IF NOT EXISTS "${spec.name}"`);
      await ds.runMigrations({ transaction: 'each' });
      return ds;
    } catch (err) {
      if (ds.isInitialized) await ds.destroy().catch(() => undefined);
      if (attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/**
 * A plain SQL statement with `:name` / `:...list` parameters, escaped by the driver. For
 * the few statements on every request's path (consent versions, project memberships):
 * TypeORM's query builder costs 3–5× more CPU than the statement itself there.
 */
export function sqlQuery<T = Record<string, unknown>>(db: DataSource, sql: string, params: Record<string, unknown>): Promise<T[]> {
  const [text, values] = db.driver.escapeQueryWithParameters(sql, params);
  return db.query(text, values);
}

const chains = new WeakMap<DataSource, Promise<unknown>>();

/** Runs before giving up on SQLITE_BUSY_SNAPSHOT (each is a rolled-back transaction, started again). */
const SNAPSHOT_ATTEMPTS = 5;

function isStaleSnapshot(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  return (e?.driverError?.code ?? e?.code) === 'SQLITE_BUSY_SNAPSHOT';
}

/** `task` again, after a short random pause, while it fails on a stale snapshot (https://www.sqlite.org/rescode.html#busy_snapshot). */
async function againOnStaleSnapshot<T>(task: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (err) {
      if (!isStaleSnapshot(err) || attempt >= SNAPSHOT_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 10));
    }
  }
}

/**
 * Runs `task` after every earlier task on the same DataSource has settled — on SQLite.
 *
 * TypeORM's better-sqlite3 driver has one connection per DataSource: statements issued
 * by other requests while a transaction is open (between its awaits) run inside it, and
 * vanish if it rolls back. So on SQLite every transaction that can roll back, and every
 * write that must not be swallowed by one, takes turns here. PostgreSQL has a pool and
 * real isolation: there this is a pass-through.
 *
 * Not re-entrant: inside a task, use the EntityManager it opened, never something that
 * takes a turn on the same DataSource again.
 *
 * Other processes write to the same file (the outbox relay prunes every outbox; the
 * audit and patients subgraphs share the consent database). A transaction that read and
 * then writes after one of them committed fails at once with SQLITE_BUSY_SNAPSHOT —
 * waiting cannot help, its snapshot is stale — so on SQLite a task is run again when
 * that happens. A task is therefore database work only: a whole transaction, or one write.
 */
export function serialized<T>(db: DataSource, task: () => Promise<T>): Promise<T> {
  if (db.options.type !== 'better-sqlite3') return task();
  const previous = chains.get(db) ?? Promise.resolve();
  const attempt = () => againOnStaleSnapshot(task);
  const run = previous.then(attempt, attempt);
  chains.set(
    db,
    run.catch(() => undefined),
  );
  return run;
}

/** Column values that are instants are stored as fixed-width UTC ISO-8601 text
 *  (`2026-01-31T08:00:00.000Z`): sortable as strings, identical on both databases,
 *  and exactly what FHIR uses on the wire. */
export const isoInstant = {
  to: (value: Date | string | null | undefined) =>
    value == null ? value : typeof value === 'string' ? new Date(value).toISOString() : value.toISOString(),
  from: (value: string | null) => (value == null ? value : new Date(value)),
};

/** Postgres returns aggregates of double columns as numbers but COUNT as bigint text. */
export function num(value: unknown): number | null {
  if (value == null) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}
