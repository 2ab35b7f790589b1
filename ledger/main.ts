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
import { createLogger, type Logger } from '../common/logger';
import { ledgerGauges, ownPortEndpoints } from '../common/metrics';
import { readLedgerEnv, type LedgerEnv } from './config';
import { ledgerObserver } from './pipeline/observe';
import { createLedgerQueue } from './pipeline/queue';
import { startRelay, startWorker, type Running } from './pipeline/service';
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

  const env = readEnv();
  const ledgerEnv = readLedgerEnv();
  const log = createLogger('ledger', env.LOG_LEVEL);
  const running: Running[] = [];
  if (wanted.has('worker')) running.push(await startWorker(env, ledgerEnv, log));
  if (wanted.has('relay')) running.push(await startRelay(env, ledgerEnv, log));
  // Last, so /healthz answers only once the parts run (npm start waits for it).
  if (ledgerEnv.LEDGER_PORT !== undefined) running.push(await serveHealthAndMetrics(ledgerEnv.LEDGER_PORT, env, ledgerEnv, wanted.has('relay'), log));
  log.info({ parts: [...wanted], queue: ledgerEnv.LEDGER_QUEUE }, 'ledger running');
  stopOnSignals(async () => {
    for (const part of running.reverse()) await part.close();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`ledger: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
