/**
 * The replicated hub (README "Running replicas"): HAProxy with deploy/haproxy.cfg in
 * front of two gateways, two replicas of each subgraph, two relays and two ledger
 * workers, on one PostgreSQL database and one Redis. Under load through HAProxy:
 *
 * - revocation is immediate on every replica: after a patient revokes through one
 *   gateway, the very next request through each gateway and to each subgraph replica is
 *   refused;
 * - killing any one process (SIGKILL: a gateway, a subgraph replica, a relay, a worker,
 *   one after the other) loses no acknowledged request: every mutation answered without
 *   error is in the database and the ledger, every read answered has its access
 *   decisions in the ledger;
 * - every event committed to an outbox is appended exactly once (a trigger records each
 *   outbox insert as it commits; the ledger must hold exactly that set, each once);
 * - one root: every gateway serves the same checkpoint, and each published checkpoint is
 *   consistent with the one before (RFC 6962 consistency proofs), as `custodian verify`
 *   confirms against a checkpoint saved before the load.
 *
 * Failover figures are printed. Runs in the PostgreSQL pass only (DATABASE_URL set):
 * replicas share one database server, which the embedded SQLite default is not, and the
 * SQLite pass would only run the same PostgreSQL topology a second time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { verifyLedger } from '../../cli/verify';
import { SUBGRAPH_NAMES } from '../../common/config';
import { loadPrivateKey } from '../../common/keys';
import { operationDigest, signIdentity, type Identity } from '../../common/signed-identity';
import { decodeBase64Strict, openCheckpoint, parseVerifierKey, verifyConsistency } from '../../ledger/core';
import { APPEND_LOCK_KEYS } from '../../ledger/store/lease';
import { onPostgres } from '../support/database';
import { haproxyInstalled } from '../support/haproxy';
import { waitFor, type ServiceProcess } from '../support/processes';
import { startReplicas, type Replicas } from '../support/replicas';

const describeOnPostgres = onPostgres ? describe : describe.skip;
if (!onPostgres) {
  process.stdout.write('replicas.test.ts skipped: replicas share one PostgreSQL database; this test runs in the PostgreSQL pass (DATABASE_URL set)\n');
}

jest.setTimeout(180_000);

let hub: Replicas;
let pg: Client;
const savedCheckpoint = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-replicas-')), 'checkpoint.json');

/** Records every outbox insert as it commits, whichever process made it: the events that must reach the ledger. */
async function recordOutboxInserts(url: string): Promise<string[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const schemas = (await c.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox' ORDER BY 1`)).rows.map((r) => r.table_schema as string);
    await c.query(`CREATE TABLE public.outbox_seen (id text NOT NULL, source text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await c.query(`CREATE FUNCTION public.outbox_seen() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO public.outbox_seen (id, source) VALUES (NEW.id, TG_TABLE_SCHEMA); RETURN NEW; END $$`);
    for (const s of schemas) await c.query(`CREATE TRIGGER outbox_seen AFTER INSERT ON "${s}".outbox FOR EACH ROW EXECUTE FUNCTION public.outbox_seen()`);
    return schemas;
  } finally {
    await c.end();
  }
}

let outboxSchemas: string[] = [];

const seenIds = async () => new Set((await pg.query('SELECT id FROM public.outbox_seen')).rows.map((r) => r.id as string));
const ledgerIds = async () => (await pg.query('SELECT event_id FROM ledger.ledger_leaf')).rows.map((r) => r.event_id as string);
/** Events recorded in an outbox but not (yet) in the ledger, of those given. */
async function missingFromLedger(ids: Set<string>): Promise<string[]> {
  if (ids.size === 0) return [];
  const held = new Set((await pg.query('SELECT event_id FROM ledger.ledger_leaf WHERE event_id = ANY($1)', [[...ids]])).rows.map((r) => r.event_id as string));
  return [...ids].filter((id) => !held.has(id));
}

interface Answer {
  status: number | 'network';
  body?: any;
  requestId?: string | null;
  error?: string;
}

async function post(url: string, query: string, variables: Record<string, unknown> | undefined, headers: Record<string, string>): Promise<Answer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = { raw: text.slice(0, 200) };
    }
    return { status: res.status, body, requestId: res.headers.get('x-request-id') };
  } catch (err) {
    return { status: 'network', error: String((err as Error).cause ?? err) };
  }
}

const acknowledged = (a: Answer) => a.status === 200 && !a.body?.errors && a.body?.data;
const errorCodes = (a: Answer) => (a.body?.errors ?? []).map((e: any) => e.extensions?.code);

const READ = '{ patients(first: 3) { nodes { id name { text } labResults(first: 2) { totalCount } devices { kind } researchProjects { status } } } }';
const GRANT = 'mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id status } }';
const REVOKE = 'mutation($id: ID!) { revokeConsent(id: $id) { id status } }';
const ACCESS_LOG = '{ me { patient { accessLog(first: 3) { nodes { category } } } } }';

interface Person {
  username: string;
  /** patientId for a patient, practitionerId for a clinician. */
  id: string;
  institutionId: string;
  auth: Record<string, string>;
}

function users(role: string): { username: string; id: string; institutionId: string }[] {
  return hub
    .cli('users', '--role', role)
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols.length >= 4 && cols[1] === role)
    .map(([username, , id, institutionId]) => ({ username: username!, id: id!, institutionId: institutionId! }));
}

const person = (u: { username: string; id: string; institutionId: string }): Person => ({ ...u, auth: { authorization: `Bearer ${hub.token(u.username)}` } });

let clinician: Person;
let outsider: Person;
let outsiderUserId: string;
let patients: Person[];

beforeAll(async () => {
  if (!onPostgres) return;
  if (!haproxyInstalled()) throw new Error('haproxy is not installed: apt-get install -y haproxy (.ci/run installs it)');
  const started = Date.now();
  hub = await startReplicas({
    patients: 30,
    prepare: async (db) => {
      outboxSchemas = await recordOutboxInserts(db.vars.DATABASE_URL!);
    },
    env: {
      // One clinician's load from several clients is far over the default per-principal limit.
      RATE_LIMIT_GRAPHQL_PER_MINUTE: '0',
      // `custodian verify` reads every entry, all from HAProxy's one address.
      RATE_LIMIT_LEDGER_PER_MINUTE: '0',
    },
  });
  pg = new Client({ connectionString: hub.database.vars.DATABASE_URL });
  await pg.connect();
  const clinicians = users('clinician');
  const allPatients = users('patient');
  clinician = person(clinicians[0]!);
  patients = allPatients.filter((p) => p.institutionId === clinician.institutionId).slice(0, 3).map(person);
  outsider = person(clinicians.find((c) => c.institutionId !== clinician.institutionId)!);
  outsiderUserId = (await post(`${hub.lb}/graphql`, '{ me { id } }', undefined, outsider.auth)).body.data.me.id;
  process.stdout.write(`replicas: 16 processes and haproxy up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}, 180_000);

afterAll(async () => {
  await pg?.end();
  await hub?.stop();
});

/** The hub's own identity for `who`, signed for this exact query, as a gateway would send it to a subgraph. */
async function asGateway(who: Omit<Identity, 'requestId' | 'scopes' | 'purpose'>, query: string, variables: Record<string, unknown>) {
  const key = loadPrivateKey('identity', hub.database.env.DATA_DIR);
  const identity: Identity = { ...who, purpose: 'TREATMENT', scopes: ['read'], requestId: randomUUID() };
  return { authorization: `Bearer ${await signIdentity(identity, operationDigest(query, variables), key)}` };
}

/** What the outsider clinician reads of the patient on one subgraph replica, by category. */
const REPLICA_READS: Partial<Record<(typeof SUBGRAPH_NAMES)[number], string>> = {
  patients: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { name { text } } } }',
  labs: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { labResults(first: 1) { totalCount } } } }',
  devices: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { devices { kind } } } }',
  research: 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { researchProjects { status } } } }',
};

async function readOnReplica(replica: ServiceProcess, name: keyof typeof REPLICA_READS, patientId: string): Promise<Answer> {
  const query = REPLICA_READS[name]!;
  const variables = { r: [{ __typename: 'Patient', id: patientId }] };
  const who = { subject: outsiderUserId, role: 'clinician' as const, institutionId: outsider.institutionId, patientId: null, practitionerId: outsider.id };
  return post(`${replica.url}/graphql`, query, variables, await asGateway(who, query, variables));
}

const PATIENT_VIEW = 'query($id: ID!) { patient(id: $id) { name { text } labResults(first: 1) { totalCount } devices { kind } } }';

type Kind = 'read' | 'grant' | 'accessLog';
interface Sent {
  kind: Kind;
  start: number;
  end: number;
  answer: Answer;
}
interface Kill {
  label: string;
  at: number;
  /** ms until every event committed before the kill was in the ledger. */
  catchUp: number;
}

/** How long until every event committed before `at` is in the ledger. */
async function catchUp(at: number): Promise<number> {
  const before = await seenIds();
  await waitFor('the ledger to hold every event committed before the kill', async () => ((await missingFromLedger(before)).length === 0 ? true : undefined), 45_000, 100);
  return Date.now() - at;
}

/**
 * Six clients through HAProxy — three clinicians reading, two patients granting consents,
 * one patient reading their access log — while a gateway, a patients replica, a labs
 * replica, a relay and a worker are SIGKILLed one after the other, 3.5 s apart.
 */
async function loadWithKills(): Promise<{ sent: Sent[]; kills: Kill[]; baseline: number }> {
  const sent: Sent[] = [];
  let loading = true;
  const client = async (kind: Kind, who: Person) => {
    while (loading) {
      const start = Date.now();
      const answer =
        kind === 'read'
          ? await post(`${hub.lb}/graphql`, READ, undefined, who.auth)
          : kind === 'grant'
            ? await post(`${hub.lb}/graphql`, GRANT, { input: { patientId: who.id, grantee: { kind: 'PRACTITIONER', id: outsider.id }, categories: ['LABS'], purposes: ['TREATMENT'] } }, who.auth)
            : await post(`${hub.lb}/graphql`, ACCESS_LOG, undefined, who.auth);
      sent.push({ kind, start, end: Date.now(), answer });
      // A refused or failed request is sent again by the next turn of the loop (a retry);
      // a short pause keeps a dead route from spinning.
      if (!acknowledged(answer)) await new Promise((r) => setTimeout(r, 50));
    }
  };
  const clients = [client('read', clinician), client('read', clinician), client('read', clinician), client('grant', patients[1]!), client('grant', patients[2]!), client('accessLog', patients[1]!)];
  await new Promise((r) => setTimeout(r, 3000));
  const baseline = await catchUp(Date.now());
  const victims: [string, ServiceProcess][] = [
    ['gateway', hub.gateways[0]!],
    ['patients replica', hub.subgraphs.patients[0]!],
    ['labs replica', hub.subgraphs.labs[1]!],
    ['relay', hub.relays[0]!],
    ['worker holding the append lease', await leaseHolder()],
  ];
  const kills: Promise<Kill>[] = [];
  for (const [label, proc] of victims) {
    const at = Date.now();
    await proc.kill('SIGKILL');
    kills.push(catchUp(at).then((ms) => ({ label, at, catchUp: ms })));
    await new Promise((r) => setTimeout(r, 3500));
  }
  await new Promise((r) => setTimeout(r, 2000));
  loading = false;
  await Promise.all(clients);
  return { sent, kills: await Promise.all(kills), baseline };
}

/** The last kill at or before `t`: a failure counts against the last kill before it was answered. */
const killBefore = (kills: Kill[], t: number) => [...kills].reverse().find((k) => k.at <= t);

function printFailover(sent: Sent[], kills: Kill[], baseline: number): void {
  const lines = [`replicas: failover (load: 3 clinician readers, 2 patients granting, 1 reading their access log; ${sent.length} requests)`];
  lines.push(`  no kill: events committed → in the ledger within ${baseline} ms`);
  for (const k of kills) {
    const failed = sent.filter((a) => !acknowledged(a.answer) && killBefore(kills, a.end) === k);
    const lastFailure = failed.length ? Math.max(...failed.map((a) => a.end)) - k.at : 0;
    const statuses = [...new Set(failed.map((a) => `${a.answer.status}${errorCodes(a.answer).length ? ' ' + errorCodes(a.answer).join(',') : ''}`))].join('; ');
    lines.push(
      `  SIGKILL ${k.label}: ${failed.length} failed requests${failed.length ? ` (${statuses}), the last answered ${lastFailure} ms after the kill` : ''}; ` +
        `events committed before the kill all in the ledger ${k.catchUp} ms after it`,
    );
  }
  const latency = sent.filter((a) => acknowledged(a.answer)).map((a) => a.end - a.start).sort((x, y) => x - y);
  lines.push(`  acknowledged: ${latency.length} of ${sent.length}; latency p50 ${latency[Math.floor(latency.length / 2)]} ms, max ${latency[latency.length - 1]} ms`);
  process.stdout.write(lines.join('\n') + '\n');
}

let sent: Sent[] = [];
let compliance: string;

describeOnPostgres('two of everything behind haproxy, on one PostgreSQL and one Redis', () => {
  test('revocation through one gateway is immediate on every gateway and every subgraph replica', async () => {
    const patient = patients[0]!;
    const input = { patientId: patient.id, grantee: { kind: 'PRACTITIONER', id: outsider.id }, categories: ['DEMOGRAPHICS', 'LABS', 'DEVICES', 'RESEARCH'], purposes: ['TREATMENT'] };
    const [gw1, gw2] = hub.gateways as [ServiceProcess, ServiceProcess];
    const granted = await post(`${gw1.url}/graphql`, GRANT, { input }, patient.auth);
    expect(acknowledged(granted)).toBeTruthy();
    const consentId = granted.body.data.grantConsent.id as string;

    // Under the consent every gateway and every replica serves the outsider (and caches it).
    for (const gw of [gw1, gw2]) {
      const res = await post(`${gw.url}/graphql`, PATIENT_VIEW, { id: patient.id }, outsider.auth);
      expect([gw.name, res.body.errors]).toEqual([gw.name, undefined]);
      expect(res.body.data.patient.name.text.length).toBeGreaterThan(0);
    }
    for (const name of Object.keys(REPLICA_READS) as (keyof typeof REPLICA_READS)[]) {
      for (const replica of hub.subgraphs[name]) {
        const res = await readOnReplica(replica, name, patient.id);
        expect([replica.name, res.status, res.body.errors]).toEqual([replica.name, 200, undefined]);
      }
    }

    const revoked = await post(`${gw1.url}/graphql`, REVOKE, { id: consentId }, patient.auth);
    expect(revoked.body.data?.revokeConsent?.status).toBe('REVOKED');
    // The very next requests, with no pause for notifications to arrive.
    for (const gw of [gw1, gw2]) {
      const res = await post(`${gw.url}/graphql`, PATIENT_VIEW, { id: patient.id }, outsider.auth);
      expect([gw.name, res.body.data?.patient ?? null, errorCodes(res)[0]]).toEqual([gw.name, null, 'FORBIDDEN']);
    }
    for (const name of Object.keys(REPLICA_READS) as (keyof typeof REPLICA_READS)[]) {
      for (const replica of hub.subgraphs[name]) {
        const res = await readOnReplica(replica, name, patient.id);
        expect([replica.name, errorCodes(res)]).toEqual([replica.name, ['FORBIDDEN']]);
      }
    }
  });

  test('killing any one process under load disturbs only what was in flight on it; the survivors carry the load', async () => {
    // A checkpoint saved before the load, for `custodian verify` to check consistency against.
    compliance = hub.token(users('compliance')[0]!.username, 'read');
    await waitFor('a first checkpoint', async () => ((await fetch(`${hub.lb}/ledger/checkpoint`)).ok ? true : undefined));
    expect((await verifyLedger({ url: hub.lb, token: compliance, fromCheckpoint: savedCheckpoint })).problems).toEqual([]);

    const run = await loadWithKills();
    sent = run.sent;
    const { kills } = run;
    printFailover(sent, kills, run.baseline);

    const acked = sent.filter((a) => acknowledged(a.answer));
    expect(acked.filter((a) => a.kind === 'grant').length).toBeGreaterThan(10);
    expect(acked.filter((a) => a.kind === 'read').length).toBeGreaterThan(20);
    // Nothing failed before the first kill; every failure was answered within 5 s of its
    // kill; every request after the last kill settled was answered.
    const failed = sent.filter((a) => !acknowledged(a.answer));
    expect(failed.filter((a) => a.end < kills[0]!.at).map((a) => a.answer)).toEqual([]);
    expect(failed.filter((a) => a.end - killBefore(kills, a.end)!.at > 5000).map((a) => a.answer)).toEqual([]);
    const settled = kills[kills.length - 1]!.at + 1500;
    expect(failed.filter((a) => a.start > settled).map((a) => a.answer)).toEqual([]);
    // A killed relay's or worker's share is taken over: the ledger catches up within the
    // lease's failover (the lease poll, then the dead holder's job locks: under 5 s) and the pipeline's own ticks.
    for (const k of kills) expect([k.label, k.catchUp < 15_000]).toEqual([k.label, true]);
  });

  test('every event committed to any outbox is in the ledger exactly once; every acknowledged request left its mark', async () => {
    expect(sent.length).toBeGreaterThan(0);
    const acked = sent.filter((a) => acknowledged(a.answer));
    // Every event committed anywhere reaches the ledger, exactly once.
    const seen = await seenIds();
    await waitFor('every committed event in the ledger', async () => ((await missingFromLedger(seen)).length === 0 ? true : undefined), 45_000);
    const seenNow = await seenIds();
    expect(await missingFromLedger(seenNow)).toEqual([]);
    const leaves = await ledgerIds();
    expect(new Set(leaves).size).toBe(leaves.length);
    const { rows: shape } = await pg.query('SELECT count(*)::int AS n, min(leaf_index) AS lo, max(leaf_index) AS hi FROM ledger.ledger_leaf');
    expect(shape[0]).toEqual({ n: leaves.length, lo: 0, hi: leaves.length - 1 });
    // The outboxes of every source were watched (a source without its trigger would go unchecked).
    expect(outboxSchemas).toEqual(expect.arrayContaining([...SUBGRAPH_NAMES, 'consent', 'identity']));
    const sources = (await pg.query('SELECT DISTINCT source FROM public.outbox_seen')).rows.map((r) => r.source as string);
    expect(sources).toEqual(expect.arrayContaining([...SUBGRAPH_NAMES, 'consent']));

    // Every acknowledged mutation is in the database, and its event in the ledger.
    const grants = acked.filter((a) => a.kind === 'grant').map((a) => a.answer.body.data.grantConsent.id as string);
    const stored = new Set((await pg.query('SELECT id FROM consent.consent WHERE id = ANY($1)', [grants])).rows.map((r) => r.id as string));
    expect(grants.filter((id) => !stored.has(id))).toEqual([]);
    const leafData = (await pg.query('SELECT leaf_data FROM ledger.ledger_leaf')).rows.map((r) => JSON.parse(r.leaf_data as string));
    const ledgeredConsents = new Set(leafData.filter((l) => l.kind === 'consent.granted').map((l) => l.consentId ?? l.payload?.consentId));
    expect(grants.filter((id) => !ledgeredConsents.has(id))).toEqual([]);
    // Every acknowledged read left its access decisions in the ledger, under its request id.
    const ledgeredRequests = new Set(leafData.map((l) => l.requestId).filter(Boolean));
    const reads = acked.filter((a) => a.kind === 'read').map((a) => a.answer.requestId);
    expect(reads.filter((id) => !id || !ledgeredRequests.has(id))).toEqual([]);
  });

  test('one root: every gateway serves the same checkpoint, each checkpoint consistent with the one before', async () => {
    const leaves = await ledgerIds();
    // One root: every surviving gateway serves the same checkpoint, covering the whole ledger.
    const live = hub.gateways.filter((g) => g.child.exitCode === null && g.child.signalCode === null);
    const notes = await waitFor(
      'every gateway to serve the checkpoint of the whole ledger',
      async () => {
        const served = await Promise.all(live.map(async (g) => (await fetch(`${g.url}/ledger/checkpoint`)).text()));
        const sizes = served.map((n) => Number(n.split('\n')[1]));
        return sizes.every((s) => s === leaves.length) && new Set(served).size === 1 ? served : undefined;
      },
      15_000,
    );
    expect(new Set(notes).size).toBe(1);

    // Each checkpoint ever published is consistent with the one before it.
    const key = parseVerifierKey((await (await fetch(`${hub.lb}/ledger/key`)).text()).trim());
    const checkpoints: { size: number; note: string }[] = [];
    for (let since = 0; ; ) {
      const page: any = await (await fetch(`${hub.lb}/ledger/checkpoints?since=${since}&limit=100`)).json();
      checkpoints.push(...page.checkpoints);
      if (!page.next || page.checkpoints.length === 0) break;
      since = page.checkpoints[page.checkpoints.length - 1].size + 1;
    }
    expect(checkpoints.length).toBeGreaterThan(3);
    for (let i = 1; i < checkpoints.length; i++) {
      const a = openCheckpoint(checkpoints[i - 1]!.note, [key]).checkpoint;
      const b = openCheckpoint(checkpoints[i]!.note, [key]).checkpoint;
      if (a.size === 0) continue; // every tree is consistent with the empty one
      const proof: any = await (await fetch(`${hub.lb}/ledger/proof/consistency?from=${a.size}&to=${b.size}`)).json();
      expect(() => verifyConsistency(a.size, b.size, a.rootHash, b.rootHash, proof.hashes.map((h: string) => decodeBase64Strict(h)!))).not.toThrow();
    }
    const verified = await verifyLedger({ url: hub.lb, token: compliance, fromCheckpoint: savedCheckpoint });
    expect(verified.problems).toEqual([]);
    expect(verified.size).toBe(leaves.length);
  });
});

/**
 * The ledger worker that holds the append lease (ledger/store/lease.ts): the one process
 * whose connection holds the advisory lock, named by its pid in application_name. Exactly
 * one of the two workers holds it: appends are serialised.
 */
async function leaseHolder(): Promise<ServiceProcess> {
  const { rows } = await pg.query<{ application_name: string }>(
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [...APPEND_LOCK_KEYS],
  );
  expect(rows).toHaveLength(1);
  const pid = Number(/pid:(\d+)/.exec(rows[0]!.application_name)?.[1]);
  const holder = hub.workers.find((w) => w.child.pid === pid);
  if (!holder) throw new Error(`the append lease is held by pid ${pid}, not by either worker (${hub.workers.map((w) => w.child.pid).join(', ')})`);
  return holder;
}
