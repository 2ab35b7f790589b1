/**
 * The ledger worker against a real database and Redis: the events of batch jobs become
 * leaves in order of arrival, several jobs per transaction, exactly once however often a
 * job (or an event in two jobs) is delivered, and a job is completed only once its
 * leaves are committed.
 */
import type { DataSource } from 'typeorm';
import type { Queue } from 'bullmq';
import { openLedgerDatabase, exclusive } from '../../../ledger/store/database';
import { LedgerLeaf } from '../../../ledger/store/entities';
import { LedgerWorker } from '../../../ledger/pipeline/worker';
import { batchJobId, createLedgerQueue, ledgerJob, ledgerJobOptions, type LedgerJobData } from '../../../ledger/pipeline/queue';
import { leafBytes, type LedgerEvent } from '../../../ledger/core/leaf';
import type { AppendResult } from '../../../ledger/store/append';
import { ledgerTree } from '../../../ledger/store/read-model';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { ReferenceTree, refLeafHash } from '../../support/ledger';
import { REDIS_URL, allLeaves, enqueue, obliterateQueue, testEvent, uniqueQueueName, waitFor } from '../../support/ledger-pipeline';

const BATCH = 25;
/** Events per job, as the relay would batch them (small here, so a transaction takes several). */
const PER_JOB = 5;

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
  const jobOf = (events: LedgerEvent[]) => batchJobId(events);
  /** The job once completed, read after its state says so (a copy read before could predate its result). */
  const completed = async (id: string) => {
    if ((await queue.getJobState(id)) !== 'completed') return undefined;
    return queue.getJob(id);
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

  test('appends every event of every job as a leaf, in order of arrival, several jobs per transaction', async () => {
    const events = Array.from({ length: 130 }, (_, i) => testEvent(i));
    expected.push(...events);
    await enqueue(queue, events, PER_JOB);
    await waitFor('130 leaves', async () => (await size()) === 130);

    const leaves = await allLeaves(db);
    expect(leaves.map((l) => l.leafIndex)).toEqual(events.map((_, i) => i));
    expect(leaves.map((l) => l.eventId)).toEqual(events.map((e) => e.id));
    for (const [i, leaf] of leaves.entries()) {
      expect(leaf.leafData).toBe(leafBytes(events[i]).toString('utf8'));
      expect(leaf.leafHash).toBe(refLeafHash(leafBytes(events[i])).toString('base64'));
    }
    // Batched: far fewer commits than jobs, none larger than the batch size.
    expect(batches.reduce((n, b) => n + b.appended.length, 0)).toBe(130);
    expect(batches.length).toBeLessThan(130 / PER_JOB / 2);
    expect(Math.max(...batches.map((b) => b.appended.length))).toBeLessThanOrEqual(BATCH);
    // Each job's result is its events' leaf indexes.
    expect((await completed(jobOf(events.slice(75, 80))))?.returnvalue).toEqual([75, 76, 77, 78, 79]);

    const reference = new ReferenceTree(leaves.map((l) => refLeafHash(Buffer.from(l.leafData, 'utf8'))));
    expect((await ledgerTree(db).rootHash()).equals(reference.mth(0, 130))).toBe(true);
  });

  test('a second worker on the same ledger waits for the lease: it neither holds it nor appends', async () => {
    expect(worker.holdsLease()).toBe(true);
    const appendedBySecond: AppendResult[] = [];
    const second = new LedgerWorker(db, queueName, { redisUrl: REDIS_URL, batchSize: BATCH, leasePollMs: 100, onAppended: (r) => appendedBySecond.push(r) });
    try {
      await second.waitUntilReady();
      // It has tried, several times, and been refused.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(second.holdsLease()).toBe(false);
      const events = Array.from({ length: 40 }, (_, i) => testEvent(500 + i));
      expected.push(...events);
      await enqueue(queue, events, PER_JOB);
      await waitFor('170 leaves', async () => (await size()) === 170);
      expect(appendedBySecond).toHaveLength(0);
      expect(second.holdsLease()).toBe(false);
      expect(worker.holdsLease()).toBe(true);
    } finally {
      await second.close();
    }
  });

  test('a job delivered again after it completed duplicates nothing', async () => {
    const again = expected.slice(10, 15);
    // BullMQ would ignore a re-add while it remembers the job id; remove it first, as
    // removeOnComplete eventually does, so the worker really processes it a second time.
    await (await queue.getJob(jobOf(again)))!.remove();
    await enqueue(queue, again);
    const job = await waitFor('the redelivered job to complete', () => completed(jobOf(again)));
    // Its result names the leaves the events already had.
    expect(job.returnvalue).toEqual([10, 11, 12, 13, 14]);
    expect(await size()).toBe(170);
  });

  test('the same event in two jobs at once becomes one leaf', async () => {
    const event = testEvent(1000);
    expected.push(event);
    // As when the relay re-reads rows after a crash, or re-queues what it thinks Redis lost.
    await queue.addBulk([ledgerJob([event]), ledgerJob([event, expected[3]!])]);
    const first = await waitFor('first job', () => completed(jobOf([event])));
    const second = await waitFor('second job', () => completed(jobOf([event, expected[3]!])));
    // Both jobs are done by the one leaf (in one batch or two, whichever the worker took).
    expect(first.returnvalue).toEqual([170]);
    expect(second.returnvalue).toEqual([170, 3]);
    expect(await size()).toBe(171);
    const leaves = await allLeaves(db);
    expect(leaves.filter((l) => l.eventId === event.id)).toHaveLength(1);
  });

  test('a malformed job fails on its own, none of its events appended; the jobs around it are', async () => {
    const before = testEvent(2000);
    const after = testEvent(2001);
    const alongsideBad = testEvent(2002);
    expected.push(before, after);
    await queue.addBulk([
      ledgerJob([before]),
      { name: 'bad', data: { events: [alongsideBad, { id: 'not an id', kind: 'x' }] } as unknown as LedgerJobData, opts: ledgerJobOptions('bad-job') },
      { name: 'empty', data: { events: [] }, opts: ledgerJobOptions('empty-job') },
      { name: 'shapeless', data: { nothing: true } as unknown as LedgerJobData, opts: ledgerJobOptions('shapeless-job') },
      ledgerJob([after]),
    ]);
    await waitFor('both good jobs', async () => (await completed(jobOf([before]))) && (await completed(jobOf([after]))));
    for (const id of ['bad-job', 'empty-job', 'shapeless-job']) await waitFor(`${id} to fail`, async () => (await jobState(id)) === 'failed');
    expect(await size()).toBe(173);
    // The well-formed event of the malformed job was not appended either: the job is all or nothing.
    expect((await allLeaves(db)).some((l) => l.eventId === alongsideBad.id)).toBe(false);
  });

  test('a one-event job of the format before batch jobs ({ event }) is still appended', async () => {
    const legacy = testEvent(2500);
    expected.push(legacy);
    await queue.add(legacy.kind, { event: legacy } as unknown as LedgerJobData, ledgerJobOptions(legacy.id));
    const job = await waitFor('the legacy job', () => completed(legacy.id));
    expect(job.returnvalue).toEqual([173]);
    expect(await size()).toBe(174);
  });

  test('while the database refuses the batch the job stays uncompleted, and it is appended once it can be', async () => {
    const blocked = testEvent(3000);
    expected.push(blocked);
    // A row squatting on the next leaf index makes every append fail inside its transaction.
    await exclusive(db, () =>
      db.getRepository(LedgerLeaf).insert({ leafIndex: 174, eventId: 'evt_squatter', leafHash: 'x', leafData: '{}', appendedAt: new Date() }),
    );
    await enqueue(queue, [blocked]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await jobState(jobOf([blocked]))).not.toBe('completed');
    expect(await size()).toBe(174);

    await exclusive(db, () => db.getRepository(LedgerLeaf).delete({ eventId: 'evt_squatter' }));
    const job = await waitFor('the blocked job', () => completed(jobOf([blocked])), 15_000);
    expect(job.returnvalue).toEqual([174]);
  });

  test('in the end every event is in the ledger exactly once', async () => {
    const leaves = await allLeaves(db);
    expect(leaves.map((l) => l.eventId).sort()).toEqual(expected.map((e) => e.id).sort());
    expect(leaves.map((l) => l.leafIndex)).toEqual(leaves.map((_, i) => i));
  });
});
