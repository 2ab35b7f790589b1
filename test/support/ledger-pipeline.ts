/**
 * Test support for the ledger pipeline: subgraph-like source databases with an outbox,
 * queue names no other test shares, and waiting for eventual outcomes.
 */
import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Queue } from 'bullmq';
import { readEnv, type Env } from '../../common/config';
import { openDatabase } from '../../common/database';
import { OutboxEvent } from '../../ledger/pipeline/outbox';
import { OUTBOX_MIGRATIONS } from '../../ledger/pipeline/migrations';
import { redactEvent, type LedgerEvent } from '../../ledger/core/leaf';
import { ledgerJob, type LedgerJobData } from '../../ledger/pipeline/queue';
import { LedgerLeaf } from '../../ledger/store/entities';
import { exclusive } from '../../ledger/store/database';

export const REDIS_URL = readEnv().REDIS_URL;

/** A database with just an outbox, as every subgraph database has. */
export function openOutboxDatabase(env: Env, name: string): Promise<DataSource> {
  return openDatabase({ name, entities: [OutboxEvent], migrations: OUTBOX_MIGRATIONS }, env);
}

export function uniqueQueueName(label: string): string {
  return `test-${label}-${randomBytes(5).toString('hex')}`;
}

/** Removes every key of a test queue from Redis. */
export async function obliterateQueue(name: string): Promise<void> {
  const queue = new Queue(name, { connection: { url: REDIS_URL } });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** An opaque event id as newId makes them. */
export const eventId = (): string => `evt_${randomBytes(10).toString('hex')}`;

/** A well-formed ledger event carrying its sequence number as `count`. */
export function testEvent(sequence: number, kind = 'test.event'): LedgerEvent {
  return redactEvent({ id: eventId(), kind, at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, sequence)).toISOString(), count: sequence });
}

/** Adds events as the relay would: one job per `perJob` events, in this order. */
export async function enqueue(queue: Queue<LedgerJobData>, events: readonly LedgerEvent[], perJob = 500): Promise<void> {
  const jobs = [];
  for (let i = 0; i < events.length; i += perJob) jobs.push(ledgerJob(events.slice(i, i + perJob)));
  await queue.addBulk(jobs);
}

/** Every leaf, in leaf order — read in turn with any append of this process (see `exclusive`). */
export function allLeaves(db: DataSource): Promise<LedgerLeaf[]> {
  return exclusive(db, () => db.getRepository(LedgerLeaf).find({ order: { leafIndex: 'ASC' } }));
}
