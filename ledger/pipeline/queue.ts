/**
 * The BullMQ queue between the relay and the worker. A job carries a BATCH of ledger
 * events — the relay's read of one outbox, in order — not one event: per event, BullMQ's
 * own round trips (add, fetch, lock, complete) cost more than the append itself, and one
 * job per event held the pipeline near half of what raw BullMQ moves (README, Benchmarks).
 *
 * Idempotence stays by event id, not by job: the ledger's unique event_id is what decides
 * "already appended" (store/append.ts), so a job delivered twice, or two jobs sharing
 * events (a relay re-reading rows after a crash, the relay's confirmation re-queueing
 * what Redis lost), never make a second leaf. The job id is derived from the batch's event
 * ids, so re-adding the very same batch while Redis still knows it is a no-op.
 *
 * Jobs carry the already redacted events (core/leaf.ts), never the raw outbox payload:
 * what is in Redis is exactly what will be public in the ledger.
 */
import { createHash } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { LedgerEvent } from '../core/leaf';

export interface LedgerJobData {
  /** In the order they are to be appended (per source: the outbox's order). */
  readonly events: readonly LedgerEvent[];
  /**
   * When the relay queued it (wall clock, sub-millisecond, increasing within one relay).
   * Jobs a dead worker held come back to the queue in no particular order; the worker
   * sorts the jobs of a batch by this to restore theirs.
   */
  readonly queuedAt?: number;
  /**
   * The W3C trace context of the request that wrote each event, by position (tracing.ts):
   * beside the events, never in a leaf. Absent when no event has one (tracing off).
   */
  readonly traceparents?: readonly (string | null)[];
}

/**
 * What a worker may still find in Redis from before batch jobs (one event per job):
 * accepted as a batch of one, so an upgrade with a non-empty queue loses nothing.
 */
export interface LegacyLedgerJobData {
  readonly event: LedgerEvent;
  /** The W3C trace context of the request that wrote the event (tracing.ts): beside the event, never in the leaf. */
  readonly traceparent?: string;
}

/** `b_` + 32 hex of SHA-256 over the event ids in order: the same batch, the same job. */
export function batchJobId(events: readonly Pick<LedgerEvent, 'id'>[]): string {
  const hash = createHash('sha256');
  for (const e of events) hash.update(e.id).update('\n');
  return `b_${hash.digest('hex').slice(0, 32)}`;
}

/**
 * Retried practically forever, a couple of seconds apart: a job that fails does so
 * because the ledger database is unreachable, and giving up would lose its events.
 * Completed jobs are kept a while (and only the latest few hundred: a job holds up to a
 * relay batch of events), so a quick re-add of the same batch — a relay that crashed
 * between adding and marking its rows — stays a no-op; a later one only costs skips.
 */
export function ledgerJobOptions(jobId: string): JobsOptions {
  return {
    jobId,
    attempts: 1_000_000,
    backoff: { type: 'fixed', delay: 2_000, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 200 },
    removeOnFail: false,
  };
}

/** One job for a batch of events, as the relay adds it. */
export function ledgerJob(
  events: readonly LedgerEvent[],
  traceparents: readonly (string | undefined)[] = [],
): { name: string; data: LedgerJobData; opts: JobsOptions } {
  const data: LedgerJobData = { events, queuedAt: performance.timeOrigin + performance.now() };
  const traced = traceparents.some(Boolean) ? { traceparents: events.map((_, i) => traceparents[i] ?? null) } : {};
  return { name: 'events', data: { ...data, ...traced }, opts: ledgerJobOptions(batchJobId(events)) };
}

/**
 * A queue for producers. The offline queue is off, so while Redis is unreachable a
 * command fails instead of waiting in memory; the relay also bounds each add with a
 * timeout, because BullMQ itself waits for the first connection.
 */
export function createLedgerQueue(name: string, redisUrl: string, onError: (err: Error) => void = () => undefined): Queue<LedgerJobData> {
  const queue = new Queue<LedgerJobData>(name, {
    connection: { url: redisUrl, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 },
  });
  // Without a listener an 'error' event (Redis down) would crash the process.
  queue.on('error', onError);
  return queue;
}
