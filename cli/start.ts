/**
 * `npm start`: the whole hub on one machine for a newcomer. Seeds a demo world on first
 * start, runs each subgraph and the gateway as its own process (as in production), waits
 * until each is healthy, prints where everything is, and stops them all on Ctrl-C.
 */
import path from 'node:path';
import { DEFAULT_PORTS, readEnv, SUBGRAPH_NAMES, subgraphUrl, type Env } from '../common/config';
import { openDatabase } from '../common/database';
import { ensureDevelopmentKeys } from '../common/keys';
import { checkStartup } from '../common/production';
import { readLedgerEnv } from '../ledger/config';
import { loadLedgerNoteKey } from '../ledger/core/note-key';
import { projectRoot } from '../common/paths';
import { freePort } from '../common/ports';
import { SUBGRAPHS } from '../subgraphs';
import { databaseSpec } from '../subgraphs/kit/server';
import { Patient } from '../subgraphs/patients/entities';
import { openIdentityDatabase } from '../gateway/identity/database';
import { User } from '../gateway/identity/entities';
import { seed } from '../seed/write';
import { progressPrinter } from './seed';
import { ServiceGroup, type Service } from './service-group';

const DEMO_PATIENTS = 500;
const DEMO_SEED = 42;
/** Operator listeners (/metrics, detailed /healthz) on loopback: the gateway's, then each subgraph's, then the ledger's. */
const DEFAULT_METRICS_PORT = 9400;

interface MetricsPorts {
  gateway?: number;
  subgraph(name: string): number | undefined;
  /** The ledger process's one listener (LEDGER_PORT): /healthz and /metrics. */
  ledger: number;
}

/**
 * METRICS_PORT is where the gateway's operator listener goes; each subgraph takes the
 * next port, in the order of SUBGRAPH_NAMES. Unset, `npm start` uses 9400–9405 — unless
 * METRICS_TOKEN is set, which serves /metrics on each main listener instead.
 */
async function metricsPorts(env: Env): Promise<MetricsPorts> {
  const base = env.METRICS_PORT ?? (env.METRICS_TOKEN ? undefined : DEFAULT_METRICS_PORT);
  return {
    gateway: base,
    subgraph: (name) => (base === undefined ? undefined : base + 1 + SUBGRAPH_NAMES.indexOf(name as never)),
    // The ledger serves nothing else, so it always gets a port: LEDGER_PORT, or the one
    // after the subgraphs' (9406), or — with METRICS_TOKEN instead of operator ports, as
    // tests and benchmarks run several hubs at once — a free one, printed in the banner.
    ledger: readLedgerEnv().LEDGER_PORT ?? (base !== undefined ? base + 1 + SUBGRAPH_NAMES.length : await freePort()),
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

export async function startCommand(): Promise<void> {
  // In production every process needs what its own check lists; `start` runs them all,
  // so it checks them all first (and then each process checks itself again).
  await checkStartup('custodian start', ['gateway', 'subgraph', 'research', 'ledger-relay', 'ledger-worker']);
  const env = readEnv();
  // Development keys and the demo world are for development only: production brings its own.
  if (env.NODE_ENV !== 'production') await prepareData(env);
  const metrics = await metricsPorts(env);
  const group = new ServiceGroup();
  group.stopOnSignals();
  for (const service of services(env, metrics)) group.start(service);
  try {
    await group.ready();
  } catch (err) {
    process.stderr.write(`the hub did not start: ${err instanceof Error ? err.message : err}\n`);
    return group.stopAll(1);
  }
  console.log(banner(env, metrics, await someClinician(env), await healthNow(env, metrics)));
}

/** Keys, and a demo world on first start: before any service starts, so that none of them races to create them. */
async function prepareData(env: Env): Promise<void> {
  ensureDevelopmentKeys(env.DATA_DIR);
  const ledgerEnv = readLedgerEnv();
  loadLedgerNoteKey({ dataDir: env.DATA_DIR, name: ledgerEnv.LEDGER_ORIGIN, signerKey: ledgerEnv.LEDGER_NOTE_KEY });
  if (!(await hasData(env))) {
    process.stderr.write(`first start: seeding a demo world of ${DEMO_PATIENTS} patients (seed ${DEMO_SEED})\n`);
    await seed({ patients: DEMO_PATIENTS, seed: DEMO_SEED }, env, progressPrinter());
  }
}

/** The process table: every subgraph, the ledger, the gateway (started in this order). */
function services(env: Env, metrics: MetricsPorts): Service[] {
  const dist = path.join(projectRoot(), 'dist');
  return [
    // A subgraph listens where the gateway will look for it: <NAME>_URL, or its default port.
    ...SUBGRAPH_NAMES.map((name) => ({
      name,
      script: path.join(dist, 'subgraphs', name, 'main.js'),
      port: Number(new URL(subgraphUrl(name, env)).port),
      metricsPort: metrics.subgraph(name),
    })),
    // The outbox relay and the ledger worker (Redis, BullMQ): appends every event to the
    // Merkle tree and publishes signed checkpoints.
    // Its /healthz and /metrics on their own port. It and the gateway are ready once
    // they answer: their health includes Redis and the ledger keeping up, which the hub
    // can start without (the banner says when either is down).
    { name: 'ledger', script: path.join(dist, 'ledger', 'main.js'), healthPort: metrics.ledger, env: { LEDGER_PORT: String(metrics.ledger) }, readyWhen: 'answering' },
    { name: 'gateway', script: path.join(dist, 'gateway', 'main.js'), port: env.PORT ?? DEFAULT_PORTS.gateway, metricsPort: metrics.gateway, readyWhen: 'answering' },
  ];
}

/** Which of the gateway and the ledger say they are down right now (their /healthz). */
async function healthNow(env: Env, metrics: MetricsPorts): Promise<string[]> {
  const urls = { gateway: `http://127.0.0.1:${env.PORT ?? DEFAULT_PORTS.gateway}/healthz`, ledger: `http://127.0.0.1:${metrics.ledger}/healthz` };
  const down = await Promise.all(
    Object.entries(urls).map(async ([name, url]) => ((await fetch(url, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false)) ? null : name)),
  );
  return down.filter((n) => n !== null);
}

/** Where everything is, and a first request to try. */
function banner(env: Env, metrics: MetricsPorts, clinician: string, down: string[]): string {
  const gateway = `http://localhost:${env.PORT ?? DEFAULT_PORTS.gateway}`;
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
    `  ledger ops   http://${env.METRICS_HOST}:${metrics.ledger}/healthz and /metrics   (the ledger process: backlog, queue depth, tree size, checkpoint age${env.METRICS_TOKEN ? '; /metrics with the token' : ''})`,
    ...(down.length ? ['', `  WARNING: ${down.join(' and ')} /healthz says down (is Redis running?); the detail is on the operator endpoints`] : []),
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
  return lines.join('\n');
}
