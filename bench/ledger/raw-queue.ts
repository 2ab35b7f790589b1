/**
 * The denominator: BullMQ alone on the same Redis, moving the same events (the same
 * event data and ledgerJobOptions), added 500 at a time (the relay's batch), one add
 * after another, while one consumer completes them:
 *
 *  - bullmq-worker: ONE JOB PER EVENT (the pipeline's design before batch jobs) through a
 *    plain BullMQ Worker at concurrency 1 with a no-op processor: what BullMQ itself moves
 *    when every event is a job — the ceiling the old pipeline sat under;
 *  - fetch-loop:    the pipeline's shape today, one job per 500 events, through
 *    LedgerWorker's own loop (a blocking getNextJob, non-blocking ones up to 1,000
 *    events, moveToCompleted each) with no database behind it: what our way of
 *    consuming costs before any append.
 *
 * Timed from the first add until the last event's job is completed; rates are per event.
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { createLedgerQueue, ledgerJob, type LedgerJobData } from '../../ledger/pipeline/queue';
import { redactEvent, type LedgerEvent } from '../../ledger/core/leaf';
import { decisionPayload, obliterateQueue, redisUrl, sleep, uniqueQueueName } from './common';

const ADD_BATCH = 500;
/** Events per transaction, as LedgerWorker's default. */
const FETCH_EVENTS = 1000;

export interface RawQueueRun {
  label: 'bullmq-worker' | 'fetch-loop';
  /** Events moved (one job each for bullmq-worker, 500 per job for fetch-loop). */
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
      worker.on('completed', (job) => (completed += job.data.events.length));
    } else {
      const token = randomUUID();
      const w = new Worker<LedgerJobData>(name, null, { connection: { url: redisUrl(), maxRetriesPerRequest: null }, autorun: false, drainDelay: 1 });
      worker = w;
      loop = (async () => {
        while (!stop) {
          const first = await w.getNextJob(token, { block: true });
          if (!first) continue;
          const batch: Job<LedgerJobData>[] = [first];
          let events = first.data.events.length;
          while (events < FETCH_EVENTS) {
            const next = await w.getNextJob(token, { block: false });
            if (!next) break;
            batch.push(next);
            events += next.data.events.length;
          }
          for (const job of batch) await job.moveToCompleted(null, token, false);
          completed += events;
        }
      })();
    }
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    const started = performance.now();
    for (let i = 0; i < count; i += ADD_BATCH) {
      const slice = jobs.slice(i, i + ADD_BATCH);
      await queue.addBulk(label === 'bullmq-worker' ? slice.map((event) => ledgerJob([event])) : [ledgerJob(slice)]);
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
