/**
 * Two ledger worker processes on one ledger database (PostgreSQL when DATABASE_URL is
 * set, else SQLite), events flowing: exactly one holds the append lease and appends;
 * SIGKILL it and the other takes over within the stated bound (5 s with the default
 * settings: LEDGER_LEASE_POLL_MS 1000, LEDGER_LOCK_DURATION_MS 2000,
 * LEDGER_STALLED_INTERVAL_MS 500, LEDGER_LEASE_TTL_MS 2500). In the end every event is
 * a leaf exactly once, in the order it was queued, and the checkpoints both processes
 * published form one consistent tree.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { Queue } from 'bullmq';
import { projectRoot } from '../../../common/paths';
import { openLedgerDatabase } from '../../../ledger/store/database';
import { LedgerLeaf } from '../../../ledger/store/entities';
import { APPEND_LOCK_KEYS } from '../../../ledger/store/lease';
import { createLedgerQueue, type LedgerJobData } from '../../../ledger/pipeline/queue';
import { checkpointsSince, ledgerTree } from '../../../ledger/store/read-model';
import { loadLedgerNoteKey } from '../../../ledger/core/note-key';
import { openCheckpoint } from '../../../ledger/core/checkpoint';
import { parseVerifierKey } from '../../../ledger/core/note';
import { verifyConsistency } from '../../../ledger/core/verify';
import type { LedgerEvent } from '../../../ledger/core/leaf';
import { freshDatabase, onPostgres, type TestDatabase } from '../../support/database';
import { ReferenceTree, refLeafHash } from '../../support/ledger';
import { REDIS_URL, enqueue, obliterateQueue, testEvent, uniqueQueueName, waitFor } from '../../support/ledger-pipeline';

const ORIGIN = 'custodian.lease/ledger';
/** The bound the README states for a SIGKILLed holder to be replaced, with the defaults. */
const FAILOVER_BOUND_MS = 5_000;

interface WorkerProcess {
  child: ChildProcess;
  /** Log lines (pino JSON) the process wrote. */
  lines: { msg: string; holder?: string; time: number }[];
  stderr: string[];
}

describe('two ledger workers on one database: the append lease', () => {
  let database: TestDatabase;
  let db: DataSource;
  const queueName = uniqueQueueName('lease');
  let queue: Queue<LedgerJobData>;
  const workers: WorkerProcess[] = [];
  const events: LedgerEvent[] = [];
  let feeding = true;
  let feeder: Promise<void> = Promise.resolve();

  function startWorker(): WorkerProcess {
    const child = spawn(process.execPath, [path.join(projectRoot(), 'dist', 'ledger', 'main.js'), 'worker'], {
      env: { ...process.env, ...database.vars, REDIS_URL, LEDGER_QUEUE: queueName, LEDGER_ORIGIN: ORIGIN, LEDGER_CHECKPOINT_INTERVAL_MS: '300', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker: WorkerProcess = { child, lines: [], stderr: [] };
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop()!;
      for (const line of complete) {
        try {
          worker.lines.push(JSON.parse(line));
        } catch {
          worker.stderr.push(line);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => worker.stderr.push(chunk.toString()));
    workers.push(worker);
    return worker;
  }

  const took = (w: WorkerProcess) => w.lines.find((l) => l.msg === 'ledger append lease taken');

  async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  /** Who holds the lease, as the database sees it: the holder id of the one granted lock's session, or the lease row. */
  async function holdersInDatabase(): Promise<string[]> {
    if (onPostgres) {
      const rows: { application_name: string }[] = await db.query(
        `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [...APPEND_LOCK_KEYS],
      );
      return rows.map((r) => r.application_name.split(' ').at(-1)!);
    }
    const rows: { holder: string; expires_at: string }[] = await db.query('SELECT holder, expires_at FROM ledger_lease');
    return rows.filter((r) => r.expires_at > new Date().toISOString()).map((r) => r.holder);
  }

  const size = () => ledgerTree(db).size();

  beforeAll(async () => {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.worker.json')], { cwd: projectRoot(), stdio: 'pipe' });
    database = await freshDatabase();
    db = await openLedgerDatabase(database.env);
    queue = createLedgerQueue(queueName, REDIS_URL);
    await queue.waitUntilReady();
  }, 60_000);

  afterAll(async () => {
    feeding = false;
    await feeder;
    for (const w of workers) await kill(w.child, 'SIGKILL');
    await queue?.close();
    await obliterateQueue(queueName);
    await db?.destroy();
    await database?.drop();
  });

  test('one holder appends; SIGKILLed, the other takes over within the bound; every event once, in order, one consistent tree', async () => {
    // Events keep flowing, as from a relay: a job of 40 every 20 ms (about 2,000 events/s).
    feeder = (async () => {
      while (feeding) {
        const batch = Array.from({ length: 40 }, (_, i) => testEvent(events.length + i));
        events.push(...batch);
        await enqueue(queue, batch);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const a = startWorker();
    await waitFor('the first worker to take the lease', async () => took(a), 20_000, 20);
    const b = startWorker();
    await waitFor('the second worker to start', async () => b.lines.some((l) => l.msg === 'ledger running'), 20_000, 20);
    await waitFor('appends', async () => (await size()) >= 2_000, 20_000, 20);
    // Exactly one holder, and it is the first worker: by its own word and by the database's.
    await new Promise((r) => setTimeout(r, 1_500)); // a few of the second worker's polls
    expect(took(b)).toBeUndefined();
    expect(await holdersInDatabase()).toEqual([took(a)!.holder]);

    const sizeAtKill = await size();
    const killedAt = Date.now();
    await kill(a.child, 'SIGKILL');
    // Taken over: the second holds the lease, and leaves grow again.
    await waitFor('the second worker to take the lease', async () => took(b), 10_000, 10);
    const takenAt = Date.now();
    await waitFor('appends to resume', async () => (await size()) > sizeAtKill + 200, 10_000, 10);
    const resumedAt = Date.now();
    expect(await holdersInDatabase()).toEqual([took(b)!.holder]);
    console.log(`failover (${onPostgres ? 'PostgreSQL' : 'SQLite'}): lease taken ${takenAt - killedAt} ms, appends resumed ${resumedAt - killedAt} ms after SIGKILL`);
    expect(resumedAt - killedAt).toBeLessThan(FAILOVER_BOUND_MS);

    feeding = false;
    await feeder;
    await waitFor(`all ${events.length} events`, async () => (await size()) === events.length, 30_000, 50);
    await waitFor('the queue to drain', async () => {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed');
      return counts.wait + counts.active + counts.delayed === 0;
    });
    expect(await kill(b.child, 'SIGTERM')).toBe(0);
    expect(b.stderr.join('')).toBe('');
    expect((await queue.getJobCounts('failed')).failed).toBe(0);

    // Every event exactly once, in the order it was queued — across the failover too.
    const leaves = await db.getRepository(LedgerLeaf).find({ order: { leafIndex: 'ASC' } });
    expect(leaves.map((l) => l.eventId)).toEqual(events.map((e) => e.id));
    const reference = new ReferenceTree(leaves.map((l) => refLeafHash(Buffer.from(l.leafData, 'utf8'))));
    const tree = ledgerTree(db);
    expect((await tree.rootHash()).equals(reference.mth(0, leaves.length))).toBe(true);

    // Both processes' checkpoints: each verifies, matches the recomputed root, and each is consistent with the one before.
    const verifier = parseVerifierKey(loadLedgerNoteKey({ dataDir: database.env.DATA_DIR, name: ORIGIN }).verifierKey);
    const all = (await checkpointsSince(db)).filter((c) => c.size > 0);
    expect(all.at(-1)!.size).toBe(events.length);
    expect(all.some((c) => c.size <= sizeAtKill)).toBe(true);
    for (const [i, stored] of all.entries()) {
      const { checkpoint } = openCheckpoint(stored.note, [verifier], { origin: ORIGIN });
      expect(checkpoint.rootHash.equals(reference.mth(0, stored.size))).toBe(true);
      if (i > 0) {
        const older = all[i - 1]!;
        expect(stored.size).toBeGreaterThan(older.size);
        verifyConsistency(older.size, stored.size, Buffer.from(older.root, 'base64'), checkpoint.rootHash, await tree.consistencyProof(older.size, stored.size));
      }
    }
  }, 120_000);
});
