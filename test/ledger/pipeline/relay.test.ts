/**
 * The outbox relay against real databases and a real Redis: rows of two source
 * databases reach the queue once, in order, redacted, one job per batch of rows, and are
 * marked relayed; with Redis unreachable they stay pending until a later tick can
 * deliver them.
 */
import type { DataSource } from 'typeorm';
import { In, IsNull, Not } from 'typeorm';
import { appendEvents } from '../../../ledger/store/append';
import { openLedgerDatabase } from '../../../ledger/store/database';
import type { Queue } from 'bullmq';
import { appendOutboxRows, OutboxEvent } from '../../../ledger/pipeline/outbox';
import { OutboxRelay, rejectedRowEvent } from '../../../ledger/pipeline/relay';
import { batchJobId, createLedgerQueue, type LedgerJobData } from '../../../ledger/pipeline/queue';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { REDIS_URL, obliterateQueue, openOutboxDatabase, uniqueQueueName } from '../../support/ledger-pipeline';

describe('OutboxRelay', () => {
  let database: TestDatabase;
  let sourceA: DataSource;
  let sourceB: DataSource;
  const queueName = uniqueQueueName('relay');
  let queue: Queue<LedgerJobData>;
  /** ioredis lets a socket that never connected linger 2 s after close() (AbstractConnector). */
  let unreachableClosedAt = 0;

  const pending = (db: DataSource) => db.getRepository(OutboxEvent).countBy({ relayedAt: IsNull() });
  const relayed = (db: DataSource) => db.getRepository(OutboxEvent).countBy({ relayedAt: Not(IsNull()) });
  const queuedJobs = async () => queue.getJobs(['wait'], 0, -1, true);
  /** The events of the waiting jobs, in queue order. */
  const queuedEvents = async () => (await queuedJobs()).flatMap((j) => j.data.events);

  beforeAll(async () => {
    database = await freshDatabase();
    sourceA = await openOutboxDatabase(database.env, 'relay_a');
    sourceB = await openOutboxDatabase(database.env, 'relay_b');
    queue = createLedgerQueue(queueName, REDIS_URL);
    await queue.waitUntilReady();
  });

  afterAll(async () => {
    await queue?.close();
    await obliterateQueue(queueName);
    const linger = unreachableClosedAt + 2_100 - Date.now();
    if (linger > 0) await new Promise((resolve) => setTimeout(resolve, linger));
    await sourceA?.destroy();
    await sourceB?.destroy();
    await database?.drop();
  });

  test('moves both outboxes into the queue, oldest first, marks them, and a re-run adds nothing', async () => {
    // Written out of order, so the relay has to sort by created_at.
    await appendOutboxRows(sourceA, [{ kind: 'a.second', payload: { patientId: 'pat_a2' } }], new Date('2026-01-01T00:00:02Z'));
    await appendOutboxRows(sourceA, [{ kind: 'a.first', payload: { patientId: 'pat_a1' } }], new Date('2026-01-01T00:00:01Z'));
    await appendOutboxRows(sourceA, [{ kind: 'a.third', payload: { patientId: 'pat_a3' } }], new Date('2026-01-01T00:00:03Z'));
    await appendOutboxRows(sourceB, [
      { kind: 'b.reading', payload: { deviceId: 'dev_1', glucose: 7.2 } },
      { kind: 'b.reading', payload: { deviceId: 'dev_2', glucose: 5.1 } },
    ]);

    // A small batch, so each source needs several rounds.
    const relay = new OutboxRelay([sourceA, sourceB], queue, { batchSize: 2 });
    expect(await relay.tick()).toBe(5);
    expect(await pending(sourceA)).toBe(0);
    expect(await pending(sourceB)).toBe(0);

    // One job per read of one outbox: A's three rows in two, B's two in one.
    const jobs = await queuedJobs();
    expect(jobs.map((j) => j.data.events.length)).toEqual([2, 2, 1]);
    for (const job of jobs) expect(job.id).toBe(batchJobId(job.data.events));
    const events = await queuedEvents();
    expect(events).toHaveLength(5);
    const fromA = events.filter((e) => e.kind.startsWith('a.')).map((e) => e.kind);
    expect(fromA).toEqual(['a.first', 'a.second', 'a.third']);
    // A job never mixes sources.
    for (const job of jobs) expect(new Set(job.data.events.map((e) => e.kind[0])).size).toBe(1);
    // Clinical values never reach Redis: the job holds the redacted events.
    const readings = jobs.filter((j) => j.data.events[0]!.kind === 'b.reading');
    expect(readings).toHaveLength(1);
    expect(JSON.stringify(readings[0]!.data)).not.toContain('glucose');
    for (const event of readings[0]!.data.events) expect(event.payloadDigest).toMatch(/^[A-Za-z0-9+/]{43}=$/);

    expect(await relay.tick()).toBe(0);
    expect(await queuedJobs()).toHaveLength(3);
  });

  test('a crash between adding and marking re-reads the same batches, under the same job ids: still no duplicate job', async () => {
    // As if the relay died after adding but before its UPDATE committed.
    await sourceA.createQueryBuilder().update(OutboxEvent).set({ relayedAt: null }).execute();
    const relay = new OutboxRelay([sourceA, sourceB], queue, { batchSize: 2 });
    expect(await relay.tick()).toBe(3);
    expect(await queuedJobs()).toHaveLength(3);
    expect(await queuedEvents()).toHaveLength(5);
    expect(await relayed(sourceA)).toBe(3);
  });

  test('with Redis unreachable the rows stay pending, and a later tick with a good connection drains them', async () => {
    await appendOutboxRows(sourceA, [{ kind: 'late', payload: { patientId: 'pat_late' } }]);
    await appendOutboxRows(sourceB, [{ kind: 'late', payload: { deviceId: 'dev_late' } }]);

    const unreachable = createLedgerQueue(uniqueQueueName('down'), 'redis://127.0.0.1:1');
    const downRelay = new OutboxRelay([sourceA, sourceB], unreachable, { addTimeoutMs: 300 });
    const started = Date.now();
    expect(await downRelay.tick()).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
    // A second tick does not pile another add on the first one still waiting for Redis.
    expect(await downRelay.tick()).toBe(0);
    expect(await pending(sourceA)).toBe(1);
    expect(await pending(sourceB)).toBe(1);
    await unreachable.close();
    unreachableClosedAt = Date.now();

    const relay = new OutboxRelay([sourceA, sourceB], queue);
    expect(await relay.tick()).toBe(2);
    expect(await pending(sourceA)).toBe(0);
    expect(await pending(sourceB)).toBe(0);
    expect((await queuedEvents()).map((e) => e.kind).filter((k) => k === 'late')).toHaveLength(2);
  });

  test('a source database that fails does not stop the others', async () => {
    const broken = await openOutboxDatabase(database.env, 'relay_broken');
    await broken.query('DROP TABLE outbox');
    await appendOutboxRows(sourceB, [{ kind: 'after.broken', payload: {} }]);
    const errors: object[] = [];
    const relay = new OutboxRelay([broken, sourceB], queue, { log: { warn: () => undefined, error: (o) => errors.push(o) } });
    expect(await relay.tick()).toBe(1);
    expect(errors).toHaveLength(1);
    await broken.destroy();
  });

  test('a row that cannot become a ledger event is ledgered as outbox.rejected, committing to its content, and blocks nothing behind it', async () => {
    const bad = (i: number) => ({ id: `evt_bad${i}`, kind: 'not a kind', payload: `{"i":${i}}`, createdAt: new Date(Date.now() - 60_000 + i), relayedAt: null });
    // More bad rows than one batch holds, ahead of a good one.
    await sourceB.getRepository(OutboxEvent).insert([bad(1), bad(2), bad(3)]);
    await appendOutboxRows(sourceB, [{ kind: 'next', payload: {} }]);
    const errors: object[] = [];
    const relay = new OutboxRelay([{ name: 'b', db: sourceB }], queue, { batchSize: 2, log: { warn: () => undefined, error: (o) => errors.push(o) } });
    expect(await relay.tick()).toBe(4);
    expect(await pending(sourceB)).toBe(0);
    expect(errors.map((e: any) => e.eventId)).toEqual(['evt_bad1', 'evt_bad2', 'evt_bad3']);

    const stand = (await queuedEvents()).filter((e) => e.kind === 'outbox.rejected');
    expect(stand).toHaveLength(3);
    const first = stand.find((e) => e.id === rejectedRowEvent('b', { id: 'evt_bad1', kind: 'not a kind', payload: '{"i":1}', created_at: '' }, new Date()).id)!;
    expect(first).toMatchObject({ service: 'b' });
    // The digest commits to the row as it was: another payload gives another digest.
    const row = await sourceB.query("SELECT created_at FROM outbox WHERE id = 'evt_bad1'");
    expect(first.payloadDigest).toBe(
      rejectedRowEvent('b', { id: 'evt_bad1', kind: 'not a kind', payload: '{"i":1}', created_at: row[0].created_at }, new Date()).payloadDigest,
    );
    expect(first.payloadDigest).not.toBe(
      rejectedRowEvent('b', { id: 'evt_bad1', kind: 'not a kind', payload: '{"i":2}', created_at: row[0].created_at }, new Date()).payloadDigest,
    );
    await sourceB.getRepository(OutboxEvent).delete({ kind: 'not a kind' });
  });

  test('relayed rows are confirmed against the ledger: held ones pruned, ones Redis lost queued again', async () => {
    const queuedIds = async () => new Set((await queuedEvents()).map((e) => e.id));
    const ledger = await openLedgerDatabase(database.env);
    try {
      await appendOutboxRows(sourceA, [{ kind: 'confirm.one', payload: { count: 1 } }, { kind: 'confirm.two', payload: { count: 2 } }]);
      let clock = Date.now();
      const relay = new OutboxRelay([sourceA], queue, { ledger, confirmAfterMs: 10_000, now: () => new Date(clock) });
      expect(await relay.tick()).toBe(2);
      const ids = (await sourceA.getRepository(OutboxEvent).findBy({ kind: In(['confirm.one', 'confirm.two']) })).map((r) => r.id).sort();
      expect(ids).toHaveLength(2);

      // Redis loses everything (a restart without persistence); the worker saw nothing.
      await queue.obliterate({ force: true });
      // Within the grace period nothing happens...
      await relay.tick();
      expect(await queuedJobs()).toHaveLength(0);
      // ...after it, both are queued again.
      clock += 11_000;
      await relay.tick();
      // (So are the earlier tests' rows: no worker ever appended them either.)
      const ours = async () => (await queuedEvents()).filter((e) => ids.includes(e.id));
      expect((await ours()).map((e) => e.id).sort()).toEqual(ids);
      expect(await queuedIds()).toContain(ids[0]);

      // The worker appends one of them; the next confirmation prunes it and only it.
      const [first] = await ours();
      await appendEvents(ledger, [first!]);
      clock += 11_000;
      await relay.tick();
      const left = (await sourceA.getRepository(OutboxEvent).findBy({ kind: In(['confirm.one', 'confirm.two']) })).map((r) => r.id);
      expect(left).toEqual(ids.filter((id) => id !== first!.id));
      // The other one was queued again, and the held one was not.
      const requeued = (await queuedJobs()).at(-1)!.data.events.map((e) => e.id);
      expect(requeued).toContain(ids.find((id) => id !== first!.id));
      expect(requeued).not.toContain(first!.id);
    } finally {
      await ledger.destroy();
    }
  });

  test('start() relays on its interval until stop()', async () => {
    const relay = new OutboxRelay([sourceA, sourceB], queue, { intervalMs: 50 });
    relay.start();
    try {
      await appendOutboxRows(sourceA, [{ kind: 'interval', payload: {} }]);
      const deadline = Date.now() + 5_000;
      while ((await pending(sourceA)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(await pending(sourceA)).toBe(0);
    } finally {
      await relay.stop();
    }
  });
});
