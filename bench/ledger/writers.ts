/**
 * The writing side of the pipeline benchmark, run in a worker thread — the subgraphs are
 * other processes in production, with their own connections to their own databases.
 *
 * Each write is what a mutation does: one database transaction, taking its turn on the
 * DataSource (serialized), that appends one ledger event with appendToOutbox. Writes
 * rotate over the subgraph databases. The commit instant of every write (wall clock,
 * comparable across threads) goes back to the main thread, indexed by sequence number;
 * the sequence number rides in the event (`count`), so each leaf can be traced back.
 *
 *  - burst:  `concurrency` writers, each starting its next write when the last committed,
 *            until `count` writes are done;
 *  - steady: writes started open loop at `rate` per second for `durationMs`, whatever
 *            the previous ones are doing.
 */
import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import { readEnv } from '../../common/config';
import { openDatabase, serialized } from '../../common/database';
import { OutboxEvent, appendToOutbox } from '../../ledger/pipeline/outbox';
import { OUTBOX_MIGRATIONS } from '../../ledger/pipeline/migrations';
import { decisionPayload, sleep, wallMs } from './common';

export interface WriterOrders {
  env: { DATA_DIR: string; DATABASE_URL?: string };
  sources: string[];
  mode: 'burst' | 'steady';
  /** burst: total writes. */
  count?: number;
  concurrency?: number;
  /** steady: writes per second, for durationMs. */
  rate?: number;
  durationMs?: number;
}

export interface WriterReport {
  written: number;
  /** Wall-clock ms of each write's commit, by sequence number. */
  commits: Float64Array;
  startedAt: number;
  finishedAt: number;
}

export function outboxSpec(name: string) {
  return { name, entities: [OutboxEvent], migrations: OUTBOX_MIGRATIONS };
}

async function main(orders: WriterOrders): Promise<WriterReport> {
  const env = readEnv({ ...process.env, ...orders.env, LOG_LEVEL: 'silent' });
  const dbs: DataSource[] = [];
  for (const name of orders.sources) dbs.push(await openDatabase(outboxSpec(name), env));
  const capacity = orders.mode === 'burst' ? orders.count! : Math.ceil((orders.rate! * orders.durationMs!) / 1000);
  const commits = new Float64Array(capacity);
  let written = 0;

  const write = async (sequence: number) => {
    const db = dbs[sequence % dbs.length]!;
    await serialized(db, () => db.transaction((tx) => appendToOutbox(tx, [{ kind: 'access.decision', payload: decisionPayload(sequence) }])));
    commits[sequence] = wallMs();
    written++;
  };

  const startedAt = wallMs();
  if (orders.mode === 'burst') {
    let next = 0;
    await Promise.all(
      Array.from({ length: orders.concurrency ?? 32 }, async () => {
        while (next < capacity) await write(next++);
      }),
    );
  } else {
    const pending: Promise<void>[] = [];
    let started = 0;
    while (started < capacity) {
      const due = Math.min(capacity, Math.floor(((wallMs() - startedAt) / 1000) * orders.rate!) + 1);
      while (started < due) pending.push(write(started++));
      await sleep(5);
    }
    await Promise.all(pending);
  }
  const finishedAt = wallMs();
  for (const db of dbs) await db.destroy();
  return { written, commits, startedAt, finishedAt };
}

if (parentPort) {
  main(workerData as WriterOrders).then(
    (report) => parentPort!.postMessage({ report }, [report.commits.buffer as ArrayBuffer]),
    (err: unknown) => parentPort!.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}
