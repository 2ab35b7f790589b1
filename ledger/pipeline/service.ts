/**
 * The ledger pipeline as running parts: the outbox relay (subgraph databases → queue)
 * and the worker with its checkpoint publisher (queue → ledger database). Either can
 * run alone, each in as many processes as wanted: relays are made safe by the worker's
 * event-id check, workers by the append lease (one appends at a time) and, beneath it,
 * the tree's compare-and-set.
 */
import type { DataSource } from 'typeorm';
import type { Queue } from 'bullmq';
import type { Env } from '../../common/config';
import { createDataSource } from '../../common/database';
import type { Logger } from '../../common/logger';
import type { LedgerEnv } from '../config';
import { openLedgerDatabase } from '../store/database';
import { OutboxRelay } from './relay';
import { LedgerWorker } from './worker';
import { CheckpointPublisher } from './checkpoint-publisher';
import { WitnessPool } from './witnesses';
import { noteKeySource } from '../core/note-key';
import { createLedgerQueue, type LedgerJobData } from './queue';

export interface Running {
  close(): Promise<void>;
}

export interface RunningWorker extends Running {
  /** Whether this process holds the append lease: `worker.holdsLease()`, for metrics and health. */
  readonly worker: LedgerWorker;
}

/**
 * Relays the outboxes of `ledgerEnv.LEDGER_SOURCES` (subgraph database names). The
 * databases are opened without migrations — each subgraph owns its schema — so the relay
 * may start first: until a subgraph has created its outbox, reading it fails and is
 * retried on the next tick.
 */
export async function startRelay(env: Env, ledgerEnv: LedgerEnv, log: Logger): Promise<Running> {
  const sources: { name: string; db: DataSource }[] = [];
  for (const name of ledgerEnv.LEDGER_SOURCES) {
    const db = createDataSource({ name, entities: [], migrations: [] }, env);
    await db.initialize();
    sources.push({ name, db });
  }
  const queue: Queue<LedgerJobData> = createLedgerQueue(ledgerEnv.LEDGER_QUEUE, env.REDIS_URL, (err) =>
    log.warn({ err: err.message }, 'ledger queue connection'),
  );
  // Read only, to confirm relayed rows: the relay prunes what the ledger holds and
  // queues again what Redis lost.
  const ledger = await openLedgerDatabase(env);
  const relay = new OutboxRelay(sources, queue, { intervalMs: ledgerEnv.LEDGER_RELAY_INTERVAL_MS, confirmAfterMs: ledgerEnv.LEDGER_CONFIRM_AFTER_MS, ledger, log });
  relay.start();
  return {
    async close() {
      await relay.stop();
      await queue.close();
      for (const { db } of sources) await db.destroy();
      await ledger.destroy();
    },
  };
}

/** Consumes the queue into the ledger database and publishes checkpoints. */
export async function startWorker(env: Env, ledgerEnv: LedgerEnv, log: Logger): Promise<RunningWorker> {
  const db = await openLedgerDatabase(env);
  // Read again before every checkpoint: a rotation is picked up without a restart.
  const keys = noteKeySource({ dataDir: env.DATA_DIR, name: ledgerEnv.LEDGER_ORIGIN, signerKey: ledgerEnv.LEDGER_NOTE_KEY, previousSignerKey: ledgerEnv.LEDGER_NOTE_KEY_PREVIOUS });
  keys(); // a missing or malformed key stops the worker at start
  const publisher = new CheckpointPublisher(db, keys, {
    origin: ledgerEnv.LEDGER_ORIGIN,
    minIntervalMs: ledgerEnv.LEDGER_CHECKPOINT_INTERVAL_MS,
    log,
    witnesses: new WitnessPool(ledgerEnv.LEDGER_WITNESSES, ledgerEnv.LEDGER_WITNESS_TIMEOUT_MS),
  });
  publisher.start();
  const worker = new LedgerWorker(db, ledgerEnv.LEDGER_QUEUE, {
    redisUrl: env.REDIS_URL,
    batchSize: ledgerEnv.LEDGER_BATCH_SIZE,
    lockDurationMs: ledgerEnv.LEDGER_LOCK_DURATION_MS,
    stalledIntervalMs: ledgerEnv.LEDGER_STALLED_INTERVAL_MS,
    leasePollMs: ledgerEnv.LEDGER_LEASE_POLL_MS,
    leaseTtlMs: ledgerEnv.LEDGER_LEASE_TTL_MS,
    onAppended: () => publisher.notify(),
    log,
  });
  return {
    worker,
    async close() {
      await worker.close();
      await publisher.stop();
      await db.destroy();
    },
  };
}
