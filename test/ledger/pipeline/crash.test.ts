/**
 * The worker as a real process, killed with SIGKILL in the middle of its work — twice
 * — and restarted: every event ends up in the ledger exactly once, nothing is ever
 * half-written, and the root equals one recomputed from scratch over the leaves.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { Queue } from 'bullmq';
import { projectRoot } from '../../../common/paths';
import { openLedgerDatabase } from '../../../ledger/store/database';
import { LedgerLeaf, LedgerNode } from '../../../ledger/store/entities';
import { createLedgerQueue, type LedgerJobData } from '../../../ledger/pipeline/queue';
import { checkpointsSince, latestCheckpoint, ledgerTree } from '../../../ledger/store/read-model';
import { loadLedgerNoteKey } from '../../../ledger/core/note-key';
import { openCheckpoint } from '../../../ledger/core/checkpoint';
import { parseVerifierKey } from '../../../ledger/core/note';
import { verifyConsistency } from '../../../ledger/core/verify';
import { leafBytes, type LedgerEvent } from '../../../ledger/core/leaf';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { ReferenceTree, refLeafHash } from '../../support/ledger';
import { REDIS_URL, enqueue, obliterateQueue, testEvent, uniqueQueueName, waitFor } from '../../support/ledger-pipeline';

const EVENTS = 2_000;
const ORIGIN = 'custodian.crash/ledger';

describe('the worker process, killed mid-batch', () => {
  let database: TestDatabase;
  let db: DataSource;
  const queueName = uniqueQueueName('crash');
  let queue: Queue<LedgerJobData>;
  const events: LedgerEvent[] = Array.from({ length: EVENTS }, (_, i) => testEvent(i));
  const children: ChildProcess[] = [];
  const stderr: string[] = [];

  function startWorker(): ChildProcess {
    const child = spawn(process.execPath, [path.join(projectRoot(), 'dist', 'ledger', 'main.js'), 'worker'], {
      env: {
        ...process.env,
        ...database.vars,
        REDIS_URL,
        LEDGER_QUEUE: queueName,
        LEDGER_ORIGIN: ORIGIN,
        LEDGER_BATCH_SIZE: '50',
        // Short locks, so the restarted worker takes over the dead one's jobs in seconds.
        LEDGER_LOCK_DURATION_MS: '1500',
        LEDGER_STALLED_INTERVAL_MS: '500',
        LEDGER_CHECKPOINT_INTERVAL_MS: '500',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    children.push(child);
    return child;
  }

  async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  const size = () => ledgerTree(db).size();
  const leafCount = () => db.getRepository(LedgerLeaf).count();
  const nodeCount = () => db.getRepository(LedgerNode).count();
  /** A tree of n leaves stores 2n − popcount(n) perfect nodes. */
  const nodesFor = (n: number) => 2 * n - n.toString(2).split('').filter((b) => b === '1').length;

  /** What SIGKILL may leave behind: a size whose leaves and nodes are all there, and nothing beyond. */
  async function expectWholeAppends(): Promise<number> {
    const n = await size();
    expect(await leafCount()).toBe(n);
    expect(await nodeCount()).toBe(nodesFor(n));
    return n;
  }

  beforeAll(async () => {
    // Compile just the ledger process (a few seconds) so the child runs the current sources.
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.worker.json')], {
      cwd: projectRoot(),
      stdio: 'pipe',
    });
    database = await freshDatabase();
    db = await openLedgerDatabase(database.env); // migrated here, before any child starts
    queue = createLedgerQueue(queueName, REDIS_URL);
    // Small jobs (10 events), so that transactions of LEDGER_BATCH_SIZE 50 take several and a kill lands mid-stream.
    for (let i = 0; i < EVENTS; i += 500) await enqueue(queue, events.slice(i, i + 500), 10);
  }, 30_000);

  afterAll(async () => {
    for (const child of children) await kill(child, 'SIGKILL');
    await queue?.close();
    await obliterateQueue(queueName);
    await db?.destroy();
    await database?.drop();
  });

  test('every event is appended exactly once across two SIGKILLs and restarts', async () => {
    const first = startWorker();
    await waitFor('the first worker to append', async () => (await size()) >= 300, 15_000, 5);
    await kill(first, 'SIGKILL');
    const afterFirst = await expectWholeAppends();
    expect(afterFirst).toBeLessThan(EVENTS);
    // It died holding jobs: they are still active, locked by a process that is gone.
    expect(await queue.getActiveCount()).toBeGreaterThan(0);

    const second = startWorker();
    await waitFor('the second worker to append', async () => (await size()) >= afterFirst + 500, 15_000, 5);
    await kill(second, 'SIGKILL');
    const afterSecond = await expectWholeAppends();
    expect(afterSecond).toBeLessThan(EVENTS);

    const third = startWorker();
    await waitFor('every event', async () => (await size()) === EVENTS, 20_000);
    await waitFor('the queue to drain', async () => {
      const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'failed', 'completed');
      return counts.wait + counts.active + counts.delayed === 0 ? counts : undefined;
    });
    // Asked to stop, it finishes cleanly.
    expect(await kill(third, 'SIGTERM')).toBe(0);
    expect(stderr.join('')).toBe('');

    const counts = await queue.getJobCounts('failed', 'completed');
    expect(counts.failed).toBe(0);
    expect(await expectWholeAppends()).toBe(EVENTS);

    const leaves = await db.getRepository(LedgerLeaf).find({ order: { leafIndex: 'ASC' } });
    expect(leaves.map((l) => l.leafIndex)).toEqual(events.map((_, i) => i));
    expect(new Set(leaves.map((l) => l.eventId)).size).toBe(EVENTS);
    expect(leaves.map((l) => l.eventId).sort()).toEqual(events.map((e) => e.id).sort());
    const byId = new Map(events.map((e) => [e.id, e]));
    for (const leaf of leaves) {
      expect(leaf.leafData).toBe(leafBytes(byId.get(leaf.eventId)!).toString('utf8'));
    }

    // The root from the stored nodes equals a from-scratch computation over the leaves in order.
    const reference = new ReferenceTree(leaves.map((l) => refLeafHash(Buffer.from(l.leafData, 'utf8'))));
    expect((await ledgerTree(db).rootHash()).equals(reference.mth(0, EVENTS))).toBe(true);
  });

  test('the checkpoints the worker processes published verify, match the tree and are mutually consistent, up to the end', async () => {
    const latest = await latestCheckpoint(db);
    expect(latest?.size).toBe(EVENTS);
    // The children generated the note key into the shared DATA_DIR on first use.
    const verifier = parseVerifierKey(loadLedgerNoteKey({ dataDir: database.env.DATA_DIR, name: ORIGIN }).verifierKey);
    const all = (await checkpointsSince(db)).filter((c) => c.size > 0);
    const tree = ledgerTree(db);
    for (const [i, stored] of all.entries()) {
      const { checkpoint } = openCheckpoint(stored.note, [verifier], { origin: ORIGIN });
      expect(checkpoint.rootHash.equals(await tree.rootHash(stored.size))).toBe(true);
      if (i > 0) {
        const older = all[i - 1];
        const proof = await tree.consistencyProof(older.size, stored.size);
        verifyConsistency(older.size, stored.size, Buffer.from(older.root, 'base64'), checkpoint.rootHash, proof);
      }
    }
  });
});
