/**
 * Extra gateway processes on a running hub's subgraphs, one per executor combination
 * (gateway/runtime/executor.ts), each the product's own `node dist/gateway/main.js` with
 * GATEWAY_EXECUTOR / GATEWAY_PLANNER set — its own process, as in production, so no two
 * share an event loop with each other or with the load generator.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { projectRoot } from '../../common/paths';

export interface Combination {
  /** apollo, hive, hive+rust */
  name: string;
  executor: 'apollo' | 'hive';
  planner: 'js' | 'rust';
}

export const COMBINATIONS: readonly Combination[] = [
  { name: 'apollo', executor: 'apollo', planner: 'js' },
  { name: 'hive', executor: 'hive', planner: 'js' },
  { name: 'hive+rust', executor: 'hive', planner: 'rust' },
];

export interface GatewayProcess {
  combination: Combination;
  /** GraphQL endpoint. */
  url: string;
  stop(): Promise<void>;
}

/** Starts a gateway; resolves once its /healthz answers (every subgraph up). */
export async function spawnGateway(
  combination: Combination,
  port: number,
  subgraphs: Record<SubgraphName, string>,
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [path.join(projectRoot(), 'dist', 'gateway', 'main.js')], {
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      GATEWAY_EXECUTOR: combination.executor,
      GATEWAY_PLANNER: combination.planner,
      ...Object.fromEntries(SUBGRAPH_NAMES.map((n) => [`${n.toUpperCase()}_URL`, subgraphs[n]])),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway ${combination.name} exited with ${child.exitCode}:\n${output}`);
    const up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway ${combination.name} did not start in ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    combination,
    url: `${base}/graphql`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(kill);
      }
    },
  };
}
