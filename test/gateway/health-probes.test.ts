/**
 * The gateway's /healthz says down — publicly only `{"status":"down"}`, with the reason
 * for operators — when Redis stops answering, when a database it reads does not answer,
 * and when events wait longer than HEALTH_MAX_CHECKPOINT_AGE_SECONDS without a new
 * checkpoint (no ledger worker); an idle ledger is healthy however old its checkpoint.
 * Real Redis servers (a private one, stopped mid-test), a real relay and worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { SUBGRAPH_NAMES } from '../../common/config';
import { createLogger } from '../../common/logger';
import { freePort } from '../../common/ports';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { readLedgerEnv } from '../../ledger/config';
import { startRelay, startWorker, type Running } from '../../ledger/pipeline/service';
import { startGatewayHub, type GatewayHub } from '../support/gateway-hub';

const TOKEN = 'health-probes-operator-token';
let hub: GatewayHub;
const stopLater: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  hub = await startGatewayHub({ patients: 12 });
}, 120_000);

afterEach(async () => {
  while (stopLater.length) await stopLater.pop()!().catch(() => undefined);
});

afterAll(async () => {
  await hub?.close();
});

async function health(url: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/healthz`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: await res.json() };
}

/** Polls /healthz until it answers `status` (health is cached for a second). */
async function healthBecomes(url: string, status: number, ms = 20_000): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await health(url, TOKEN);
    if (h.status === status) return h;
    if (Date.now() > deadline) throw new Error(`/healthz stayed ${h.status}: ${JSON.stringify(h.body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function gateway(env: Record<string, unknown>, healthSettings?: { maxCheckpointAgeSeconds: number }): Promise<RunningGateway> {
  const g = await startGateway({
    env: { ...hub.database.env, METRICS_TOKEN: TOKEN, ...env },
    port: 0,
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((n) => [n, hub.subgraphs[n].url])),
    health: healthSettings,
  });
  stopLater.push(() => g.close());
  return g;
}

async function privateRedis(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  stopLater.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (up) return { url: `redis://127.0.0.1:${port}`, process: child };
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('healthy hub: 200 {"status":"up"} publicly, and the detail names every probe', async () => {
  const pub = await health(hub.gateway.url);
  expect(pub).toEqual({ status: 200, body: { status: 'up' } });
  const g = await gateway({});
  const detailed = await health(g.url, TOKEN);
  expect(detailed.status).toBe(200);
  expect(detailed.body).toMatchObject({ status: 'up', redis: 'up', databases: { identity: 'up', ledger: 'up' }, ledgerProgress: { status: 'up' } });
});

test('Redis stops answering: 503, {"status":"down"} to the public, and why to operators', async () => {
  const redis = await privateRedis();
  const g = await gateway({ REDIS_URL: redis.url });
  expect((await healthBecomes(g.url, 200)).body.redis).toBe('up');
  redis.process.kill('SIGTERM');
  const down = await healthBecomes(g.url, 503);
  expect(down.body.status).toBe('down');
  expect(down.body.redis).not.toBe('up');
  expect(await health(g.url)).toEqual({ status: 503, body: { status: 'down' } });
});

test('Redis unreachable from the start: 503', async () => {
  const g = await gateway({ REDIS_URL: 'redis://127.0.0.1:1' });
  const down = await healthBecomes(g.url, 503);
  expect(down.body.redis).not.toBe('up');
  expect(down.body.databases).toEqual({ identity: 'up', ledger: 'up' });
});

test('a database that does not answer: 503, naming it', async () => {
  const g = await gateway({});
  await healthBecomes(g.url, 200);
  await g.db.destroy(); // its identity database, gone
  const down = await healthBecomes(g.url, 503);
  expect(down.body.databases.identity).not.toBe('up');
  expect(down.body.databases.ledger).toBe('up');
});

test('events waiting without a checkpoint past the bound: 503 until a worker catches up; an idle ledger is healthy', async () => {
  const g = await gateway({}, { maxCheckpointAgeSeconds: 1 });
  const log = createLogger('test', 'silent');
  const ledgerEnv = readLedgerEnv({ ...process.env, ...hub.database.vars, LEDGER_RELAY_INTERVAL_MS: '100', LEDGER_CHECKPOINT_INTERVAL_MS: '100' });
  // Idle: the seed's events sit in the outboxes, no relay has queued them, the tree is
  // empty and there is no checkpoint at all — past the bound, still healthy.
  await new Promise((r) => setTimeout(r, 1500));
  const idle = await health(g.url, TOKEN);
  expect(idle.status).toBe(200);
  expect(idle.body.ledgerProgress).toMatchObject({ status: 'up', queued: 0, treeSize: 0 });

  // A relay and no worker: events wait in the queue, and nothing checkpoints them.
  const relay: Running = await startRelay(hub.database.env, ledgerEnv, log);
  stopLater.push(() => relay.close());
  // Real requests: their access decisions go to the subgraphs' outboxes, and on to the queue.
  const clinician = { authorization: `Bearer ${(await hub.token({ role: 'clinician' })).token}`, 'content-type': 'application/json' };
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${g.url}/graphql`, { method: 'POST', headers: clinician, body: JSON.stringify({ query: '{ patients(first: 5) { nodes { name { text } } } }' }) });
    expect(res.status).toBe(200);
  }
  const stale = await healthBecomes(g.url, 503);
  expect(stale.body.ledgerProgress.status).toBe('stale');
  expect(stale.body.ledgerProgress.queued).toBeGreaterThan(0);
  expect(stale.body.ledgerProgress.reason).toMatch(/HEALTH_MAX_CHECKPOINT_AGE_SECONDS=1/);
  expect(await health(g.url)).toEqual({ status: 503, body: { status: 'down' } });

  // A worker appends them and checkpoints: healthy again.
  const worker = await startWorker(hub.database.env, ledgerEnv, log);
  stopLater.push(() => worker.close());
  const caughtUp = await healthBecomes(g.url, 200, 30_000);
  expect(caughtUp.body.ledgerProgress.checkpointSize).toBeGreaterThan(0);
});
