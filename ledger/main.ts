/**
 * `node dist/ledger/main.js [relay] [worker]` — the ledger service; both parts when none
 * is named. Configuration: DATA_DIR, DATABASE_URL, REDIS_URL (common/config.ts) and the
 * LEDGER_* variables (ledger/config.ts).
 *
 * With LEDGER_PORT set it also serves GET /healthz (up when its databases and Redis
 * answer) and GET /metrics (the outbox backlog, queue depth, tree size and checkpoint
 * age, measured when scraped) on that port: the ledger has no other listener.
 */
import 'reflect-metadata';
import { readEnv, type Env } from '../common/config';
import { createDataSource } from '../common/database';
import { stopOnSignals } from '../common/lifecycle';
import { checkStartup, settingProblems, StartupRefused, type ProcessRole } from '../common/production';
import { createLogger, type Logger } from '../common/logger';
import { ledgerGauges, ownPortEndpoints } from '../common/metrics';
import { startTracing, stopTracing } from '../common/tracing';
import { readLedgerEnv, type LedgerEnv } from './config';
import { ledgerObserver } from './pipeline/observe';
import { createLedgerQueue } from './pipeline/queue';
import { Gauge } from 'prom-client';
import { startRelay, startWorker, type Running, type RunningWorker } from './pipeline/service';
import { LEDGER_DATABASE } from './store/database';

/** /healthz and /metrics on LEDGER_PORT, on connections of their own (opened lazily, so a database down at start is reported, not fatal). */
async function serveHealthAndMetrics(port: number, env: Env, ledgerEnv: LedgerEnv, relays: boolean, log: Logger): Promise<Running> {
  const ledgerDb = createDataSource({ ...LEDGER_DATABASE, migrations: [] }, { ...env, DATABASE_POOL_MAX: 1 });
  const sources = ledgerEnv.LEDGER_SOURCES.map((name) => ({ name, db: createDataSource({ name, entities: [], migrations: [] }, { ...env, DATABASE_POOL_MAX: 1 }) }));
  const queue = createLedgerQueue(ledgerEnv.LEDGER_QUEUE, env.REDIS_URL);
  const observer = ledgerObserver({ ledgerDb, sources, queue, relays });
  const gauges = ledgerGauges(() => observer.observe());
  const endpoints = await ownPortEndpoints(port, env, log, () => observer.health());
  log.info({ url: endpoints.url }, 'ledger health and metrics');
  return {
    async close() {
      gauges.close();
      await endpoints.close();
      await queue.close();
      for (const db of [ledgerDb, ...sources.map((s) => s.db)]) if (db.isInitialized) await db.destroy();
    },
  };
}

async function main(): Promise<void> {
  const parts = process.argv.slice(2);
  const unknown = parts.filter((p) => p !== 'relay' && p !== 'worker');
  if (unknown.length) throw new Error(`unknown part ${unknown.join(', ')}: expected relay and/or worker`);
  const wanted = parts.length ? new Set(parts) : new Set(['relay', 'worker']);
  // First: in production, nothing is opened or written unless everything these parts need is there.
  const roles = [...wanted].map((part) => `ledger-${part}` as ProcessRole);
  await checkStartup(`ledger (${[...wanted].join(', ')})`, roles, () => settingProblems(() => readLedgerEnv()));

  const env = readEnv();
  startTracing('custodian-ledger');
  const ledgerEnv = readLedgerEnv();
  const log = createLogger('ledger', env.LOG_LEVEL);
  const running: Running[] = [];
  let worker: RunningWorker | undefined;
  if (wanted.has('worker')) running.push((worker = await startWorker(env, ledgerEnv, log)));
  if (worker) {
    const held = worker.worker;
    // Which of several workers appends (ledger/store/lease.ts): exactly one reads 1.
    new Gauge({
      name: 'custodian_ledger_append_lease_held',
      help: '1 while this ledger worker holds the append lease (only the holder appends), else 0',
      collect() {
        this.set(held.holdsLease() ? 1 : 0);
      },
    });
  }
  if (wanted.has('relay')) running.push(await startRelay(env, ledgerEnv, log));
  // Last, so /healthz answers only once the parts run (npm start waits for it).
  if (ledgerEnv.LEDGER_PORT !== undefined) running.push(await serveHealthAndMetrics(ledgerEnv.LEDGER_PORT, env, ledgerEnv, wanted.has('relay'), log));
  log.info({ parts: [...wanted], queue: ledgerEnv.LEDGER_QUEUE }, 'ledger running');
  stopOnSignals(async () => {
    for (const part of running.reverse()) await part.close();
    await stopTracing();
  });
}

main().catch((err: unknown) => {
  if (err instanceof StartupRefused) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`ledger: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
