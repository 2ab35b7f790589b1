/**
 * Does the ledger keep up with the gateway? A running hub (as `npm start` runs it: its
 * own ledger process, relay and worker with their defaults) is loaded at the gateway's
 * highest sustained throughput (closed loop, the same query and connections as the
 * gateway scenarios), while this process samples, every 500 ms:
 *
 *  - the events produced since the window began: outbox rows created in the subgraph
 *    databases (access decisions, and the few other kinds a read may write);
 *  - the events appended since then (the ledger's size);
 *  - the backlog between the two: events committed to an outbox and not yet a leaf.
 *
 * The window starts with the pipeline drained. Bounded means the backlog of the second
 * half of the load is no larger than that of the first half plus one relay batch (500):
 * it does not grow across the run. After the load, the time for the ledger to catch up.
 * Then, for every event of the window, commit (its outbox row's created_at) → the
 * publication of the first checkpoint covering its leaf: p50/p99.
 */
import { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { SUBGRAPH_NAMES, type Env } from '../../common/config';
import { createDataSource, sqlQuery } from '../../common/database';
import { defaultQueueName } from '../../ledger/config';
import { openLedgerDatabase } from '../../ledger/store/database';
import { readSize } from '../../ledger/store/db-node-store';
import { load, type BenchRequest, type LoadResult } from '../load';
import { sleep, summarize, type Summary } from './common';

export interface KeepUpSample {
  /** Seconds since the window began. */
  t: number;
  produced: number;
  appended: number;
  backlog: number;
  /** Jobs waiting or active in the ledger queue. */
  queuedJobs: number;
}

export interface KeepUpRun {
  load: LoadResult;
  /** Events produced by the load, every kind / access decisions only. */
  events: number;
  accessDecisions: number;
  eventsPerSecond: number;
  accessDecisionsPerSecond: number;
  eventsPerRequest: number;
  /** Leaves appended per second during the load. */
  appendedPerSecond: number;
  samples: KeepUpSample[];
  maxBacklog: number;
  bounded: boolean;
  /** After the load stopped, until every event of the window was a leaf. */
  catchUpSeconds: number;
  commitToCheckpointMs: Summary;
}

const RELAY_BATCH = 500;

export async function keepUpRun(opts: {
  env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR' | 'REDIS_URL'>;
  url: string;
  requests: BenchRequest[];
  seconds: number;
  connections: number;
}): Promise<KeepUpRun> {
  const sources: DataSource[] = [];
  const ledger = await openLedgerDatabase(opts.env);
  const queue = new Queue(defaultQueueName(opts.env), { connection: { url: opts.env.REDIS_URL } });
  try {
    for (const name of SUBGRAPH_NAMES) {
      const db = createDataSource({ name, entities: [], migrations: [] }, opts.env);
      await db.initialize();
      sources.push(db);
    }
    const count = async (where: string, params: Record<string, unknown>) => {
      let n = 0;
      for (const db of sources) n += Number((await sqlQuery<{ n: unknown }>(db, `SELECT count(*) AS n FROM outbox WHERE ${where}`, params))[0]?.n ?? 0);
      return n;
    };
    const size = () => readSize(ledger.manager);
    const queued = async () => {
      const c = await queue.getJobCounts('wait', 'active');
      return c.wait + c.active;
    };

    // Start from a drained pipeline, so that the backlog is what this load leaves behind.
    const drainBy = Date.now() + 30_000;
    while ((await count('relayed_at IS NULL', {})) > 0 || (await queued()) > 0) {
      if (Date.now() > drainBy) break;
      await sleep(200);
    }
    const t0 = new Date();
    const since = { t0: t0.toISOString() };
    const size0 = await size();
    const samples: KeepUpSample[] = [];
    const sample = async () => {
      const [produced, appended, queuedJobs] = [await count('created_at >= :t0', since), (await size()) - size0, await queued()];
      const s = { t: +((Date.now() - t0.getTime()) / 1000).toFixed(2), produced, appended, backlog: Math.max(0, produced - appended), queuedJobs };
      samples.push(s);
      return s;
    };

    let loading = true;
    const sampler = (async () => {
      while (loading) {
        await sample();
        await sleep(500);
      }
    })();
    const result = await load('gateway at full load, for the ledger', opts.url, opts.requests, opts.seconds, opts.connections);
    loading = false;
    await sampler;
    const loadEnded = Date.now();
    const atEnd = await sample();
    const loadSamples = samples.filter((s) => s.t <= opts.seconds);

    // Catch up: every event of the window a leaf.
    const produced = atEnd.produced;
    const catchUpBy = Date.now() + 60_000;
    while ((await size()) - size0 < produced) {
      if (Date.now() > catchUpBy) throw new Error(`the ledger did not catch up with ${produced} events within 60 s of the load`);
      await sleep(50);
    }
    const catchUpSeconds = (Date.now() - loadEnded) / 1000;

    // Commit → published checkpoint, for each event of the window.
    const committed = new Map<string, number>();
    let accessDecisions = 0;
    for (const db of sources) {
      for (const row of await sqlQuery<{ id: string; kind: string; created_at: string }>(db, 'SELECT id, kind, created_at FROM outbox WHERE created_at >= :t0', since)) {
        committed.set(row.id, Date.parse(row.created_at));
        if (row.kind === 'access.decision') accessDecisions++;
      }
    }
    const checkpointBy = Date.now() + 10_000;
    let checkpoints: { size: number; published_at: string }[] = [];
    for (;;) {
      checkpoints = await sqlQuery(ledger, 'SELECT size, published_at FROM ledger_checkpoint WHERE size > :size0 ORDER BY size', { size0 });
      if (Number(checkpoints.at(-1)?.size ?? 0) >= size0 + produced || Date.now() > checkpointBy) break;
      await sleep(100);
    }
    const leaves = await sqlQuery<{ leaf_index: unknown; event_id: string }>(ledger, 'SELECT leaf_index, event_id FROM ledger_leaf WHERE leaf_index >= :size0', { size0 });
    const latencies: number[] = [];
    for (const leaf of leaves) {
      const at = committed.get(leaf.event_id);
      const index = Number(leaf.leaf_index);
      const covering = checkpoints.find((c) => Number(c.size) > index);
      if (at !== undefined && covering) latencies.push(Date.parse(covering.published_at) - at);
    }

    const half = (first: boolean) => loadSamples.filter((s) => (first ? s.t < opts.seconds / 2 : s.t >= opts.seconds / 2));
    const maxOf = (xs: KeepUpSample[]) => Math.max(0, ...xs.map((s) => s.backlog));
    const loadAppended = loadSamples.at(-1)?.appended ?? 0;
    return {
      load: result,
      events: produced,
      accessDecisions,
      eventsPerSecond: Math.round(produced / opts.seconds),
      accessDecisionsPerSecond: Math.round(accessDecisions / opts.seconds),
      eventsPerRequest: +(produced / Math.max(1, result.requests)).toFixed(1),
      appendedPerSecond: Math.round(loadAppended / Math.max(0.001, loadSamples.at(-1)?.t ?? opts.seconds)),
      samples,
      maxBacklog: maxOf(samples),
      bounded: maxOf(half(false)) <= maxOf(half(true)) + RELAY_BATCH,
      catchUpSeconds: +catchUpSeconds.toFixed(2),
      commitToCheckpointMs: summarize(latencies),
    };
  } finally {
    await queue.close();
    for (const db of sources) await db.destroy();
    await ledger.destroy();
  }
}

/** The goals of issue 12, from one run: the keep-up load beside the pipeline's own figures. */
export interface KeepUpVerdict {
  gatewayEventsPerSecond: number;
  ledgerEventsPerSecond: number;
  ledgerOverGatewayPeak: number;
  ledgerOverRawBullmq: number;
  commitToCheckpointP99Ms: number;
  bounded: boolean;
  goals: { atLeast1_5xGateway: boolean; atLeast3000PerSecond: boolean; p99Under2s: boolean; backlogBounded: boolean };
}

export function keepUpVerdict(k: KeepUpRun, pipelineEventsPerSecond: number, rawBullmqPerSecond: number): KeepUpVerdict {
  const ratio = pipelineEventsPerSecond / Math.max(1, k.eventsPerSecond);
  return {
    gatewayEventsPerSecond: k.eventsPerSecond,
    ledgerEventsPerSecond: pipelineEventsPerSecond,
    ledgerOverGatewayPeak: +ratio.toFixed(2),
    ledgerOverRawBullmq: +(pipelineEventsPerSecond / rawBullmqPerSecond).toFixed(2),
    commitToCheckpointP99Ms: k.commitToCheckpointMs.p99,
    bounded: k.bounded,
    goals: {
      atLeast1_5xGateway: ratio >= 1.5,
      atLeast3000PerSecond: pipelineEventsPerSecond >= 3000,
      p99Under2s: k.commitToCheckpointMs.p99 < 2000,
      backlogBounded: k.bounded,
    },
  };
}

export function keepUpTable(k: KeepUpRun, v: KeepUpVerdict): (string | number)[][] {
  const yes = (b: boolean) => (b ? 'met' : 'NOT met');
  return [
    ['ledger keeps up (one run)', 'figure', 'goal'],
    [`gateway at full load (${k.load.connections} connections, ${k.load.seconds} s): requests/s`, Math.round(k.load.rps), ''],
    ['  access decisions/s it produces (outbox rows in the window)', k.accessDecisionsPerSecond, ''],
    [`  events/s it produces, every kind (${k.eventsPerRequest} per request)`, k.eventsPerSecond, ''],
    ['  leaves/s the hub\'s ledger appended meanwhile', k.appendedPerSecond, ''],
    ['  backlog (committed, not yet a leaf): max / at the end of the load', `${k.maxBacklog} / ${k.samples.filter((s) => s.t <= k.load.seconds).at(-1)?.backlog ?? 0}`, `bounded: ${yes(v.bounded)}`],
    ['  caught up after the load stopped', `${k.catchUpSeconds} s`, ''],
    ['  commit → published checkpoint p50 / p99 ms', `${k.commitToCheckpointMs.p50} / ${k.commitToCheckpointMs.p99}`, `p99 < 2 s: ${yes(v.goals.p99Under2s)}`],
    ['ledger end to end (bench/ledger pipeline, burst): events/s', v.ledgerEventsPerSecond, `≥ 3,000: ${yes(v.goals.atLeast3000PerSecond)}`],
    ['ledger / gateway peak event rate', v.ledgerOverGatewayPeak, `≥ 1.5: ${yes(v.goals.atLeast1_5xGateway)}`],
    ['ledger / raw BullMQ (one job per event)', v.ledgerOverRawBullmq, ''],
  ];
}
