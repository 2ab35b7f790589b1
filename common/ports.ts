import net from 'node:net';

const handedOut = new Set<number>();

/**
 * A port that was free a moment ago, for child processes that need to know theirs in
 * advance. Chosen below the kernel's ephemeral range (32768+ on Linux), where servers
 * listening on port 0 — and outgoing connections — get theirs; never the same one twice
 * from this process; and from a slice of the range picked by the process id, so that
 * parallel test workers rarely meet.
 */
export async function freePort(low = 20_000, high = 32_000): Promise<number> {
  const slices = 6;
  const width = Math.floor((high - low) / slices);
  const start = low + (process.pid % slices) * width;
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = start + Math.floor(Math.random() * width);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${low} and ${high}`);
}
