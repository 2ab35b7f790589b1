import { startGateway } from './server';

startGateway()
  .then((running) => {
    const stop = () => running.close().then(() => process.exit(0), () => process.exit(1));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })
  .catch((err: unknown) => {
    console.error('gateway failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
