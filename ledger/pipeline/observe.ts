/**
 * What an operator (and a health check) asks of the ledger pipeline, measured from the
 * outside: how many outbox rows wait to be relayed, how deep the queue is, how big the
 * tree is and how old its latest checkpoint. Reads only — it never changes the pipeline's
 * state — so the ledger process's /metrics and /healthz and the gateway's /healthz use
 * the same definitions.
 */
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { sqlQuery } from '../../common/database';
import { latestCheckpoint, ledgerTree } from '../store/read-model';

/** Queue depth as BullMQ counts it; its sum is what waits to be appended. */
export type QueueDepth = Record<'waiting' | 'active' | 'delayed' | 'prioritized', number>;

/** Rejects with `what` timed out after `ms`: a probe must answer, not hang (BullMQ waits for its first connection). */
export function within<T>(ms: number, what: string, task: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([task, timeout]).finally(() => clearTimeout(timer));
}

/** Rows of `db`'s outbox not yet relayed, and the age in seconds of the oldest (0 when none). */
export async function outboxBacklog(db: DataSource, now = Date.now()): Promise<{ backlog: number; oldestSeconds: number }> {
  // ix_outbox_pending (relayed_at, created_at) answers both from the index.
  const [row] = await sqlQuery<{ n: number | string; oldest: string | null }>(db, 'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE relayed_at IS NULL', {});
  const backlog = Number(row?.n ?? 0);
  const oldest = row?.oldest ? Date.parse(row.oldest) : NaN;
  return { backlog, oldestSeconds: backlog && Number.isFinite(oldest) ? Math.max(0, (now - oldest) / 1000) : 0 };
}

export async function queueDepth(queue: Queue, timeoutMs = 1000): Promise<QueueDepth> {
  const counts = await within(timeoutMs, 'ledger queue', queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'));
  return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, prioritized: counts.prioritized ?? 0 };
}

export function depthTotal(depth: QueueDepth): number {
  return depth.waiting + depth.active + depth.delayed + depth.prioritized;
}

export interface TreeState {
  treeSize: number;
  /** The latest published checkpoint, or null before the first. */
  checkpoint: { size: number; publishedAt: Date } | null;
}

/** The tree's size and the latest checkpoint, from the ledger database. */
export async function treeState(ledgerDb: DataSource): Promise<TreeState> {
  const [treeSize, latest] = await Promise.all([ledgerTree(ledgerDb).size(), latestCheckpoint(ledgerDb)]);
  return { treeSize, checkpoint: latest ? { size: latest.size, publishedAt: latest.publishedAt } : null };
}

/** Does `db` answer a trivial statement within `timeoutMs`? (A closed DataSource does not.) */
export async function databaseAnswers(db: DataSource, timeoutMs = 1000): Promise<void> {
  if (!db.isInitialized) throw new Error('database connection closed');
  await within(timeoutMs, 'database', db.query('SELECT 1'));
}

/** databaseAnswers for a connection opened on first use: one down at start is opened on a later probe. */
async function openedAndAnswers(db: DataSource, timeoutMs = 1000): Promise<void> {
  if (!db.isInitialized) {
    // One opening at a time: a scrape and a health probe may ask at once.
    let opening = openings.get(db);
    if (!opening) {
      opening = db.initialize().finally(() => openings.delete(db));
      openings.set(db, opening);
    }
    await within(timeoutMs, 'database', opening);
  }
  await databaseAnswers(db, timeoutMs);
}

const openings = new WeakMap<DataSource, Promise<unknown>>();

/** A probe's answer for the detailed health: "up", or why not (here and in gateway/health.ts). */
export async function probe(task: () => Promise<unknown>): Promise<string> {
  try {
    await task();
    return 'up';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export interface ObserverDeps {
  ledgerDb: DataSource;
  /** Outbox databases by source name. */
  sources: { name: string; db: DataSource }[];
  queue: Queue;
  /** Whether the process relays (then its sources must answer for it to be healthy). */
  relays: boolean;
}

/**
 * The ledger process's view of itself, on its own connections (it never shares the
 * relay's or worker's): the gauges' observation and its health — up when the ledger
 * database, Redis and (for a relay) every source database answer.
 */
export function ledgerObserver({ ledgerDb, sources, queue, relays }: ObserverDeps) {
  return {
    async observe() {
      const now = Date.now();
      const [outbox, queueState, tree] = await Promise.all([
        Promise.all(
          sources.map(async ({ name, db }) => {
            try {
              await openedAndAnswers(db);
              return { source: name, ...(await outboxBacklog(db, now)) };
            } catch {
              return null; // not reachable, or its outbox not created yet: no number rather than a wrong one
            }
          }),
        ),
        queueDepth(queue).catch(() => null),
        openedAndAnswers(ledgerDb).then(() => treeState(ledgerDb)).catch(() => null),
      ]);
      return {
        outbox: outbox.filter((o) => o !== null),
        queue: queueState,
        treeSize: tree?.treeSize ?? null,
        checkpoint: tree?.checkpoint ? { size: tree.checkpoint.size, ageSeconds: Math.max(0, (now - tree.checkpoint.publishedAt.getTime()) / 1000) } : null,
      };
    },
    async health() {
      const [ledger, redis, ...sourceStates] = await Promise.all([
        probe(() => openedAndAnswers(ledgerDb)),
        // Counting the queue's jobs is a Redis round trip: it answers for Redis and the queue at once.
        probe(() => queueDepth(queue)),
        ...(relays ? sources.map(({ db }) => probe(() => openedAndAnswers(db))) : []),
      ]);
      const databases: Record<string, string> = { ledger: ledger! };
      if (relays) sources.forEach(({ name }, i) => (databases[name] = sourceStates[i]!));
      const up = redis === 'up' && Object.values(databases).every((s) => s === 'up');
      return { up, detail: { redis, databases } };
    },
  };
}
