/**
 * How a service process ends: on SIGINT or SIGTERM, and — when `custodian start` runs it
 * with an IPC channel — when that parent goes away, so a killed `npm start` never leaves
 * orphaned services holding their ports.
 */
export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (process.send) process.once('disconnect', stop);
}
