/**
 * The replicated hub of README "Running replicas", on one machine: HAProxy running
 * deploy/haproxy.cfg in front of two gateways and two replicas of each subgraph, two
 * outbox relays and two ledger workers, all on one fresh PostgreSQL database and one
 * Redis. Every process is started on its own (as an operator's process manager would),
 * so a test can kill any one of them.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { ensureDevelopmentKeys } from '../../common/keys';
import { freePort } from '../../common/ports';
import { readLedgerEnv } from '../../ledger/config';
import { loadLedgerNoteKey } from '../../ledger/core/note-key';
import { freshDatabase, type TestDatabase } from './database';
import { startHaproxy } from './haproxy';
import { DIST, spawnNode, waitHealthy, type ServiceProcess } from './processes';

export interface Replicas {
  database: TestDatabase;
  /** The environment every hub process of this topology gets. */
  env: Record<string, string>;
  /** Where clients go: HAProxy's gateway frontend. */
  lb: string;
  haproxy: ServiceProcess;
  gateways: ServiceProcess[];
  subgraphs: Record<SubgraphName, ServiceProcess[]>;
  relays: ServiceProcess[];
  workers: ServiceProcess[];
  /** Every hub process (not HAProxy). */
  all(): ServiceProcess[];
  /** Runs a `custodian` command against this topology's data. */
  cli(...args: string[]): string;
  /** Mints an API token for a user (`custodian token`). */
  token(username: string, scopes?: string): string;
  stop(): Promise<void>;
}

export interface ReplicasOptions {
  patients: number;
  /** Runs on the seeded database before any service starts (e.g. test instrumentation). */
  prepare?: (database: TestDatabase) => Promise<void>;
  env?: Record<string, string>;
}

/** Two of everything; resolves once every process answers its health check. */
export async function startReplicas(options: ReplicasOptions): Promise<Replicas> {
  if (!process.env.DATABASE_URL) throw new Error('replicas share one PostgreSQL database: set DATABASE_URL');
  const database = await freshDatabase();
  const lbPorts = { gateway: await freePort(), subgraphs: {} as Record<SubgraphName, number> };
  const backends = { gateways: [await freePort(), await freePort()] as [number, number], subgraphs: {} as Record<SubgraphName, [number, number]> };
  for (const name of SUBGRAPH_NAMES) {
    lbPorts.subgraphs[name] = await freePort();
    backends.subgraphs[name] = [await freePort(), await freePort()];
  }
  const env: Record<string, string> = {
    ...database.vars,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    // Sixteen processes of several pools each, on a server (max_connections 100) that the
    // suite's other file running alongside shares: 46 connections at most with 1 per pool
    // (63 with 2), with no loss of throughput at this load.
    DATABASE_POOL_MAX: '1',
    // The gateways reach every subgraph through HAProxy, never one replica directly.
    ...Object.fromEntries(SUBGRAPH_NAMES.map((n) => [`${n.toUpperCase()}_URL`, `http://127.0.0.1:${lbPorts.subgraphs[n]}/graphql`])),
    ...options.env,
  };
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, [path.join(DIST, 'cli', 'main.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim();

  const started: ServiceProcess[] = [];
  try {
    cli('seed', '--patients', String(options.patients), '--seed', '7');
    // Keys before any service starts, as `custodian start` does: every process reads the
    // same DATA_DIR/keys (in production: the same key settings).
    ensureDevelopmentKeys(database.env.DATA_DIR);
    loadLedgerNoteKey({ dataDir: database.env.DATA_DIR, name: readLedgerEnv({ ...process.env, ...env }).LEDGER_ORIGIN, signerKey: undefined });
    await options.prepare?.(database);

    const subgraphs = {} as Record<SubgraphName, ServiceProcess[]>;
    for (const name of SUBGRAPH_NAMES) {
      subgraphs[name] = backends.subgraphs[name].map((port, i) =>
        spawnNode(`${name}${i + 1}`, path.join('subgraphs', name, 'main.js'), [], { ...env, PORT: String(port) }, `http://127.0.0.1:${port}`),
      );
      started.push(...subgraphs[name]);
    }
    const relays = [1, 2].map((i) => spawnNode(`relay${i}`, path.join('ledger', 'main.js'), ['relay'], env));
    const workers = [1, 2].map((i) => spawnNode(`worker${i}`, path.join('ledger', 'main.js'), ['worker'], env));
    const gateways = backends.gateways.map((port, i) =>
      spawnNode(`gateway${i + 1}`, path.join('gateway', 'main.js'), [], { ...env, PORT: String(port) }, `http://127.0.0.1:${port}`),
    );
    started.push(...relays, ...workers, ...gateways);
    const haproxy = await startHaproxy(lbPorts, backends);
    started.push(haproxy);
    await Promise.all([...gateways, ...Object.values(subgraphs).flat()].map((p) => waitHealthy(p, `${p.url}/healthz`)));
    for (const p of [...relays, ...workers]) {
      if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}):\n${p.output()}`);
    }
    const hub = [...gateways, ...Object.values(subgraphs).flat(), ...relays, ...workers];
    return {
      database,
      env,
      lb: `http://127.0.0.1:${lbPorts.gateway}`,
      haproxy,
      gateways,
      subgraphs,
      relays,
      workers,
      all: () => hub,
      cli,
      token: (username, scopes = 'read,write') => cli('token', username, '--scopes', scopes),
      async stop() {
        await Promise.all(started.map((p) => p.kill('SIGTERM')));
        await database.drop();
      },
    };
  } catch (err) {
    await Promise.all(started.map((p) => p.kill('SIGKILL')));
    await database.drop();
    throw err;
  }
}
