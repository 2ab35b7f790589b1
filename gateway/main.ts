import { stopOnSignals } from '../common/lifecycle';
import { startGateway } from './server';

startGateway()
  .then((running) => stopOnSignals(() => running.close()))
  .catch((err: unknown) => {
    console.error('gateway failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
