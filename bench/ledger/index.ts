/**
 * The ledger benchmarks, side by side in one run:
 *
 *  1. end to end: BURST_EVENTS events committed to the subgraph outboxes by 32
 *     concurrent writers, relayed, queued, appended and signed by the real parts, until
 *     a published checkpoint covers them all → events/s;
 *  2. commit → published checkpoint, p50/p99, under a steady load (open loop, at the
 *     gateway's peak event rate when bench/run.ts measured it — keep-up.ts — else half the
 *     throughput of 1 and at most STEADY_RATE/s), with the default 1 s checkpoint
 *     interval and with 250 ms;
 *  3. BullMQ alone on the same Redis, the same events, one job each (the design before
 *     batch jobs), one consumer → jobs/s, the denominator of 1; LedgerWorker's fetch loop
 *     over today's batch jobs without a database; and the worker's database half alone
 *     (appendEvents, batches of 1,000, no queue);
 *  4. inclusion proofs at 1,000,000 leaves, in process and over HTTP (proofs.ts), unless
 *     left out (BENCH_ONLY=ledger).
 */
import 'reflect-metadata';
import { appendAloneRun, pipelineRun, type AppendAloneRun, type PipelineRun } from './pipeline';
import { rawQueueRun, type RawQueueRun } from './raw-queue';
import { proofBench, type ProofBenchResult } from './proofs';

const BURST_EVENTS = Number(process.env.BENCH_LEDGER_EVENTS ?? 8_000);
const STEADY_SECONDS = Number(process.env.BENCH_LEDGER_STEADY_SECONDS ?? 4);
const STEADY_RATE = Number(process.env.BENCH_LEDGER_STEADY_RATE ?? 500);

export interface LedgerBenchResult {
  pipeline: PipelineRun;
  steady: PipelineRun[];
  rawQueue: RawQueueRun[];
  appendAlone: AppendAloneRun;
  proofs?: ProofBenchResult;
  ratios: {
    /** End-to-end events/s ÷ a plain BullMQ Worker's no-op jobs/s, one job per event (mean of the runs before and after). */
    pipelineOverRawBullmq: number;
    /** End-to-end events/s ÷ LedgerWorker's fetch loop with no database. */
    pipelineOverFetchLoop: number;
    /** HTTP proofs/s ÷ in-process proofs/s. */
    httpOverInProcessProofs?: number;
  };
}

export interface LedgerBenchOptions {
  /** Events/s for the steady commit → checkpoint runs: the gateway's peak event rate, when measured. */
  steadyRate?: number;
  /** Inclusion proofs at 1,000,000 leaves (default true). */
  proofs?: boolean;
}

export async function ledgerBench(opts: LedgerBenchOptions = {}): Promise<LedgerBenchResult> {
  const rawQueue: RawQueueRun[] = [];
  const raw = async (label: RawQueueRun['label']) => {
    process.stdout.write(`BullMQ alone (${label}): ${BURST_EVENTS} no-op jobs... `);
    const run = await rawQueueRun(label, BURST_EVENTS);
    console.log(`${run.jobsPerSecond} jobs/s`);
    rawQueue.push(run);
    return run;
  };
  // The plain Worker runs before and after the pipeline, and the ratio takes their mean:
  // on a shared 2-core machine one lone run can land in a busy moment.
  const before = await raw('bullmq-worker');
  process.stdout.write(`ledger pipeline: ${BURST_EVENTS} events, 32 writers, checkpoint interval 1000 ms... `);
  const pipeline = await pipelineRun('end to end, burst', { mode: 'burst', count: BURST_EVENTS, concurrency: 32 }, 1000);
  console.log(`${pipeline.eventsPerSecond} events/s (writers meanwhile ${pipeline.writesPerSecond} commits/s, ${pipeline.meanWorkerBatch} events per worker batch)`);
  const fetchLoop = await raw('fetch-loop');
  const after = await raw('bullmq-worker');
  const bullmqPerSecond = (before.jobsPerSecond + after.jobsPerSecond) / 2;

  process.stdout.write(`ledger append alone: ${BURST_EVENTS} events through appendEvents, batches of 1000... `);
  const appendAlone = await appendAloneRun(BURST_EVENTS, 1000);
  console.log(`${appendAlone.eventsPerSecond} events/s (p50 ${appendAlone.batchMs.p50} ms per batch)`);

  const rate = opts.steadyRate ? Math.max(10, Math.round(opts.steadyRate)) : Math.max(10, Math.min(STEADY_RATE, Math.round(pipeline.eventsPerSecond / 2)));
  const steady: PipelineRun[] = [];
  for (const interval of [1000, 250]) {
    process.stdout.write(`ledger steady load: ${rate} events/s for ${STEADY_SECONDS} s, checkpoint interval ${interval} ms... `);
    const run = await pipelineRun(`steady ${rate}/s`, { mode: 'steady', rate, durationMs: STEADY_SECONDS * 1000 }, interval);
    console.log(`commit → checkpoint p50 ${run.commitToCheckpointMs.p50} ms, p99 ${run.commitToCheckpointMs.p99} ms`);
    steady.push(run);
  }

  const proofs = opts.proofs === false ? undefined : await proofBench();
  return {
    pipeline,
    steady,
    rawQueue,
    appendAlone,
    proofs,
    ratios: {
      pipelineOverRawBullmq: +(pipeline.eventsPerSecond / bullmqPerSecond).toFixed(3),
      pipelineOverFetchLoop: +(pipeline.eventsPerSecond / fetchLoop.jobsPerSecond).toFixed(3),
      ...(proofs ? { httpOverInProcessProofs: +(proofs.http.proofsPerSecond / proofs.inProcess.proofsPerSecond).toFixed(3) } : {}),
    },
  };
}

/** Milliseconds as a table shows them: whole above 100, else 3 significant digits. */
const ms = (x: number): string => (x >= 100 ? String(Math.round(x)) : String(+x.toPrecision(3)));

/** Rows for the printed table. */
export function ledgerTable(r: LedgerBenchResult): (string | number)[][] {
  const pair = (s: { p50: number; p99: number }) => `${ms(s.p50)} / ${ms(s.p99)}`;
  const p = r.proofs;
  return [
    ['ledger scenario', 'per second', 'p50 / p99 ms', 'notes'],
    [
      'end to end: outbox → relay → BullMQ → worker → checkpoint',
      `${r.pipeline.eventsPerSecond} events`,
      pair(r.pipeline.commitToCheckpointMs),
      `${r.pipeline.events} events by 32 writers (${r.pipeline.writesPerSecond} commits/s meanwhile); latency is commit → checkpoint through the backlog`,
    ],
    ...r.rawQueue.map((q, i) => [
      q.label === 'bullmq-worker'
        ? `BullMQ alone: one job per event, Worker, concurrency 1, no-op (${i === 0 ? 'before' : 'after'})`
        : "BullMQ alone: LedgerWorker's fetch loop over jobs of 500 events, no database",
      `${q.jobsPerSecond} ${q.label === 'bullmq-worker' ? 'jobs' : 'events'}`,
      '',
      q.label === 'bullmq-worker' ? `${q.jobs} jobs, addBulk of 500` : `${q.jobs} events`,
    ]),
    ['appendEvents alone, batches of 1000, no queue', `${r.appendAlone.eventsPerSecond} events`, pair(r.appendAlone.batchMs), `per batch; ${r.appendAlone.events} events`],
    ...r.steady.map((s) => [
      `commit → published checkpoint, interval ${s.checkpointIntervalMs} ms`,
      `${s.rate} events offered`,
      pair(s.commitToCheckpointMs),
      `${s.events} events over ${s.seconds} s, ${s.checkpoints} checkpoints, relay tick ${s.relayIntervalMs} ms`,
    ]),
    ...(p ? proofRows(p, pair) : []),
  ];
}

function proofRows(p: ProofBenchResult, pair: (s: { p50: number; p99: number }) => string): (string | number)[][] {
  return [
    [
      `inclusion proof at ${p.leaves} leaves, in process`,
      `${p.inProcess.proofsPerSecond} proofs`,
      pair(p.inProcess.latencyMs),
      `${p.inProcess.sqlStatementsPerProof} SQL statements and ${p.inProcess.nodesReadPerProof} nodes per proof (log2 n = ${p.inProcess.log2Leaves})`,
    ],
    [
      `inclusion proof at ${p.leaves} leaves, GET /ledger/proof/inclusion`,
      `${p.http.proofsPerSecond} proofs`,
      pair(p.http.latencyMs),
      `${p.http.sqlStatementsPerProof} SQL statements per proof; ${p.http.concurrency} in flight for the rate, one at a time for latency; ${p.inProcess.verified + p.http.verified} proofs verified against the signed root`,
    ],
  ];
}

if (require.main === module) {
  // `node dist/bench/ledger/index.js`: the ledger part of `npm run bench` alone.
  ledgerBench().then(
    (r) => {
      const rows = ledgerTable(r);
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
      console.log('\n' + rows.map((row) => row.map((c, i) => String(c).padEnd(widths[i]!)).join('  ')).join('\n'));
      console.log(JSON.stringify(r.ratios));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
