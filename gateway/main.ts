import { stopOnSignals } from '../common/lifecycle';
import { checkStartup, settingProblems, StartupRefused } from '../common/production';
import { startTracing, stopTracing } from '../common/tracing';
import { readLedgerEnv } from '../ledger/config';
import { startGateway } from './server';

// First: in production (the gateway also reads the ledger's settings), nothing is opened or written unless everything the gateway needs is there.
checkStartup('gateway', ['gateway'], () => settingProblems(readLedgerEnv))
  .then(() => {
    startTracing('custodian-gateway');
    return startGateway();
  })
  .then((running) =>
    stopOnSignals(async () => {
      await running.close();
      await stopTracing();
    }),
  )
  .catch((err: unknown) => {
    console.error(err instanceof StartupRefused ? err.message : `gateway failed to start: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
