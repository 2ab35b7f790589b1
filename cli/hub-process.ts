/**
 * Runs `custodian start` as a child process on the given ports and waits until it
 * reports ready. Used by the end-to-end tests and the benchmarks, which both want the
 * hub exactly as a newcomer runs it: separate processes, real HTTP.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../common/config';
import { projectRoot } from '../common/paths';

export interface HubProcess {
  gateway: string;
  /** Opens /metrics and the detailed /healthz on every service (METRICS_TOKEN). */
  metricsToken: string;
  /** Mints an API token for a user with `custodian token`, against this hub's data. */
  token(username: string, scopes?: string): string;
  /** Runs another `custodian` command against this hub's data; returns its output. */
  cli(...args: string[]): string;
  subgraphs: Record<SubgraphName, string>;
  process: ChildProcess;
  output(): string;
  /** Sends the signal (Ctrl-C by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface HubPorts {
  gateway: number;
  subgraphs: Record<SubgraphName, number>;
}

export async function spawnHub(ports: HubPorts, env: Record<string, string | undefined>, timeoutMs = 150_000): Promise<HubProcess> {
  const subgraphs = Object.fromEntries(
    SUBGRAPH_NAMES.map((n) => [n, `http://127.0.0.1:${ports.subgraphs[n]}/graphql`]),
  ) as Record<SubgraphName, string>;
  const cli = path.join(projectRoot(), 'dist', 'cli', 'main.js');
  // Operators' endpoints on the main listeners, behind a token: several hubs may run at
  // once (tests, benchmarks), and fixed operator ports would collide.
  const metricsToken = env.METRICS_TOKEN ?? randomBytes(18).toString('base64url');
  const childEnv = {
    ...process.env,
    ...env,
    METRICS_TOKEN: metricsToken,
    PORT: String(ports.gateway),
    ...Object.fromEntries(SUBGRAPH_NAMES.map((n) => [`${n.toUpperCase()}_URL`, subgraphs[n]])),
  };
  const child = spawn(process.execPath, [cli, 'start'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hub did not start in ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    const onData = () => {
      if (!output.includes('Custodian is running')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before it was ready:\n${output}`));
    });
  });

  return {
    gateway: `http://127.0.0.1:${ports.gateway}`,
    metricsToken,
    token: (username, scopes = 'read,write') =>
      execFileSync(process.execPath, [cli, 'token', username, '--scopes', scopes], { env: childEnv, encoding: 'utf8' }).trim(),
    cli: (...args) => execFileSync(process.execPath, [cli, ...args], { env: childEnv, encoding: 'utf8' }).trim(),
    subgraphs,
    process: child,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
