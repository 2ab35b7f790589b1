/**
 * Checkpoints published by the running pipeline: signed with the ledger's note key,
 * within a few seconds of new leaves, no more than about one a second, all kept, each
 * consistent with the one before; and ledger entries served back byte for byte.
 */
import fs from 'node:fs';
import type { DataSource } from 'typeorm';
import type { Queue } from 'bullmq';
import { openLedgerDatabase } from '../../../ledger/store/database';
import { LedgerWorker } from '../../../ledger/pipeline/worker';
import { createLedgerQueue, type LedgerJobData } from '../../../ledger/pipeline/queue';
import { CheckpointPublisher, verifierKey } from '../../../ledger/pipeline/checkpoint-publisher';
import { checkpointAt, checkpointsSince, entry, latestCheckpoint, ledgerTree, type StoredCheckpoint } from '../../../ledger/store/read-model';
import { loadLedgerNoteKey, noteKeyPath, type LedgerNoteKey } from '../../../ledger/core/note-key';
import { openCheckpoint } from '../../../ledger/core/checkpoint';
import { generateNoteKey, parseVerifierKey } from '../../../ledger/core/note';
import { leafHash } from '../../../ledger/core/hashing';
import { verifyConsistency } from '../../../ledger/core/verify';
import { leafBytes, type LedgerEvent } from '../../../ledger/core/leaf';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { REDIS_URL, enqueue, obliterateQueue, testEvent, uniqueQueueName, waitFor } from '../../support/ledger-pipeline';

const ORIGIN = 'custodian.test/ledger';
const INTERVAL_MS = 1_000;

describe('published checkpoints', () => {
  let database: TestDatabase;
  let db: DataSource;
  let key: LedgerNoteKey;
  const queueName = uniqueQueueName('checkpoints');
  let queue: Queue<LedgerJobData>;
  let worker: LedgerWorker;
  let publisher: CheckpointPublisher;
  const published: { checkpoint: StoredCheckpoint; at: number }[] = [];
  const events: LedgerEvent[] = [];

  /** Enqueues a wave and returns when its last leaf was committed (by the worker's clock). */
  async function wave(count: number): Promise<number> {
    const batch = Array.from({ length: count }, () => testEvent(events.length + 1));
    events.push(...batch);
    await enqueue(queue, batch);
    await waitFor(`${events.length} leaves`, async () => (await ledgerTree(db).size()) === events.length);
    return Date.now();
  }

  beforeAll(async () => {
    database = await freshDatabase();
    db = await openLedgerDatabase(database.env);
    key = loadLedgerNoteKey({ dataDir: database.env.DATA_DIR, name: ORIGIN });
    publisher = new CheckpointPublisher(db, key, {
      origin: ORIGIN,
      minIntervalMs: INTERVAL_MS,
      onPublished: (checkpoint) => published.push({ checkpoint, at: Date.now() }),
    });
    publisher.start();
    queue = createLedgerQueue(queueName, REDIS_URL);
    worker = new LedgerWorker(db, queueName, { redisUrl: REDIS_URL, batchSize: 10, onAppended: () => publisher.notify() });
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
  });

  afterAll(async () => {
    await worker?.close();
    await publisher?.stop();
    await queue?.close();
    await obliterateQueue(queueName);
    await db?.destroy();
    await database?.drop();
  });

  test('an empty ledger has a size-0 checkpoint at once', async () => {
    const first = await waitFor('the first checkpoint', () => latestCheckpoint(db).then((c) => c ?? undefined), 3_000);
    expect(first.size).toBe(0);
  });

  test('new leaves are signed within a few seconds, at most about once a second', async () => {
    for (const count of [5, 40, 3]) {
      const committed = await wave(count);
      const checkpoint = await waitFor(`a checkpoint of ${events.length}`, async () => {
        const latest = await latestCheckpoint(db);
        return latest && latest.size === events.length ? latest : undefined;
      }, 5_000);
      const seen = published.find((p) => p.checkpoint.size === checkpoint.size)!;
      expect(seen.at - committed).toBeLessThan(3_000);
    }
    // Many small batches arrive; checkpoints do not follow each one.
    for (let i = 0; i < 8; i++) await wave(1);
    await waitFor('the burst to be signed', async () => (await latestCheckpoint(db))?.size === events.length, 5_000);
    const times = published.map((p) => p.at);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
    expect(published.length).toBeLessThan(2 + 3 + 8);
  });

  test('every checkpoint is kept, verifies against the verifier key, and matches the tree', async () => {
    const all = await checkpointsSince(db);
    expect(all.map((c) => c.size)).toEqual(published.map((p) => p.checkpoint.size));
    const verifier = parseVerifierKey(verifierKey(key));
    const tree = ledgerTree(db);
    for (const stored of all) {
      const { checkpoint } = openCheckpoint(stored.note, [verifier], { origin: ORIGIN });
      expect(checkpoint.size).toBe(stored.size);
      expect(checkpoint.rootHash.toString('base64')).toBe(stored.root);
      expect(checkpoint.rootHash.equals(await tree.rootHash(stored.size))).toBe(true);
      expect(await checkpointAt(db, stored.size)).toEqual(stored);
    }
    expect(await checkpointAt(db, events.length + 1)).toBeNull();
    // Another key does not verify them.
    const stranger = parseVerifierKey(generateNoteKey(ORIGIN).verifierKey);
    expect(() => openCheckpoint(all[all.length - 1].note, [stranger])).toThrow();
  });

  test('consecutive checkpoints are consistent', async () => {
    const all = (await checkpointsSince(db)).filter((c) => c.size > 0);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const tree = ledgerTree(db);
    for (let i = 1; i < all.length; i++) {
      const [older, newer] = [all[i - 1], all[i]];
      const proof = await tree.consistencyProof(older.size, newer.size);
      verifyConsistency(older.size, newer.size, Buffer.from(older.root, 'base64'), Buffer.from(newer.root, 'base64'), proof);
    }
  });

  test('entries give back the exact bytes hashed and the event', async () => {
    for (const index of [0, 17, events.length - 1]) {
      const found = (await entry(db, index))!;
      const data = Buffer.from(found.leafData, 'base64');
      expect(data.equals(leafBytes(events[index]))).toBe(true);
      expect(found.leafHash).toBe(leafHash(data).toString('base64'));
      expect(found.event).toEqual(events[index]);
      expect(found.index).toBe(index);
    }
    expect(await entry(db, events.length)).toBeNull();
    expect(await entry(db, -1)).toBeNull();
  });

  test('the note key is generated once into DATA_DIR (mode 0600) and reused; LEDGER_NOTE_KEY overrides it', () => {
    const file = noteKeyPath(database.env.DATA_DIR);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^PRIVATE\+KEY\+custodian\.test\/ledger\+[0-9a-f]{8}\+/);
    expect(loadLedgerNoteKey({ dataDir: database.env.DATA_DIR, name: ORIGIN }).verifierKey).toBe(key.verifierKey);
    expect(key.verifierKey).toMatch(/^custodian\.test\/ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);

    const given = generateNoteKey('elsewhere.example/log');
    const overridden = loadLedgerNoteKey({ dataDir: database.env.DATA_DIR, name: ORIGIN, signerKey: given.signerKey });
    expect(overridden.verifierKey).toBe(given.verifierKey);
  });
});
