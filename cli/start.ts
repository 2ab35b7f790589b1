/**
 * `npm start`: the whole hub on one machine for a newcomer. Seeds a demo world on first
 * start, runs each subgraph and the gateway as its own process (as in production), waits
 * until each is healthy, prints where everything is, and stops them all on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_PORTS, readEnv, SUBGRAPH_NAMES, subgraphUrl, type Env } from '../common/config';
import { openDatabase } from '../common/database';
import { ensureDevelopmentKeys } from '../common/keys';
import { readLedgerEnv } from '../ledger/config';
import { loadLedgerNoteKey } from '../ledger/core/note-key';
import { projectRoot } from '../common/paths';
import { SUBGRAPHS } from '../subgraphs';
import { databaseSpec } from '../subgraphs/kit/server';
import { Patient } from '../subgraphs/patients/entities';
import { openIdentityDatabase } from '../gateway/identity/database';
import { User } from '../gateway/identity/entities';
import { seed } from '../seed/write';
import { progressPrinter } from './seed';

const DEMO_PATIENTS = 500;
const DEMO_SEED = 42;
/** Operator listeners (/metrics, detailed /healthz) on loopback: the gateway's, then each subgraph's. */
const DEFAULT_METRICS_PORT = 9400;

interface Service {
  name: string;
  script: string;
  /** Where it answers /healthz; none for the ledger worker, which serves no HTTP. */
  port?: number;
  /** Its operator listener's port (METRICS_PORT), if it has one. */
  metricsPort?: number;
}

/**
 * METRICS_PORT is where the gateway's operator listener goes; each subgraph takes the
 * next port, in the order of SUBGRAPH_NAMES. Unset, `npm start` uses 9400–9405 — unless
 * METRICS_TOKEN is set, which serves /metrics on each main listener instead.
 */
function metricsPorts(env: Env): { gateway?: number; subgraph(name: string): number | undefined } {
  const base = env.METRICS_PORT ?? (env.METRICS_TOKEN ? undefined : DEFAULT_METRICS_PORT);
  return {
    gateway: base,
    subgraph: (name) => (base === undefined ? undefined : base + 1 + SUBGRAPH_NAMES.indexOf(name as never)),
  };
}

/** A seeded clinician to suggest in the banner (any clinician sees their institution's patients). */
async function someClinician(env: Env): Promise<string> {
  const db = await openIdentityDatabase(env);
  try {
    return (await db.getRepository(User).findOne({ where: { role: 'clinician' }, order: { username: 'ASC' } }))?.username ?? 'admin';
  } finally {
    await db.destroy();
  }
}

async function hasData(env: Env): Promise<boolean> {
  const db = await openDatabase(databaseSpec(SUBGRAPHS.patients), env);
  try {
    return (await db.getRepository(Patient).count()) > 0;
  } finally {
    await db.destroy();
  }
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`not healthy at ${url} after ${timeoutMs / 1000} s`);
}

export async function startCommand(): Promise<void> {
  const env = readEnv();
  // Before any service starts, so that none of them races to create them.
  ensureDevelopmentKeys(env.DATA_DIR);
  const ledgerEnv = readLedgerEnv();
  loadLedgerNoteKey({ dataDir: env.DATA_DIR, name: ledgerEnv.LEDGER_ORIGIN, signerKey: ledgerEnv.LEDGER_NOTE_KEY });
  if (!(await hasData(env))) {
    process.stderr.write(`first start: seeding a demo world of ${DEMO_PATIENTS} patients (seed ${DEMO_SEED})\n`);
    await seed({ patients: DEMO_PATIENTS, seed: DEMO_SEED }, env, progressPrinter());
  }

  const dist = path.join(projectRoot(), 'dist');
  const metrics = metricsPorts(env);
  const services: Service[] = [
    // A subgraph listens where the gateway will look for it: <NAME>_URL, or its default port.
    ...SUBGRAPH_NAMES.map((name) => ({
      name,
      script: path.join(dist, 'subgraphs', name, 'main.js'),
      port: Number(new URL(subgraphUrl(name, env)).port),
      metricsPort: metrics.subgraph(name),
    })),
    // The outbox relay and the ledger worker (Redis, BullMQ): appends every event to the
    // Merkle tree and publishes signed checkpoints.
    { name: 'ledger', script: path.join(dist, 'ledger', 'main.js') },
    { name: 'gateway', script: path.join(dist, 'gateway', 'main.js'), port: env.PORT ?? DEFAULT_PORTS.gateway, metricsPort: metrics.gateway },
  ];
  const children = new Map<string, ChildProcess>();
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nstopping...\n');
    const exits = [...children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  for (const service of services) {
    const child = spawn(process.execPath, [service.script], {
      env: {
        ...process.env,
        ...(service.port !== undefined ? { PORT: String(service.port) } : {}),
        ...(service.metricsPort !== undefined ? { METRICS_PORT: String(service.metricsPort) } : {}),
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
      // The IPC channel lets a service notice when this process dies (see lifecycle.ts).
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.set(service.name, child);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      // Ctrl-C in a terminal reaches every process of the group at once; a service that
      // exits cleanly was asked to stop, so the hub stops with it, cleanly.
      if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') return void stopAll(0);
      process.stderr.write(`${service.name} stopped unexpectedly (${signal ?? `exit code ${code}`}); stopping the hub\n`);
      void stopAll(1);
    });
  }
  try {
    await Promise.all(
      services.filter((s) => s.port !== undefined).map((s) => waitHealthy(`http://127.0.0.1:${s.port}/healthz`, children.get(s.name)!)),
    );
  } catch (err) {
    process.stderr.write(`the hub did not start: ${err instanceof Error ? err.message : err}\n`);
    return stopAll(1);
  }

  const gateway = `http://localhost:${env.PORT ?? DEFAULT_PORTS.gateway}`;
  const clinician = await someClinician(env);
  const lines = [
    '',
    'Custodian is running.',
    '',
    `  web portal   ${gateway}/   (passkeys: enrol with a code from \`npx custodian invite --role patient --patient <id>\`)`,
    `  GraphQL      ${gateway}/graphql`,
    `  health       ${gateway}/healthz`,
    metrics.gateway !== undefined
      ? `  metrics      http://${env.METRICS_HOST}:${metrics.gateway}/metrics   (operators only: loopback; subgraphs on the next ports)`
      : `  metrics      ${gateway}/metrics   (with Authorization: Bearer $METRICS_TOKEN)`,
    `  ledger       ${gateway}/ledger/checkpoint   (verify: npx custodian verify --url ${gateway} --token <compliance token>)`,
    '',
    '  subgraphs (reachable only through the gateway in production):',
    ...SUBGRAPH_NAMES.map((name) => `    ${name.padEnd(10)} ${subgraphUrl(name, env)}`),
    '',
    `  data         ${env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : env.DATA_DIR}`,
    '',
    'Try, in another terminal (a token for a seeded clinician, then their patients):',
    `  TOKEN=$(npx custodian token ${clinician})`,
    `  curl -s ${gateway}/graphql -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `    -d '{"query":"{ patients(first: 2) { nodes { id name { text } labResults(first: 3) { nodes { code { display } value unit } } } } }"}'`,
    '',
    `  Passkeys over HTTP: POST ${gateway}/auth/webauthn/register/options with a code from \`npx custodian invite\`.`,
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  console.log(lines.join('\n'));
}
