/**
 * The hub's services as child processes of `custodian start`, which live and stop
 * together: Ctrl-C or SIGTERM stops them all; so does one of them stopping on its own
 * (cleanly: the hub exits 0; unexpectedly: it says which and exits 1) or one never
 * becoming healthy. Each is asked with SIGTERM and killed if still there after 10 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Service {
  name: string;
  script: string;
  /** Its listener (PORT), where it answers /healthz. */
  port?: number;
  /** Where it answers /healthz when that is not `port` (the ledger: LEDGER_PORT). */
  healthPort?: number;
  /** Its operator listener's port (METRICS_PORT), if it has one. */
  metricsPort?: number;
  /** More environment for it. */
  env?: Record<string, string>;
  /**
   * `healthy` (default): ready once /healthz says 200. `answering`: once /healthz answers
   * at all — for a service whose health includes what the hub runs without (Redis, the
   * ledger keeping up), so `npm start` without Redis still starts, and says so.
   */
  readyWhen?: 'healthy' | 'answering';
}

const KILL_AFTER_MS = 10_000;

export class ServiceGroup {
  private readonly running: { service: Service; child: ChildProcess }[] = [];
  private stopping = false;

  /** Stops the group when this process is asked to stop; call before starting services. */
  stopOnSignals(): void {
    process.once('SIGINT', () => void this.stopAll(0));
    process.once('SIGTERM', () => void this.stopAll(0));
  }

  start(service: Service): void {
    const child = spawn(process.execPath, [service.script], {
      env: {
        ...process.env,
        ...(service.port !== undefined ? { PORT: String(service.port) } : {}),
        ...(service.metricsPort !== undefined ? { METRICS_PORT: String(service.metricsPort) } : {}),
        ...service.env,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
      // The IPC channel lets a service notice when this process dies (see lifecycle.ts).
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.running.push({ service, child });
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      // Ctrl-C in a terminal reaches every process of the group at once; a service that
      // exits cleanly was asked to stop, so the hub stops with it, cleanly.
      if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') return void this.stopAll(0);
      process.stderr.write(`${service.name} stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping the hub\n`);
      void this.stopAll(1);
    });
  }

  /** Resolves once every service with a health port is ready (see Service.readyWhen); rejects if one exits or times out first. */
  async ready(): Promise<void> {
    await Promise.all(
      this.running
        .filter(({ service }) => (service.healthPort ?? service.port) !== undefined)
        .map(({ service, child }) => waitHealthy(`http://127.0.0.1:${service.healthPort ?? service.port}/healthz`, child, service.readyWhen === 'answering')),
    );
  }

  /** Stops every service, then exits this process with `code`. Only the first call acts. */
  async stopAll(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    process.stderr.write('\nstopping...\n');
    await Promise.all(this.running.map(({ child }) => stopChild(child)));
    process.exit(code);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitHealthy(url: string, child: ChildProcess, answerIsEnough: boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok || (answerIsEnough && res.status === 503)) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`not healthy at ${url} after ${timeoutMs / 1000} s`);
}
