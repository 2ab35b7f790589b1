/**
 * The ledger pipeline end to end, every part real: outbox rows committed in the four
 * subgraph databases (by a worker thread, see writers.ts) → OutboxRelay (its own
 * connections, default batch 500 and 500 ms tick) → BullMQ on the real Redis →
 * LedgerWorker (jobs of up to 500 events, default 1,000 events per transaction) → CheckpointPublisher, wired as ledger/pipeline/service.ts
 * wires them (the relay with its own ledger connection, for confirmations). The relay, worker and publisher share this process, as `node
 * dist/ledger/main.js` runs them.
 *
 * A run ends when a published checkpoint covers every event written. Then every leaf is
 * read back: each write became exactly one leaf (or the run fails), and each event's
 * commit-to-checkpoint time is the publication of the first checkpoint whose size
 * covers its leaf, minus its commit.
 */
import path from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import type { DataSource } from 'typeorm';
import { createDataSource, openDatabase } from '../../common/database';
import { openLedgerDatabase } from '../../ledger/store/database';
import { OutboxRelay } from '../../ledger/pipeline/relay';
import { LedgerWorker } from '../../ledger/pipeline/worker';
import { CheckpointPublisher } from '../../ledger/pipeline/checkpoint-publisher';
import { createLedgerQueue } from '../../ledger/pipeline/queue';
import { LedgerLeaf } from '../../ledger/store/entities';
import { appendEvents } from '../../ledger/store/append';
import { redactEvent, type LedgerEvent } from '../../ledger/core/leaf';
import { ORIGIN, benchNoteKey, decisionPayload, freshBenchDatabase, obliterateQueue, redisUrl, sleep, summarize, uniqueQueueName, wallMs, type Summary } from './common';
import { outboxSpec, type WriterOrders, type WriterReport } from './writers';

export const SOURCES = ['patients', 'labs', 'devices', 'research'];

export interface PipelineRun {
  label: string;
  mode: 'burst' | 'steady';
  checkpointIntervalMs: number;
  relayIntervalMs: number;
  events: number;
  /** burst: writers in flight; steady: target writes per second. */
  concurrency?: number;
  rate?: number;
  /** Writes committed per second (writer side alone). */
  writesPerSecond: number;
  /** First write started → a published checkpoint covers every event. */
  seconds: number;
  eventsPerSecond: number;
  /** From each event's commit to the publication of the first checkpoint that covers it. */
  commitToCheckpointMs: Summary;
  checkpoints: number;
  /** Mean events per worker transaction. */
  meanWorkerBatch: number;
}

function runWriters(orders: WriterOrders): Promise<WriterReport> {
  return new Promise((resolve, reject) => {
    const thread = new Thread(path.join(__dirname, 'writers.js'), { workerData: orders });
    thread.once('message', (m: { report?: WriterReport; error?: string }) => (m.report ? resolve(m.report) : reject(new Error(`writers: ${m.error}`))));
    thread.once('error', reject);
  });
}

export async function pipelineRun(
  label: string,
  orders: Pick<WriterOrders, 'mode' | 'count' | 'concurrency' | 'rate' | 'durationMs'>,
  checkpointIntervalMs: number,
  timeoutMs = 120_000,
): Promise<PipelineRun> {
  const database = await freshBenchDatabase('pipeline');
  const queueName = uniqueQueueName('ledger');
  const sources: DataSource[] = [];
  let ledgerDb: DataSource | undefined;
  let relayLedger: DataSource | undefined;
  let relay: OutboxRelay | undefined;
  let worker: LedgerWorker | undefined;
  let publisher: CheckpointPublisher | undefined;
  const queue = createLedgerQueue(queueName, redisUrl());
  try {
    // The subgraphs create their outboxes; the relay reads them through its own connections.
    for (const name of SOURCES) await (await openDatabase(outboxSpec(name), database.env)).destroy();
    for (const name of SOURCES) {
      const db = createDataSource({ name, entities: [], migrations: [] }, database.env);
      await db.initialize();
      sources.push(db);
    }
    ledgerDb = await openLedgerDatabase(database.env);
    const published: { size: number; at: number }[] = [];
    publisher = new CheckpointPublisher(ledgerDb, benchNoteKey(), {
      origin: ORIGIN,
      minIntervalMs: checkpointIntervalMs,
      onPublished: (c) => published.push({ size: c.size, at: wallMs() }),
    });
    publisher.start();
    let batches = 0;
    worker = new LedgerWorker(ledgerDb, queueName, {
      redisUrl: redisUrl(),
      onAppended: () => {
        batches++;
        publisher!.notify();
      },
    });
    // As startRelay wires it: its own connection to the ledger, to confirm relayed rows
    // (with the default grace of 30 s, within a run that is one empty query per tick).
    relayLedger = await openLedgerDatabase(database.env);
    relay = new OutboxRelay(
      sources.map((db, i) => ({ name: SOURCES[i]!, db })),
      queue,
      { ledger: relayLedger },
    );
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    relay.start();

    const report = await runWriters({ ...orders, env: { DATA_DIR: database.env.DATA_DIR, DATABASE_URL: database.env.DATABASE_URL }, sources: SOURCES });
    const deadline = Date.now() + timeoutMs;
    while (!published.some((c) => c.size >= report.written)) {
      if (Date.now() > deadline) throw new Error(`${label}: no checkpoint covered ${report.written} events within ${timeoutMs} ms`);
      await sleep(2);
    }
    const coveredAt = published.find((c) => c.size >= report.written)!.at;

    // Exactly once, and which leaf each write became.
    const leaves = await ledgerDb.getRepository(LedgerLeaf).find({ select: { leafIndex: true, leafData: true }, order: { leafIndex: 'ASC' } });
    if (leaves.length !== report.written) throw new Error(`${label}: ${report.written} events written, ${leaves.length} leaves`);
    const leafOf = new Int32Array(report.written).fill(-1);
    for (const leaf of leaves) {
      const sequence = (JSON.parse(leaf.leafData) as { count: number }).count;
      if (leafOf[sequence] !== -1) throw new Error(`${label}: event ${sequence} became two leaves`);
      leafOf[sequence] = leaf.leafIndex;
    }
    const latencies: number[] = [];
    for (let s = 0; s < report.written; s++) {
      if (leafOf[s] === -1) throw new Error(`${label}: event ${s} never became a leaf`);
      // published is in size order: the first checkpoint past this leaf.
      let lo = 0;
      let hi = published.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (published[mid]!.size > leafOf[s]!) hi = mid;
        else lo = mid + 1;
      }
      latencies.push(published[lo]!.at - report.commits[s]!);
    }

    const seconds = (coveredAt - report.startedAt) / 1000;
    return {
      label,
      mode: orders.mode,
      checkpointIntervalMs,
      relayIntervalMs: 500,
      events: report.written,
      concurrency: orders.concurrency,
      rate: orders.rate,
      writesPerSecond: Math.round(report.written / ((report.finishedAt - report.startedAt) / 1000)),
      seconds: +seconds.toFixed(2),
      eventsPerSecond: Math.round(report.written / seconds),
      commitToCheckpointMs: summarize(latencies),
      checkpoints: published.filter((c) => c.size > 0).length,
      meanWorkerBatch: +(report.written / Math.max(1, batches)).toFixed(1),
    };
  } finally {
    await relay?.stop();
    await worker?.close();
    await publisher?.stop();
    await queue.close();
    await obliterateQueue(queueName);
    for (const db of sources) await db.destroy();
    await relayLedger?.destroy();
    await ledgerDb?.destroy();
    await database.drop();
  }
}

export interface AppendAloneRun {
  events: number;
  batch: number;
  seconds: number;
  eventsPerSecond: number;
  /** Per appendEvents call. */
  batchMs: Summary;
}

/**
 * The worker's database half alone: appendEvents on a fresh ledger, in the worker's
 * default batches of 1,000, one after another, events already in memory — no queue, no
 * relay. With the fetch loop alone (raw-queue.ts) it shows where the pipeline's time goes.
 */
export async function appendAloneRun(count: number, batch = 1000): Promise<AppendAloneRun> {
  const database = await freshBenchDatabase('append');
  const db = await openLedgerDatabase(database.env);
  try {
    const at = new Date().toISOString();
    const events: LedgerEvent[] = Array.from({ length: count }, (_, i) =>
      redactEvent({ id: `evt_${i.toString(16).padStart(20, '0')}`, kind: 'access.decision', at, ...decisionPayload(i) }),
    );
    const batchMs: number[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i += batch) {
      const t0 = performance.now();
      await appendEvents(db, events.slice(i, i + batch));
      batchMs.push(performance.now() - t0);
    }
    const seconds = (performance.now() - started) / 1000;
    return { events: count, batch, seconds: +seconds.toFixed(2), eventsPerSecond: Math.round(count / seconds), batchMs: summarize(batchMs) };
  } finally {
    await db.destroy();
    await database.drop();
  }
}
