/**
 * The denominator: BullMQ alone on the same Redis, moving the same jobs (the same event
 * data, job ids and ledgerJobOptions) in the same shape as the pipeline — addBulk of 500
 * (the relay's batch), one add after another, while one consumer completes them:
 *
 *  - bullmq-worker: a plain BullMQ Worker at concurrency 1 — the LedgerWorker also
 *    handles one job (batch) at a time — with a no-op processor;
 *  - fetch-loop:    LedgerWorker's own loop (a blocking getNextJob, then non-blocking ones
 *    up to 200, then moveToCompleted each) with no database behind it: what our way of
 *    consuming costs before any append.
 *
 * Timed from the first add until the last job is completed.
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { createLedgerQueue, ledgerJobOptions, type LedgerJobData } from '../../ledger/pipeline/queue';
import { redactEvent, type LedgerEvent } from '../../ledger/core/leaf';
import { decisionPayload, obliterateQueue, redisUrl, sleep, uniqueQueueName } from './common';

const ADD_BATCH = 500;
const FETCH_BATCH = 200;

export interface RawQueueRun {
  label: 'bullmq-worker' | 'fetch-loop';
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

function events(count: number): LedgerEvent[] {
  return Array.from({ length: count }, (_, i) =>
    redactEvent({ id: `evt_${randomUUID().replace(/-/g, '').slice(0, 20)}`, kind: 'access.decision', at: new Date().toISOString(), ...decisionPayload(i) }),
  );
}

export async function rawQueueRun(label: RawQueueRun['label'], count: number, timeoutMs = 60_000): Promise<RawQueueRun> {
  const name = uniqueQueueName('raw');
  const queue = createLedgerQueue(name, redisUrl());
  const jobs = events(count);
  let completed = 0;
  let worker: Worker<LedgerJobData> | undefined;
  let stop = false;
  let loop: Promise<void> = Promise.resolve();
  try {
    if (label === 'bullmq-worker') {
      worker = new Worker<LedgerJobData>(name, async () => null, { connection: { url: redisUrl(), maxRetriesPerRequest: null }, concurrency: 1 });
      worker.on('completed', () => completed++);
    } else {
      const token = randomUUID();
      const w = new Worker<LedgerJobData>(name, null, { connection: { url: redisUrl(), maxRetriesPerRequest: null }, autorun: false, drainDelay: 1 });
      worker = w;
      loop = (async () => {
        while (!stop) {
          const first = await w.getNextJob(token, { block: true });
          if (!first) continue;
          const batch: Job<LedgerJobData>[] = [first];
          while (batch.length < FETCH_BATCH) {
            const next = await w.getNextJob(token, { block: false });
            if (!next) break;
            batch.push(next);
          }
          for (const job of batch) await job.moveToCompleted(null, token, false);
          completed += batch.length;
        }
      })();
    }
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    const started = performance.now();
    for (let i = 0; i < count; i += ADD_BATCH) {
      await queue.addBulk(jobs.slice(i, i + ADD_BATCH).map((event) => ({ name: event.kind, data: { event }, opts: ledgerJobOptions(event.id) })));
    }
    const deadline = Date.now() + timeoutMs;
    while (completed < count) {
      if (Date.now() > deadline) throw new Error(`raw BullMQ (${label}): ${completed} of ${count} jobs completed within ${timeoutMs} ms`);
      await sleep(1);
    }
    const seconds = (performance.now() - started) / 1000;
    return { label, jobs: count, seconds: +seconds.toFixed(2), jobsPerSecond: Math.round(count / seconds) };
  } finally {
    stop = true;
    await loop.catch(() => undefined);
    await worker?.close();
    await queue.close();
    await obliterateQueue(name);
  }
}
