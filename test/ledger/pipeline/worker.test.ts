/**
 * The ledger worker against a real database and Redis: jobs become leaves in order of
 * arrival, in batches, exactly once however often a job is delivered, and a job is
 * completed only once its leaf is committed.
 */
import type { DataSource } from 'typeorm';
import type { Queue } from 'bullmq';
import { openLedgerDatabase, exclusive } from '../../../ledger/store/database';
import { LedgerLeaf } from '../../../ledger/store/entities';
import { LedgerWorker } from '../../../ledger/pipeline/worker';
import { createLedgerQueue, ledgerJobOptions, type LedgerJobData } from '../../../ledger/pipeline/queue';
import { leafBytes, type LedgerEvent } from '../../../ledger/core/leaf';
import type { AppendResult } from '../../../ledger/store/append';
import { ledgerTree } from '../../../ledger/store/read-model';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { ReferenceTree, refLeafHash } from '../../support/ledger';
import { REDIS_URL, allLeaves, enqueue, obliterateQueue, testEvent, uniqueQueueName, waitFor } from '../../support/ledger-pipeline';

const BATCH = 25;

describe('LedgerWorker', () => {
  let database: TestDatabase;
  let db: DataSource;
  const queueName = uniqueQueueName('worker');
  let queue: Queue<LedgerJobData>;
  let worker: LedgerWorker;
  const batches: AppendResult[] = [];
  /** Every event that should be in the ledger, in the order it was enqueued. */
  const expected: LedgerEvent[] = [];

  const size = () => ledgerTree(db).size();
  const jobState = async (id: string) => (await queue.getJob(id))?.getState();
  const completed = async (id: string) => {
    const job = await queue.getJob(id);
    return (await job?.getState()) === 'completed' ? job : undefined;
  };

  beforeAll(async () => {
    database = await freshDatabase();
    db = await openLedgerDatabase(database.env);
    queue = createLedgerQueue(queueName, REDIS_URL);
    worker = new LedgerWorker(db, queueName, { redisUrl: REDIS_URL, batchSize: BATCH, onAppended: (r) => batches.push(r) });
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.close();
    await obliterateQueue(queueName);
    await db?.destroy();
    await database?.drop();
  });

  test('appends every job as a leaf, in order of arrival, in batches of one transaction each', async () => {
    const events = Array.from({ length: 130 }, (_, i) => testEvent(i));
    expected.push(...events);
    await enqueue(queue, events);
    await waitFor('130 leaves', async () => (await size()) === 130);

    const leaves = await allLeaves(db);
    expect(leaves.map((l) => l.leafIndex)).toEqual(events.map((_, i) => i));
    expect(leaves.map((l) => l.eventId)).toEqual(events.map((e) => e.id));
    for (const [i, leaf] of leaves.entries()) {
      expect(leaf.leafData).toBe(leafBytes(events[i]).toString('utf8'));
      expect(leaf.leafHash).toBe(refLeafHash(leafBytes(events[i])).toString('base64'));
    }
    // Batched: far fewer commits than events, none larger than the batch size.
    expect(batches.reduce((n, b) => n + b.appended.length, 0)).toBe(130);
    expect(batches.length).toBeLessThan(130 / 2);
    expect(Math.max(...batches.map((b) => b.appended.length))).toBeLessThanOrEqual(BATCH);
    // Each job's result is its leaf index.
    expect((await completed(events[77].id))?.returnvalue).toBe(77);

    const reference = new ReferenceTree(leaves.map((l) => refLeafHash(Buffer.from(l.leafData, 'utf8'))));
    expect((await ledgerTree(db).rootHash()).equals(reference.mth(0, 130))).toBe(true);
  });

  test('a job delivered again after it completed duplicates nothing', async () => {
    const event = expected[10];
    // BullMQ would ignore a re-add while it remembers the job id; remove it first, as
    // removeOnComplete eventually does, so the worker really processes it a second time.
    await (await queue.getJob(event.id))!.remove();
    await enqueue(queue, [event]);
    const job = await waitFor('the redelivered job to complete', () => completed(event.id));
    // Its result names the leaf the event already had.
    expect(job.returnvalue).toBe(10);
    expect(await size()).toBe(130);
  });

  test('the same event in two jobs at once becomes one leaf', async () => {
    const event = testEvent(1000);
    expected.push(event);
    await queue.addBulk([
      { name: event.kind, data: { event }, opts: ledgerJobOptions(event.id) },
      { name: event.kind, data: { event }, opts: { ...ledgerJobOptions(event.id), jobId: `${event.id}-again` } },
    ]);
    const first = await waitFor('first job', () => completed(event.id));
    const second = await waitFor('second job', () => completed(`${event.id}-again`));
    // Both jobs are done by the one leaf (in one batch or two, whichever the worker took).
    expect([first.returnvalue, second.returnvalue]).toEqual([130, 130]);
    expect(await size()).toBe(131);
    const leaves = await allLeaves(db);
    expect(leaves.filter((l) => l.eventId === event.id)).toHaveLength(1);
  });

  test('a malformed job fails on its own; the events around it are appended', async () => {
    const before = testEvent(2000);
    const after = testEvent(2001);
    expected.push(before, after);
    await queue.addBulk([
      { name: before.kind, data: { event: before }, opts: ledgerJobOptions(before.id) },
      { name: 'bad', data: { event: { id: 'not an id', kind: 'x' } } as unknown as LedgerJobData, opts: { jobId: 'bad-job' } },
      { name: after.kind, data: { event: after }, opts: ledgerJobOptions(after.id) },
    ]);
    await waitFor('both good jobs', async () => (await completed(before.id)) && (await completed(after.id)));
    await waitFor('the bad job to fail', async () => (await jobState('bad-job')) === 'failed');
    expect(await size()).toBe(133);
  });

  test('while the database refuses the batch the job stays uncompleted, and it is appended once it can be', async () => {
    const blocked = testEvent(3000);
    expected.push(blocked);
    // A row squatting on the next leaf index makes every append fail inside its transaction.
    await exclusive(db, () =>
      db.getRepository(LedgerLeaf).insert({ leafIndex: 133, eventId: 'evt_squatter', leafHash: 'x', leafData: '{}', appendedAt: new Date() }),
    );
    await enqueue(queue, [blocked]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await jobState(blocked.id)).not.toBe('completed');
    expect(await size()).toBe(133);

    await exclusive(db, () => db.getRepository(LedgerLeaf).delete({ eventId: 'evt_squatter' }));
    const job = await waitFor('the blocked job', () => completed(blocked.id), 15_000);
    expect(job.returnvalue).toBe(133);
  });

  test('in the end every event is in the ledger exactly once', async () => {
    const leaves = await allLeaves(db);
    expect(leaves.map((l) => l.eventId).sort()).toEqual(expected.map((e) => e.id).sort());
    expect(leaves.map((l) => l.leafIndex)).toEqual(leaves.map((_, i) => i));
  });
});
