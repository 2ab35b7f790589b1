/**
 * `node dist/ledger/main.js [relay] [worker]` — the ledger service; both parts when none
 * is named. Configuration: DATA_DIR, DATABASE_URL, REDIS_URL (common/config.ts) and the
 * LEDGER_* variables (ledger/config.ts).
 */
import 'reflect-metadata';
import { readEnv } from '../common/config';
import { stopOnSignals } from '../common/lifecycle';
import { checkStartup, StartupRefused, type ProcessRole } from '../common/production';
import { createLogger } from '../common/logger';
import { startTracing, stopTracing } from '../common/tracing';
import { readLedgerEnv } from './config';
import { startRelay, startWorker, type Running } from './pipeline/service';

async function main(): Promise<void> {
  const parts = process.argv.slice(2);
  const unknown = parts.filter((p) => p !== 'relay' && p !== 'worker');
  if (unknown.length) throw new Error(`unknown part ${unknown.join(', ')}: expected relay and/or worker`);
  const wanted = parts.length ? new Set(parts) : new Set(['relay', 'worker']);
  // First: in production, nothing is opened or written unless everything these parts need is there.
  const roles = [...wanted].map((part) => `ledger-${part}` as ProcessRole);
  await checkStartup(`ledger (${[...wanted].join(', ')})`, roles, () => {
    try {
      readLedgerEnv();
      return [];
    } catch (err) {
      return (err as Error).message.split('\n').slice(1).map((line) => line.trim());
    }
  });

  const env = readEnv();
  startTracing('custodian-ledger');
  const ledgerEnv = readLedgerEnv();
  const log = createLogger('ledger', env.LOG_LEVEL);
  const running: Running[] = [];
  if (wanted.has('worker')) running.push(await startWorker(env, ledgerEnv, log));
  if (wanted.has('relay')) running.push(await startRelay(env, ledgerEnv, log));
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
