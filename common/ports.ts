import net from 'node:net';

/**
 * A port that was free a moment ago, for child processes that need to know theirs in
 * advance. Chosen below the kernel's ephemeral range (32768+ on Linux), where servers
 * listening on port 0 — and outgoing connections — get theirs: otherwise a port handed
 * out here could be taken by one of those before the child binds it.
 */
export async function freePort(low = 20_000, high = 32_000): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port found between ${low} and ${high}`);
}
