import { stopOnSignals } from '../common/lifecycle';
import { startTracing, stopTracing } from '../common/tracing';
import { startGateway } from './server';

startTracing('custodian-gateway');
startGateway()
  .then((running) =>
    stopOnSignals(async () => {
      await running.close();
      await stopTracing();
    }),
  )
  .catch((err: unknown) => {
    console.error('gateway failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
