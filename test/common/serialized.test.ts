/**
 * `serialized` (common/database.ts) on SQLite, where other processes write to the same
 * file: a transaction that read, then writes after another connection committed, fails
 * with SQLITE_BUSY_SNAPSHOT; serialized runs it again. Always on real SQLite files (the
 * behaviour is SQLite's; on PostgreSQL serialized is a pass-through), with two
 * connections standing for two processes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { serialized } from '../../common/database';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-serialized-'));
let file = 0;

/** Two connections to one fresh SQLite file, as two processes would hold (WAL, as createDataSource opens it). */
async function twoConnections(): Promise<[DataSource, DataSource]> {
  const database = path.join(dir, `db-${++file}.sqlite`);
  const open = () => new DataSource({ type: 'better-sqlite3', database, enableWAL: true, timeout: 10_000, entities: [] }).initialize();
  const a = await open();
  await a.query('CREATE TABLE t (x INTEGER PRIMARY KEY)');
  return [a, await open()];
}

const rows = async (db: DataSource) => ((await db.query('SELECT x FROM t ORDER BY x')) as { x: number }[]).map((r) => r.x);

/** A read-then-write transaction on `a`; before its write, on the runs listed, `b` commits a row. */
function readThenWrite(a: DataSource, b: DataSource, interruptOnRuns: number[]) {
  let runs = 0;
  const task = () =>
    a.transaction(async (tx) => {
      runs++;
      const [{ n }] = (await tx.query('SELECT COUNT(*) AS n FROM t')) as { n: number }[];
      if (interruptOnRuns.includes(runs)) await b.query('INSERT INTO t (x) VALUES (?)', [runs]);
      await tx.query('INSERT INTO t (x) VALUES (?)', [100 + n]);
    });
  return { task, runs: () => runs };
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('without serialized, a write after another connection committed fails on the stale snapshot (what the retry is for)', async () => {
  const [a, b] = await twoConnections();
  const { task } = readThenWrite(a, b, [1]);
  await expect(task()).rejects.toMatchObject({ driverError: { code: 'SQLITE_BUSY_SNAPSHOT' } });
  expect(await rows(a)).toEqual([1]); // the other connection's row; nothing of the failed transaction
  await Promise.all([a.destroy(), b.destroy()]);
});

test('serialized runs it again: both writes land, the second run reading what the other connection wrote', async () => {
  const [a, b] = await twoConnections();
  const { task, runs } = readThenWrite(a, b, [1]);
  await serialized(a, task);
  expect(runs()).toBe(2);
  expect(await rows(a)).toEqual([1, 101]);
  await Promise.all([a.destroy(), b.destroy()]);
});

test('it gives up after five runs that all fail on a stale snapshot, with that error, and nothing of them written', async () => {
  const [a, b] = await twoConnections();
  const { task, runs } = readThenWrite(a, b, [1, 2, 3, 4, 5, 6]);
  await expect(serialized(a, task)).rejects.toMatchObject({ driverError: { code: 'SQLITE_BUSY_SNAPSHOT' } });
  expect(runs()).toBe(5);
  expect(await rows(a)).toEqual([1, 2, 3, 4, 5]);
  await Promise.all([a.destroy(), b.destroy()]);
});

test('any other error is not run again', async () => {
  const [a, b] = await twoConnections();
  await a.query('INSERT INTO t (x) VALUES (100)');
  let runs = 0;
  const duplicate = () => a.transaction(async (tx) => (runs++, tx.query('INSERT INTO t (x) VALUES (100)')));
  await expect(serialized(a, duplicate)).rejects.toMatchObject({ driverError: { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' } });
  expect(runs).toBe(1);
  await Promise.all([a.destroy(), b.destroy()]);
});
