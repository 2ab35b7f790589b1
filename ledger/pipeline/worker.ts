/**
 * The ledger worker: takes jobs off the queue in order and appends their events as
 * leaves, a batch per database transaction.
 *
 * It fetches jobs itself, one after another — the first one waiting, the rest of the
 * batch only if already queued — rather than through BullMQ's concurrent processor
 * loop, which fetches several jobs at once and can hand them over out of order. So
 * leaves follow the queue's order, and a batch is whatever has accumulated while the
 * previous one was committing: no lingering under light load, full batches under heavy.
 *
 * A batch's jobs are completed only after its transaction (store/append.ts) commits. Kill the
 * process at any point and its uncompleted jobs come back once their locks expire
 * (BullMQ's stalled-job check, which every worker runs); the unique event id turns any
 * that were in fact committed into skips. Exactly once, in order of arrival.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { appendEvents, type AppendResult } from '../store/append';
import { redactEvent, type LedgerEvent } from '../core/leaf';
import type { LedgerJobData } from './queue';
import { withAppendSpan } from './tracing';

export interface LedgerWorkerLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LedgerWorkerOptions {
  redisUrl: string;
  /** Most events per transaction. */
  batchSize?: number;
  /** Job lock; a killed worker's jobs are taken over about this long after it died. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Called after every committed batch that appended something (the checkpoint publisher listens). */
  onAppended?: (result: AppendResult) => void;
  log?: LedgerWorkerLogger;
}

type LedgerJob = Job<LedgerJobData, number | null>;

/** In-place retries of a batch the database refused, before its jobs fail back to the queue's backoff. */
const BATCH_RETRY_DELAYS_MS = [100, 500, 2_000];
/** Seconds one blocking fetch waits for a job; also how long close() may wait for the loop. */
const FETCH_BLOCK_SECONDS = 1;

export class LedgerWorker {
  readonly worker: Worker<LedgerJobData, number | null>;
  private readonly batchSize: number;
  private readonly lockDurationMs: number;
  /** One lock token for this worker; each job's lock is its own key. */
  private readonly token = randomUUID();
  private closing = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly db: DataSource,
    queueName: string,
    private readonly opts: LedgerWorkerOptions,
  ) {
    this.batchSize = opts.batchSize ?? 200;
    this.lockDurationMs = opts.lockDurationMs ?? 30_000;
    // No processor: jobs are fetched and completed by the loop below.
    this.worker = new Worker<LedgerJobData, number | null>(queueName, null, {
      connection: { url: opts.redisUrl, maxRetriesPerRequest: null },
      autorun: false,
      lockDuration: this.lockDurationMs,
      stalledInterval: opts.stalledIntervalMs ?? 15_000,
      // A job orphaned by a killed worker must come back however often that happens,
      // never be moved to "failed": that would drop its event.
      maxStalledCount: 1_000_000,
      drainDelay: FETCH_BLOCK_SECONDS,
    });
    this.worker.on('error', (err) => opts.log?.error({ err }, 'ledger worker error'));
    void this.worker.startStalledCheckTimer();
    this.loop = this.run();
  }

  /** Resolves once the worker is connected to Redis. */
  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /** Finishes the batch in hand (commits and completes it), then disconnects. */
  async close(): Promise<void> {
    this.closing = true;
    await this.loop;
    await this.worker.close();
  }

  /**
   * Fetch, append, complete — with the next batch fetched while this one is appended,
   * so the queue's round trips and the database transaction overlap (the benchmark
   * found the worker spending more time talking to Redis than appending). Batches are
   * still appended one after the other, in queue order.
   */
  private async run(): Promise<void> {
    const fetch = () => this.fetchBatch().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    let prefetched: Promise<LedgerJob[] | Error> | null = null;
    while (!this.closing || prefetched) {
      const batch = await (prefetched ?? fetch());
      prefetched = null;
      if (batch instanceof Error) {
        if (this.closing) break;
        this.opts.log?.warn({ err: batch }, 'cannot fetch ledger jobs; retrying');
        await sleep(1_000);
        continue;
      }
      if (batch.length === 0) continue;
      if (!this.closing) prefetched = fetch();
      // A batch already fetched is processed even when closing: its jobs hold our locks.
      await this.processBatch(batch);
    }
  }

  private async fetchBatch(): Promise<LedgerJob[]> {
    const first = await this.worker.getNextJob(this.token, { block: true });
    if (!first) return [];
    const batch: LedgerJob[] = [first];
    while (batch.length < this.batchSize) {
      const next = await this.worker.getNextJob(this.token, { block: false });
      if (!next) break;
      batch.push(next);
    }
    return batch;
  }

  private async processBatch(jobs: LedgerJob[]): Promise<void> {
    const valid: { job: LedgerJob; event: LedgerEvent }[] = [];
    for (const job of jobs) {
      try {
        // Re-applying the allow-list is a no-op for what the relay produced, and keeps
        // clinical values out of the ledger whoever else writes to the queue.
        valid.push({ job, event: redactEvent({ ...(job.data?.event ?? {}) }) });
      } catch (err) {
        // Retrying cannot make a malformed job valid: fail it for an operator to see.
        const reason = `job ${job.id} is not a ledger event: ${err instanceof Error ? err.message : String(err)}`;
        await this.settle(job, () => job.moveToFailed(new UnrecoverableError(reason), this.token, false));
      }
    }
    if (valid.length === 0) return;

    // Appends normally take milliseconds, but retries can outlast a short lock.
    const keepLocks = setInterval(() => {
      const ids = valid.map((v) => v.job.id!);
      this.worker.extendJobLocks(ids, ids.map(() => this.token), this.lockDurationMs).catch(() => undefined);
    }, this.lockDurationMs / 2);
    try {
      const result = await withAppendSpan(
        valid.map((v) => v.job.data?.traceparent),
        () => this.appendWithRetries(valid.map((v) => v.event)),
      );
      if (result.appended.length > 0) this.opts.onAppended?.(result);
      // A job's result is its event's leaf index — appended by this batch or, for a job
      // delivered again, by an earlier one: either way the job is done.
      await Promise.all(valid.map(({ job, event }) => this.settle(job, () => job.moveToCompleted(result.leafIndexOf.get(event.id) ?? null, this.token, false))));
    } catch (err) {
      this.opts.log?.error({ err, events: valid.length }, 'ledger batch failed; its jobs go back to the queue');
      await Promise.all(valid.map(({ job }) => this.settle(job, () => job.moveToFailed(err instanceof Error ? err : new Error(String(err)), this.token, false))));
    } finally {
      clearInterval(keepLocks);
    }
  }

  /**
   * Completing or failing a job can itself fail (Redis gone). Nothing is lost then:
   * the job's lock expires and it is delivered again — and skipped if already appended.
   */
  private async settle(job: LedgerJob, move: () => Promise<unknown>): Promise<void> {
    try {
      await move();
    } catch (err) {
      this.opts.log?.warn({ err, jobId: job.id }, 'could not settle a ledger job; it will be redelivered');
    }
  }

  private async appendWithRetries(events: LedgerEvent[]): Promise<AppendResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await appendEvents(this.db, events);
      } catch (err) {
        const delay = BATCH_RETRY_DELAYS_MS[attempt];
        if (delay === undefined || this.closing) throw err;
        this.opts.log?.warn({ err, attempt }, 'ledger batch failed; retrying');
        await sleep(delay);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
