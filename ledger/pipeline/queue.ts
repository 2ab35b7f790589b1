/**
 * The BullMQ queue between the relay and the worker. A job is one ledger event and its
 * job id is the event id, so adding the same event again while the job is still known
 * to Redis is a no-op; beyond that the worker's unique event_id check takes over.
 *
 * Jobs carry the already redacted event (core/leaf.ts), never the raw outbox payload: what
 * is in Redis is exactly what will be public in the ledger.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { LedgerEvent } from '../core/leaf';

export interface LedgerJobData {
  readonly event: LedgerEvent;
  /** The W3C trace context of the request that wrote the event (tracing.ts): beside the event, never in the leaf. */
  readonly traceparent?: string;
}

/**
 * Retried practically forever, a couple of seconds apart: a job that fails does so
 * because the ledger database is unreachable, and giving up would lose the event.
 * Completed jobs are kept a day so that a late re-add of the same id stays a no-op.
 */
export function ledgerJobOptions(eventId: string): JobsOptions {
  return {
    jobId: eventId,
    attempts: 1_000_000,
    backoff: { type: 'fixed', delay: 2_000, jitter: 0.5 },
    removeOnComplete: { age: 24 * 3600, count: 100_000 },
    removeOnFail: false,
  };
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
