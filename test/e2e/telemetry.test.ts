/**
 * Metrics and health of the whole hub as `npm start` runs it (real processes, real
 * Redis and database): after real requests, each process's /metrics has the series an
 * operator needs, with values that moved by what was sent; the ledger process answers
 * /healthz and /metrics on its own port (LEDGER_PORT).
 */
import { freePort } from '../../common/ports';
import { seed } from '../../seed/write';
import { gql } from '../support/graphql';
import { startHub, type Hub } from '../support/hub';
import { counterValue } from '../support/metrics';

let hub: Hub;
let ledgerPort: number;
let clinician: Record<string, string>;
let flooder: Record<string, string>;

const AUTH_PER_MINUTE = 5;
const GRAPHQL_PER_MINUTE = 40;

async function scrape(url: string, token = hub.metricsToken): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return res.text();
}

const subgraphBase = (name: keyof Hub['subgraphs']) => hub.subgraphs[name].replace(/\/graphql$/, '');
const ledgerUrl = () => `http://127.0.0.1:${ledgerPort}`;

/** Every sample of `name` as [labels, value]. */
function samples(text: string, name: string): [Record<string, string>, number][] {
  const out: [Record<string, string>, number][] = [];
  for (const line of text.split('\n')) {
    const m = /^([^{ ]+)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries((m[2] ?? '').split(',').filter(Boolean).map((p) => p.split('=').map((s) => s.replace(/^"|"$/g, '')) as [string, string]));
    out.push([labels, Number(m[3])]);
  }
  return out;
}

beforeAll(async () => {
  ledgerPort = await freePort();
  hub = await startHub({
    prepare: (db) => seed({ patients: 40, seed: 9 }, db.env).then(() => undefined),
    env: { LEDGER_PORT: String(ledgerPort), RATE_LIMIT_AUTH_PER_MINUTE: String(AUTH_PER_MINUTE), RATE_LIMIT_GRAPHQL_PER_MINUTE: String(GRAPHQL_PER_MINUTE) },
  });
  const [first, second] = hub.cli('users', '--role', 'clinician', '--limit', '2').split('\n').map((line) => line.trim().split(/\s+/)[0]);
  clinician = { authorization: `Bearer ${hub.token(first!)}` };
  flooder = { authorization: `Bearer ${hub.token(second!)}` };
}, 180_000);

afterAll(async () => {
  await hub?.stop();
});

test('the banner names the ledger process’s port', () => {
  expect(hub.output()).toContain(`:${ledgerPort}/healthz`);
});

test('request latency is a histogram per named operation; anonymous operations share one label', async () => {
  const before = await scrape(hub.gateway);
  for (let i = 0; i < 3; i++) {
    const res = await gql(`${hub.gateway}/graphql`, 'query PatientList { patients(first: 3) { nodes { id } } }', undefined, clinician);
    expect(res.status).toBe(200);
  }
  await gql(`${hub.gateway}/graphql`, '{ patients(first: 1) { nodes { id } } }', undefined, clinician);
  const after = await scrape(hub.gateway);
  const count = (text: string, operation: string) => counterValue(text, 'custodian_graphql_request_duration_seconds_count', { operation });
  expect(count(after, 'PatientList') - count(before, 'PatientList')).toBe(3);
  expect(count(after, 'anonymous') - count(before, 'anonymous')).toBeGreaterThanOrEqual(1);
  // Seconds, and plausible: more than nothing, less than the 10 s deadline each.
  const sum = counterValue(after, 'custodian_graphql_request_duration_seconds_sum', { operation: 'PatientList' }) - counterValue(before, 'custodian_graphql_request_duration_seconds_sum', { operation: 'PatientList' });
  expect(sum).toBeGreaterThan(0);
  expect(sum).toBeLessThan(30);
  // No label is the query text.
  for (const [labels] of samples(after, 'custodian_graphql_request_duration_seconds_count')) expect(labels.operation).toMatch(/^[_A-Za-z][_0-9A-Za-z]*$/);
});

test('errors are counted by code, and an operation over a limit by the limit it broke', async () => {
  const before = await scrape(hub.gateway);
  const deep = `{ ${'patients(first: 1) { nodes { labResults(first: 1) { nodes { patient { '.repeat(3)}id${' } } } } }'.repeat(3)} }`;
  const refused = await gql(`${hub.gateway}/graphql`, deep, undefined, clinician);
  expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'depth' });
  const unauthenticated = await gql(`${hub.gateway}/graphql`, '{ patients(first: 1) { nodes { id } } }', undefined, { authorization: 'Bearer nonsense' });
  expect(unauthenticated.status).toBe(401);
  const after = await scrape(hub.gateway);
  const delta = (name: string, labels: Record<string, string>) => counterValue(after, name, labels) - counterValue(before, name, labels);
  expect(delta('custodian_graphql_errors_total', { code: 'QUERY_TOO_COMPLEX' })).toBe(1);
  expect(delta('custodian_operation_limit_refusals_total', { limit: 'depth' })).toBe(1);
  expect(delta('custodian_graphql_errors_total', { code: 'UNAUTHENTICATED' })).toBe(1);
});

test('a refused read is counted as a deny under its category, in the subgraph that decided', async () => {
  const before = await scrape(subgraphBase('patients'));
  const res = await gql(`${hub.gateway}/graphql`, '{ patient(id: "pat_unknown") { id name { text } } }', undefined, clinician);
  expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  const after = await scrape(subgraphBase('patients'));
  const denies = samples(after, 'custodian_consent_decisions_total').filter(([l]) => l.outcome === 'deny');
  const grown = denies.filter(([l, v]) => v > counterValue(before, 'custodian_consent_decisions_total', l));
  expect(grown.length).toBeGreaterThan(0);
  for (const [labels] of grown) expect(labels.category).toMatch(/^(DEMOGRAPHICS|LABS|DEVICES|RESEARCH|CONSENT|AUDIT)$/);
  // And the permits of an ordinary read, too.
  await gql(`${hub.gateway}/graphql`, '{ patients(first: 2) { nodes { name { text } } } }', undefined, clinician);
  const later = await scrape(subgraphBase('patients'));
  expect(counterValue(later, 'custodian_consent_decisions_total', { outcome: 'permit', category: 'DEMOGRAPHICS' })).toBeGreaterThan(
    counterValue(after, 'custodian_consent_decisions_total', { outcome: 'permit', category: 'DEMOGRAPHICS' }),
  );
});

test('a flood is refused by the rate limits, and each refusal is counted under its limiter', async () => {
  const before = await scrape(hub.gateway);
  const auth = await Promise.all(Array.from({ length: AUTH_PER_MINUTE + 3 }, () => fetch(`${hub.gateway}/auth/webauthn/login/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })));
  const authRefused = auth.filter((r) => r.status === 429).length;
  expect(authRefused).toBeGreaterThanOrEqual(3);
  const graphql = [];
  for (let i = 0; i < GRAPHQL_PER_MINUTE + 2; i++) graphql.push((await gql(`${hub.gateway}/graphql`, '{ me { username } }', undefined, flooder)).status);
  const graphqlRefused = graphql.filter((s) => s === 429).length;
  expect(graphqlRefused).toBeGreaterThanOrEqual(2);
  const after = await scrape(hub.gateway);
  const delta = (limiter: string) => counterValue(after, 'custodian_rate_limit_refusals_total', { limiter }) - counterValue(before, 'custodian_rate_limit_refusals_total', { limiter });
  expect(delta('auth')).toBe(authRefused);
  expect(delta('graphql')).toBe(graphqlRefused);
  expect(counterValue(after, 'custodian_graphql_errors_total', { code: 'RATE_LIMITED' })).toBeGreaterThanOrEqual(graphqlRefused);
});

test('the ledger process answers /healthz on its own port: up when its databases and Redis answer, the detail only with the token', async () => {
  const pub = await fetch(`${ledgerUrl()}/healthz`);
  expect(pub.status).toBe(200);
  expect(await pub.json()).toEqual({ status: 'up' });
  const detailed: any = await (await fetch(`${ledgerUrl()}/healthz`, { headers: { authorization: `Bearer ${hub.metricsToken}` } })).json();
  expect(detailed).toMatchObject({ status: 'up', redis: 'up', databases: { ledger: 'up', patients: 'up', identity: 'up' } });
  // /metrics there is for operators: with METRICS_TOKEN set, only to its holders.
  expect((await fetch(`${ledgerUrl()}/metrics`)).status).toBe(401);
});

test('the ledger process’s /metrics has the backlog per source, queue depth, tree size and checkpoint age, and the proofs served are timed', async () => {
  // Traffic makes access decisions; wait until a checkpoint covers some.
  await gql(`${hub.gateway}/graphql`, 'query PatientList { patients(first: 3) { nodes { id } } }', undefined, clinician);
  let text = '';
  const deadline = Date.now() + 20_000;
  for (;;) {
    text = await scrape(ledgerUrl());
    if (counterValue(text, 'custodian_ledger_checkpoint_size') > 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const sources = samples(text, 'custodian_ledger_outbox_backlog').map(([l]) => l.source).sort();
  expect(sources).toEqual(expect.arrayContaining(['audit', 'consent', 'devices', 'identity', 'labs', 'patients', 'research']));
  for (const [, v] of samples(text, 'custodian_ledger_outbox_backlog')) expect(v).toBeGreaterThanOrEqual(0);
  expect(samples(text, 'custodian_ledger_queue_depth').map(([l]) => l.state).sort()).toEqual(['active', 'delayed', 'prioritized', 'waiting']);
  const treeSize = counterValue(text, 'custodian_ledger_tree_size');
  const checkpointSize = counterValue(text, 'custodian_ledger_checkpoint_size');
  expect(checkpointSize).toBeGreaterThan(0);
  expect(treeSize).toBeGreaterThanOrEqual(checkpointSize);
  const age = counterValue(text, 'custodian_ledger_checkpoint_age_seconds');
  expect(age).toBeGreaterThanOrEqual(0);
  expect(age).toBeLessThan(120);
  // The same size the public checkpoint says.
  const published = Number((await (await fetch(`${hub.gateway}/ledger/checkpoint`)).text()).split('\n')[1]);
  expect(published).toBeGreaterThanOrEqual(checkpointSize);

  const before = await scrape(hub.gateway);
  expect((await fetch(`${hub.gateway}/ledger/proof/inclusion?index=0&treeSize=${published}`)).status).toBe(200);
  expect((await fetch(`${hub.gateway}/ledger/proof/consistency?from=1&to=${published}`)).status).toBe(200);
  const after = await scrape(hub.gateway);
  for (const kind of ['inclusion', 'consistency']) {
    const name = 'custodian_ledger_proof_duration_seconds_count';
    expect(counterValue(after, name, { kind, where: 'http' }) - counterValue(before, name, { kind, where: 'http' })).toBe(1);
  }

  // The audit subgraph's proofs, one per entry a checkpoint covers.
  const compliance = { authorization: `Bearer ${hub.token(hub.cli('users', '--role', 'compliance', '--limit', '1').split(/\s+/)[0]!, 'read')}` };
  const auditBefore = await scrape(subgraphBase('audit'));
  const trail = await gql(`${hub.gateway}/graphql`, '{ auditTrail(first: 5) { nodes { ledger { inclusion { treeSize } } } } }', undefined, compliance);
  const proven = (trail.data?.auditTrail?.nodes ?? []).filter((n: any) => n.ledger?.inclusion).length;
  expect(proven).toBeGreaterThan(0);
  const auditAfter = await scrape(subgraphBase('audit'));
  const name = 'custodian_ledger_proof_duration_seconds_count';
  expect(counterValue(auditAfter, name, { kind: 'inclusion', where: 'audit' }) - counterValue(auditBefore, name, { kind: 'inclusion', where: 'audit' })).toBe(proven);
});

test('the gateway’s /healthz probes Redis, its databases and the ledger’s progress', async () => {
  const health: any = await (await fetch(`${hub.gateway}/healthz`, { headers: { authorization: `Bearer ${hub.metricsToken}` } })).json();
  expect(health).toMatchObject({ status: 'up', redis: 'up', databases: { identity: 'up', ledger: 'up' }, ledgerProgress: { status: 'up' } });
});
