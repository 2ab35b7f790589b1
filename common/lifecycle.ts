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

/**
 * Keep idle connections open longer than clients do (undici and most proxies close
 * theirs after 4–60 s): otherwise the server may close a socket at the very moment a
 * client sends the next request on it, and that request fails with "other side closed".
 */
export function keepConnectionsLonger(server: import('node:http').Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
}
