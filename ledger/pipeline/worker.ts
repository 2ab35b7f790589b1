/**
 * The ledger worker: takes jobs off the queue in order and appends their events as
 * leaves, several jobs per database transaction.
 *
 * A job is a batch of events (queue.ts). The worker fetches jobs itself, one after
 * another — the first one waiting, more only if already queued, until `batchSize` events
 * are in hand — rather than through BullMQ's concurrent processor loop, which fetches
 * several jobs at once and can hand them over out of order. So leaves follow the queue's
 * order, and a transaction holds whatever has accumulated while the previous one was
 * committing: no lingering under light load, full transactions under heavy.
 *
 * Only the holder of the append lease (store/lease.ts) consumes; other workers wait and
 * refresh every `leasePollMs`. On taking the lease a worker first brings the previous
 * holder's unfinished jobs back to the front of the queue (awaitOrphans), so a failover
 * keeps each source's order. With the defaults a SIGKILLed holder is replaced within
 * about 2 s on PostgreSQL (the lease is free at once, taken at the next poll) and 4 s on
 * SQLite (the lease row expires after LEDGER_LEASE_TTL_MS); the README states 5 s.
 *
 * Jobs are completed only after the transaction holding their events (store/append.ts)
 * commits. Kill the process at any point and its uncompleted jobs come back once their
 * locks expire; the unique event id turns any events that were in fact committed into
 * skips. Exactly once, in order of arrival.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { appendEvents, type AppendResult } from '../store/append';
import { createAppendLease, type AppendLease } from '../store/lease';
import { redactEvent, type LedgerEvent } from '../core/leaf';
import type { LedgerJobData, LegacyLedgerJobData } from './queue';
import { withAppendSpan } from './tracing';

export interface LedgerWorkerLogger {
  info?(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LedgerWorkerOptions {
  redisUrl: string;
  /** Most events per transaction (jobs are not split: one job's events always share a transaction). */
  batchSize?: number;
  /** Job lock; a killed worker's jobs are taken over about this long after it died. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How often a worker without the lease tries to take it, and the holder confirms it. */
  leasePollMs?: number;
  /** SQLite only: how long a lease lives without renewal. PostgreSQL: the idle session timeout of its connection. */
  leaseTtlMs?: number;
  /** The lease to consume under; by default the ledger database's (store/lease.ts). */
  lease?: AppendLease;
  /** Called after every committed batch that appended something (the checkpoint publisher listens). */
  onAppended?: (result: AppendResult) => void;
  /** Called when this worker takes or loses the lease. */
  onLease?: (held: boolean) => void;
  log?: LedgerWorkerLogger;
}

type LedgerJob = Job<LedgerJobData | LegacyLedgerJobData, (number | null)[]>;

/** In-place retries of a batch the database refused, before its jobs fail back to the queue's backoff. */
const BATCH_RETRY_DELAYS_MS = [100, 500, 2_000];
/** Seconds one blocking fetch waits for a job; also how long close() may wait for the loop. */
const FETCH_BLOCK_SECONDS = 1;

export class LedgerWorker {
  readonly worker: Worker<LedgerJobData | LegacyLedgerJobData, (number | null)[]>;
  readonly lease: AppendLease;
  private readonly batchSize: number;
  private readonly lockDurationMs: number;
  private readonly stalledIntervalMs: number;
  private readonly leasePollMs: number;
  /** For counting the jobs another holder left active. */
  private readonly queue: Queue;
  /** One lock token for this worker; each job's lock is its own key. */
  private readonly token = randomUUID();
  /** Jobs fetched and not yet settled, whose locks we keep alive. */
  private readonly inHand = new Set<LedgerJob>();
  private readonly keepLocks: NodeJS.Timeout;
  /** Set once the lease is held AND the previous holder's jobs are back. */
  private consuming = false;
  private closing = false;
  /** Pending pauses, cut short by close(). */
  private readonly wakers = new Set<() => void>();
  private readonly loop: Promise<void>;
  private readonly leaseLoop: Promise<void>;

  constructor(
    private readonly db: DataSource,
    queueName: string,
    private readonly opts: LedgerWorkerOptions,
  ) {
    this.batchSize = opts.batchSize ?? 1000;
    this.lockDurationMs = opts.lockDurationMs ?? 2_000;
    this.stalledIntervalMs = opts.stalledIntervalMs ?? 500;
    this.leasePollMs = opts.leasePollMs ?? 1_000;
    this.lease = opts.lease ?? createAppendLease(db, { ttlMs: opts.leaseTtlMs ?? 2.5 * this.leasePollMs });
    const connection = { url: opts.redisUrl, maxRetriesPerRequest: null };
    // No processor: jobs are fetched and completed by the loop below.
    this.worker = new Worker(queueName, null, {
      connection,
      autorun: false,
      lockDuration: this.lockDurationMs,
      stalledInterval: this.stalledIntervalMs,
      // A job orphaned by a killed worker must come back however often that happens,
      // never be moved to "failed": that would drop its events.
      maxStalledCount: 1_000_000,
      drainDelay: FETCH_BLOCK_SECONDS,
    });
    this.worker.on('error', (err) => opts.log?.error({ err }, 'ledger worker error'));
    this.queue = new Queue(queueName, { connection });
    this.queue.on('error', () => undefined);
    // Every worker runs the stalled-job check, holder or not: a dead holder's jobs come
    // back to the queue while the next one is taking the lease.
    void this.worker.startStalledCheckTimer();
    // Appends normally take milliseconds, but retries, and a prefetched batch waiting its turn, can outlast a short lock.
    this.keepLocks = setInterval(() => this.extendLocks(), this.lockDurationMs / 2);
    this.leaseLoop = this.keepLease();
    this.loop = this.run();
  }

  /** Resolves once the worker is connected to Redis. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([this.worker.waitUntilReady(), this.queue.waitUntilReady()]);
  }

  /** Whether this worker holds the append lease (and so is the one appending). For metrics and health. */
  holdsLease(): boolean {
    return this.lease.held();
  }

  /** Finishes the batch in hand (commits and completes it), gives the lease up, then disconnects. */
  async close(): Promise<void> {
    this.closing = true;
    for (const wake of this.wakers) wake();
    await this.leaseLoop;
    await this.loop;
    clearInterval(this.keepLocks);
    await this.lease.release();
    await this.worker.close();
    await this.queue.close();
  }

  /**
   * Fetch, append, complete — with the next batch fetched while this one is appended,
   * so the queue's round trips and the database transaction overlap. Batches are still
   * appended one after the other, in queue order; only while the lease is ours.
   */
  private async run(): Promise<void> {
    const fetch = () => this.fetchBatch().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    let prefetched: Promise<LedgerJob[] | Error> | null = null;
    while (!this.closing || prefetched) {
      if (!this.consuming && !prefetched) {
        await this.pause(this.leasePollMs);
        continue;
      }
      const batch = await (prefetched ?? fetch());
      prefetched = null;
      if (batch instanceof Error) {
        if (this.closing) break;
        this.opts.log?.warn({ err: batch }, 'cannot fetch ledger jobs; retrying');
        await this.pause(1_000);
        continue;
      }
      if (batch.length === 0) continue;
      if (!this.closing && this.consuming) prefetched = fetch();
      // A batch already fetched is processed even when closing or after losing the lease: its
      // jobs hold our locks, and the tree's compare-and-set keeps a late append consistent.
      await this.processBatch(batch);
    }
  }

  /** The lease, refreshed on its own clock: a long append must not let it lapse. */
  private async keepLease(): Promise<void> {
    while (!this.closing) {
      await this.checkLease().catch((err: unknown) => this.opts.log?.error({ err }, 'ledger append lease check failed'));
      await this.pause(this.leasePollMs);
    }
  }

  /** Refreshes the lease; on taking it, waits for the previous holder's jobs to come back first. */
  private async checkLease(): Promise<void> {
    const was = this.consuming;
    const held = await this.lease.refresh();
    if (held && !was) {
      this.opts.log?.info?.({ holder: this.lease.holderId, pid: process.pid, mechanism: this.lease.mechanism }, 'ledger append lease taken');
      await this.awaitOrphans();
      this.consuming = this.lease.held() && !this.closing;
      if (this.consuming) {
        this.opts.onLease?.(true);
        // The fetch loop is pausing between lease polls: start now.
        for (const wake of this.wakers) wake();
      }
    } else if (!held && was) {
      this.consuming = false;
      this.opts.log?.warn({ holder: this.lease.holderId, pid: process.pid }, 'ledger append lease lost; no longer appending');
      this.opts.onLease?.(false);
    }
  }

  /**
   * Jobs active when we take the lease belong to a holder that is gone (or has lost the
   * lease and is finishing its batch in hand). Appending past them would put their events
   * after later ones of the same source, so they come back first. Being the only
   * consumer now, we need not wait for their locks to expire: we drop the locks, and the
   * stalled check (every stalledIntervalMs) returns them to the front of the queue. Should
   * the old holder still be alive, its late append is a compare-and-set retry and its
   * events skips. Bounded all the same: past a lock's duration and a few checks, go on
   * (exactly once does not depend on it, only the order).
   */
  private async awaitOrphans(): Promise<void> {
    const deadline = Date.now() + this.lockDurationMs + 3 * this.stalledIntervalMs;
    try {
      const active = await this.queue.getActive();
      if (active.length > 0) {
        const client = await this.queue.getBackend().client;
        await client.del(...active.map((job) => `${this.queue.toKey(job.id!)}:lock`));
      }
    } catch (err) {
      this.opts.log?.warn({ err }, 'could not release the previous holder\'s job locks; waiting for them to expire');
    }
    while (!this.closing && Date.now() < deadline) {
      const active = await this.queue.getActiveCount().catch(() => 0);
      if (active === 0) return;
      await this.pause(Math.min(100, this.stalledIntervalMs));
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  private async fetchBatch(): Promise<LedgerJob[]> {
    const first = await this.worker.getNextJob(this.token, { block: true });
    if (!first) return [];
    const batch: LedgerJob[] = [first];
    this.inHand.add(first);
    let events = eventCount(first);
    // Jobs that came back from a dead worker sit together at the front of the queue, in no
    // order (the stalled check returns them so): all of them go into this batch, with the
    // first job after them, and the relay's timestamps restore their order.
    while (events < this.batchSize || batch.at(-1)!.stalledCounter > 0) {
      const next = await this.worker.getNextJob(this.token, { block: false });
      if (!next) break;
      batch.push(next);
      this.inHand.add(next);
      events += eventCount(next);
    }
    return batch.sort((x, y) => queuedAt(x) - queuedAt(y));
  }

  private extendLocks(): void {
    if (this.inHand.size === 0) return;
    const ids = [...this.inHand].map((job) => job.id!);
    this.worker.extendJobLocks(ids, ids.map(() => this.token), this.lockDurationMs).catch(() => undefined);
  }

  private async processBatch(jobs: LedgerJob[]): Promise<void> {
    const valid: { job: LedgerJob; events: LedgerEvent[] }[] = [];
    for (const job of jobs) {
      try {
        valid.push({ job, events: eventsOf(job) });
      } catch (err) {
        // Retrying cannot make a malformed job valid: fail it for an operator to see.
        const reason = `job ${job.id} is not a batch of ledger events: ${err instanceof Error ? err.message : String(err)}`;
        await this.settle(job, () => job.moveToFailed(new UnrecoverableError(reason), this.token, false));
      }
    }
    if (valid.length === 0) return;

    try {
      const result = await withAppendSpan(
        valid.flatMap(({ job, events }) => traceparentsOf(job, events.length)),
        () => this.appendWithRetries(valid.flatMap((v) => v.events)),
      );
      if (result.appended.length > 0) this.opts.onAppended?.(result);
      // A job's result is its events' leaf indexes — appended by this batch or, for events
      // delivered again, by an earlier one: either way the job is done.
      await Promise.all(
        valid.map(({ job, events }) => this.settle(job, () => job.moveToCompleted(events.map((e) => result.leafIndexOf.get(e.id) ?? null), this.token, false))),
      );
    } catch (err) {
      this.opts.log?.error({ err, jobs: valid.length }, 'ledger batch failed; its jobs go back to the queue');
      await Promise.all(valid.map(({ job }) => this.settle(job, () => job.moveToFailed(err instanceof Error ? err : new Error(String(err)), this.token, false))));
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
    } finally {
      this.inHand.delete(job);
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

function queuedAt(job: LedgerJob): number {
  const at = (job.data as Partial<LedgerJobData> | undefined)?.queuedAt;
  return typeof at === 'number' && Number.isFinite(at) ? at : job.timestamp;
}

function eventCount(job: LedgerJob): number {
  const data = job.data as Partial<LedgerJobData> | undefined;
  return Array.isArray(data?.events) ? data.events.length : 1;
}

/**
 * A job's events, each through the allow-list again: a no-op for what the relay produced,
 * and it keeps clinical values out of the ledger whoever else writes to the queue. One
 * malformed event fails the whole job, before anything of it is appended.
 */
function eventsOf(job: LedgerJob): LedgerEvent[] {
  const data = (job.data ?? {}) as Partial<LedgerJobData & LegacyLedgerJobData>;
  if (Array.isArray(data.events)) {
    if (data.events.length === 0) throw new Error('no events');
    return data.events.map((event) => redactEvent({ ...event }));
  }
  return [redactEvent({ ...(data.event ?? {}) } as LedgerEvent)];
}

/** The trace context of each of a job's events (tracing.ts), by position; none for jobs written while tracing was off. */
function traceparentsOf(job: LedgerJob, count: number): (string | undefined)[] {
  const data = (job.data ?? {}) as Partial<LedgerJobData & LegacyLedgerJobData>;
  if (Array.isArray(data.traceparents)) return Array.from({ length: count }, (_, i) => data.traceparents![i] ?? undefined);
  return Array.from({ length: count }, () => data.traceparent);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
