/**
 * Redis killed (SIGKILL) in the middle of the pipeline's work and restarted empty — as a
 * Redis without persistence comes back — while mutations keep writing to the outbox:
 * every event still ends up in the ledger exactly once. The jobs Redis lost are found
 * by the relay's confirmation against the ledger and queued again.
 *
 * A private redis-server on its own port, so the shared one other tests use is untouched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import Redis from 'ioredis';
import { IsNull, type DataSource } from 'typeorm';
import type { Queue } from 'bullmq';
import { freePort } from '../../../common/ports';
import { openLedgerDatabase } from '../../../ledger/store/database';
import { LedgerLeaf } from '../../../ledger/store/entities';
import { ledgerTree } from '../../../ledger/store/read-model';
import { appendOutboxRows, OutboxEvent } from '../../../ledger/pipeline/outbox';
import { createLedgerQueue, type LedgerJobData } from '../../../ledger/pipeline/queue';
import { OutboxRelay } from '../../../ledger/pipeline/relay';
import { LedgerWorker } from '../../../ledger/pipeline/worker';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { ReferenceTree, refLeafHash } from '../../support/ledger';
import { openOutboxDatabase, uniqueQueueName, waitFor } from '../../support/ledger-pipeline';

const EVENTS = 600;
const CHUNK = 20;

describe('Redis lost mid-stream', () => {
  let database: TestDatabase;
  let source: DataSource;
  let ledger: DataSource;
  let redis: ChildProcess | null = null;
  let url: string;
  let port: number;
  let queue: Queue<LedgerJobData>;
  let relay: OutboxRelay;
  let worker: LedgerWorker;
  const warnings: string[] = [];

  async function startRedis(): Promise<void> {
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await waitFor('redis-server', async () => (await probe.connect().then(() => probe.ping()).catch(() => undefined)) === 'PONG', 10_000, 50);
    } finally {
      probe.disconnect();
    }
  }

  async function killRedis(): Promise<void> {
    const child = redis!;
    redis = null;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  const leaves = () => ledger.getRepository(LedgerLeaf).count();

  beforeAll(async () => {
    port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    await startRedis();
    database = await freshDatabase();
    source = await openOutboxDatabase(database.env, 'redis_loss');
    ledger = await openLedgerDatabase(database.env);
    const name = uniqueQueueName('redis-loss');
    queue = createLedgerQueue(name, url);
    const log = { warn: (o: object, m: string) => warnings.push(m), error: (o: object, m: string) => warnings.push(m) };
    relay = new OutboxRelay([{ name: 'redis_loss', db: source }], queue, { ledger, intervalMs: 100, addTimeoutMs: 500, confirmAfterMs: 1_500, log });
    relay.start();
  }, 30_000);

  async function startWorker(): Promise<void> {
    worker = new LedgerWorker(ledger, queue.name, { redisUrl: url, batchSize: 50, lockDurationMs: 2_000, stalledIntervalMs: 1_000 });
    await worker.waitUntilReady();
  }

  afterAll(async () => {
    await relay?.stop();
    await worker?.close();
    await queue?.close();
    if (redis) await killRedis();
    await ledger?.destroy();
    await source?.destroy();
    await database?.drop();
  });

  test('events Redis lost, and events written while it was gone, are all appended exactly once', async () => {
    let written = 0;
    const write = async (count: number) => {
      for (let i = 0; i < count; i += CHUNK) {
        await source.transaction((tx) => appendOutboxRows(tx, Array.from({ length: CHUNK }, (_, j) => ({ kind: 'loss.test', payload: { count: written + j } }))));
        written += CHUNK;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const pending = () => source.getRepository(OutboxEvent).countBy({ relayedAt: IsNull() });

    // Relayed into Redis, but no worker has taken them yet...
    await write(EVENTS / 3);
    await waitFor('the first third to be relayed', async () => (await pending()) === 0, 20_000);
    // (A job carries a batch of events: count the events.)
    expect((await queue.getJobs(['wait'], 0, -1)).reduce((n, job) => n + job.data.events.length, 0)).toBe(EVENTS / 3);
    // ...when Redis dies, and comes back empty.
    await killRedis();
    await write(EVENTS / 3);
    expect(await pending()).toBe(EVENTS / 3);
    await startRedis();
    await startWorker();
    await write(EVENTS / 3);

    await waitFor(`all ${EVENTS} leaves`, async () => (await leaves()) >= EVENTS, 60_000, 200);
    // Nothing more arrives late, and no event is there twice.
    await new Promise((r) => setTimeout(r, 2_000));
    const rows = await ledger.getRepository(LedgerLeaf).find({ order: { leafIndex: 'ASC' } });
    expect(rows).toHaveLength(EVENTS);
    expect(new Set(rows.map((r) => JSON.parse(r.leafData).count)).size).toBe(EVENTS);
    const reference = new ReferenceTree(rows.map((r) => refLeafHash(Buffer.from(r.leafData, 'utf8'))));
    expect((await ledgerTree(ledger).rootHash()).equals(reference.mth(0, EVENTS))).toBe(true);
    // Once confirmed, the outbox is pruned down to nothing.
    await waitFor('the outbox to be pruned', async () => (await source.getRepository(OutboxEvent).count()) === 0, 20_000, 200);
    // The first third came back through the relay's confirmation, not by luck.
    expect(warnings).toContain('relayed events are not in the ledger yet; queued again');
  }, 120_000);
});
