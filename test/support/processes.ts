/**
 * Single processes of the hub (a gateway, one subgraph replica, a relay, a worker) and
 * HAProxy, started one by one as an operator runs them — for the tests of replicas and
 * backups, which kill and start them individually. `custodian start` (cli/start.ts)
 * runs the same entry points as one group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../common/paths';

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Where it answers HTTP (http://127.0.0.1:PORT), if it listens. */
  url?: string;
  output(): string;
  /** Resolves when the process has exited (at once if it already has). */
  exited: Promise<void>;
  /** Sends the signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export const DIST = path.join(projectRoot(), 'dist');

/** Spawns `command args` with the environment added; output is kept for error messages. */
export function spawnProcess(name: string, command: string, args: string[], env: Record<string, string | undefined>, url?: string): ServiceProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    // The IPC channel makes a Node service stop when this test process dies (common/lifecycle.ts).
    stdio: command === process.execPath ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output += d;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
  return {
    name,
    child,
    url,
    output: () => output,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** `node dist/<script> ...args`. */
export function spawnNode(name: string, script: string, args: string[], env: Record<string, string | undefined>, url?: string): ServiceProcess {
  return spawnProcess(name, process.execPath, [path.join(DIST, script), ...args], env, url);
}

/** Waits until GET url answers 2xx; fails early, with the process's output, if it exits. */
export async function waitHealthy(proc: ServiceProcess, url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before it was ready:\n${proc.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${proc.name} not healthy at ${url} after ${timeoutMs / 1000} s:\n${proc.output()}`);
}

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
