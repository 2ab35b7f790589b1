/**
 * Backup and restore (README "Backup and restore"), as an operator does it:
 *
 * 1. `pg_dump -Fc` of the hub's PostgreSQL database while the hub runs and is loaded;
 *    the key files (DATA_DIR/keys) copied aside — they are not in the database;
 * 2. the original database and data directory lost;
 * 3. `pg_restore` into a fresh database, the keys put back, the hub started on it with an
 *    empty queue (Redis holds nothing the dump lacks);
 * 4. `custodian verify --from-checkpoint` passes against a checkpoint saved before the dump;
 * 5. every event the dump holds — in the ledger, or still waiting in an outbox, relayed or
 *    not — is in the restored hub's ledger exactly once, and every mutation answered
 *    before the dump began is in the restored database;
 * 6. the restored hub goes on appending: new events ledgered, a new checkpoint
 *    consistent with the saved one.
 *
 * PostgreSQL only: pg_dump is the procedure for the production database (SQLite files
 * are copied with the hub stopped, or with SQLite's own backup API).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { freePort } from '../../common/ports';
import { spawnHub, type HubProcess } from '../../cli/hub-process';
import { onPostgres } from '../support/database';
import { gql } from '../support/graphql';
import { CLI, startHub, type Hub } from '../support/hub';
import { waitFor } from '../support/processes';

const describeOnPostgres = onPostgres ? describe : describe.skip;
if (!onPostgres) process.stdout.write('backup.test.ts skipped: it backs up and restores PostgreSQL (runs in the PostgreSQL pass, DATABASE_URL set)\n');

jest.setTimeout(240_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-backup-'));
const dumpFile = path.join(work, 'custodian.dump');
const savedKeys = path.join(work, 'keys');
const savedCheckpoint = path.join(work, 'checkpoint.json');

let hub: Hub | undefined;
let restored: HubProcess | undefined;
let restoredUrl: string | undefined;
let restoredDataDir: string | undefined;

const READ = '{ patients(first: 3) { nodes { id name { text } labResults(first: 2) { totalCount } } } }';
const GRANT = 'mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id } }';

async function query<T = any>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Every event id a database holds: its ledger's leaves and every outbox row (relayed or not). */
async function eventsIn(url: string): Promise<{ ledgered: Set<string>; waiting: Set<string> }> {
  const ledgered = new Set((await query(url, 'SELECT event_id FROM ledger.ledger_leaf')).map((r) => r.event_id as string));
  const schemas = (await query(url, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'outbox'`)).map((r) => r.table_schema as string);
  const waiting = new Set<string>();
  for (const s of schemas) for (const r of await query(url, `SELECT id FROM "${s}".outbox`)) if (!ledgered.has(r.id)) waiting.add(r.id);
  return { ledgered, waiting };
}

function users(run: (...args: string[]) => string, role: string) {
  return run('users', '--role', role)
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c[1] === role)
    .map(([username, , id, institutionId]) => ({ username: username!, id: id!, institutionId: institutionId! }));
}

/** The size of the checkpoint `custodian verify --from-checkpoint` saved last (its note's second line). */
const savedCheckpointSize = () => Number(JSON.parse(fs.readFileSync(savedCheckpoint, 'utf8')).note.split('\n')[1]);
const checkpointSize = async (gateway: string) => {
  const res = await fetch(`${gateway}/ledger/checkpoint`);
  return res.ok ? Number((await res.text()).split('\n')[1]) : 0;
};

afterAll(async () => {
  if (hub && hub.process.exitCode === null) await hub.stop();
  await restored?.stop();
  if (restoredUrl) {
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${new URL(restoredUrl).pathname.slice(1)} WITH (FORCE)`);
    await admin.end();
  }
  if (restoredDataDir) fs.rmSync(restoredDataDir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

describeOnPostgres('backup and restore of a running hub', () => {
  test('a dump taken under load restores into a hub whose ledger verifies against earlier checkpoints, loses and doubles nothing, and goes on', async () => {
    hub = await startHub({
      prepare: async (db) => {
        execFileSync(process.execPath, [CLI, 'seed', '--patients', '30', '--seed', '7'], { env: { ...process.env, ...db.vars }, stdio: 'ignore' });
      },
      // A slow relay, so that the dump surely catches events still waiting in an outbox.
      env: { RATE_LIMIT_GRAPHQL_PER_MINUTE: '0', RATE_LIMIT_LEDGER_PER_MINUTE: '0', LEDGER_RELAY_INTERVAL_MS: '2000' },
    });
    const original = hub;
    const originalUrl = original.database.vars.DATABASE_URL!;
    const clinician = users(original.cli, 'clinician')[0]!;
    const clinicianAuth = { authorization: `Bearer ${original.token(clinician.username)}` };
    const patient = users(original.cli, 'patient').find((p) => p.institutionId === clinician.institutionId)!;
    const patientAuth = { authorization: `Bearer ${original.token(patient.username)}` };
    const compliance = users(original.cli, 'compliance')[0]!.username;

    // Traffic, then a checkpoint saved by a verifier: what an outside party holds.
    for (let i = 0; i < 3; i++) expect((await gql(`${original.gateway}/graphql`, READ, undefined, clinicianAuth)).errors).toBeUndefined();
    await waitFor('a checkpoint with the first reads', async () => ((await checkpointSize(original.gateway)) > 0 ? true : undefined));
    original.cli('verify', '--url', original.gateway, '--token', original.token(compliance, 'read'), '--from-checkpoint', savedCheckpoint);
    const savedSize = savedCheckpointSize();

    // Load while the dump runs: reads and consent grants, acknowledged ones remembered.
    const grantedBeforeDump: string[] = [];
    let dumpStarted = Infinity;
    let loading = true;
    const load = (async () => {
      while (loading) {
        const started = Date.now();
        const read = gql(`${original.gateway}/graphql`, READ, undefined, clinicianAuth);
        const grant = await gql(`${original.gateway}/graphql`, GRANT, { input: { patientId: patient.id, grantee: { kind: 'ROLE', id: `clinician@${clinician.institutionId}` }, categories: ['LABS'], purposes: ['TREATMENT'] } }, patientAuth);
        await read;
        // Answered before the dump began: the dump's snapshot must hold it.
        if (!grant.errors && Date.now() < dumpStarted && started < dumpStarted) grantedBeforeDump.push(grant.data.grantConsent.id);
      }
    })();
    await new Promise((r) => setTimeout(r, 2500));
    dumpStarted = Date.now();
    execFileSync('pg_dump', ['--format=custom', '--file', dumpFile, originalUrl]);
    const dumpMs = Date.now() - dumpStarted;
    // The keys are not in the database: they are backed up on their own.
    fs.cpSync(path.join(original.database.env.DATA_DIR, 'keys'), savedKeys, { recursive: true });
    await new Promise((r) => setTimeout(r, 1000));
    loading = false;
    await load;
    expect(grantedBeforeDump.length).toBeGreaterThan(0);

    // The disaster: the database and the data directory are gone.
    await original.stop();
    hub = undefined;

    // Restore into a fresh database, keys back in a fresh DATA_DIR.
    const name = `custodian_restored_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${name}`;
    restoredUrl = url.toString();
    const restoreStarted = Date.now();
    execFileSync('pg_restore', ['--no-owner', '--exit-on-error', '--dbname', restoredUrl, dumpFile]);
    const restoreMs = Date.now() - restoreStarted;
    restoredDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-restored-'));
    fs.cpSync(savedKeys, path.join(restoredDataDir, 'keys'), { recursive: true });

    // What the dump holds: ledgered events, and events still waiting in outboxes.
    const inDump = await eventsIn(restoredUrl);
    expect(inDump.waiting.size).toBeGreaterThan(0);
    const grants = new Set((await query(restoredUrl, 'SELECT id FROM consent.consent WHERE id = ANY($1)', [grantedBeforeDump])).map((r) => r.id as string));
    expect(grantedBeforeDump.filter((id) => !grants.has(id))).toEqual([]);

    const subgraphs = {} as Record<SubgraphName, number>;
    for (const n of SUBGRAPH_NAMES) subgraphs[n] = await freePort();
    restored = await spawnHub(
      { gateway: await freePort(), subgraphs },
      {
        DATABASE_URL: restoredUrl,
        DATA_DIR: restoredDataDir,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
        RATE_LIMIT_LEDGER_PER_MINUTE: '0',
        // Events relayed before the dump but not yet in its ledger are queued again once
        // this long has passed since their relay (30 s by default).
        LEDGER_CONFIRM_AFTER_MS: '2000',
      },
    );
    const gateway = restored.gateway;
    const complianceToken = restored.token(compliance, 'read');

    // Everything the dump held reaches the restored ledger, exactly once.
    const everything = new Set([...inDump.ledgered, ...inDump.waiting]);
    await waitFor(
      'every event of the dump in the restored ledger',
      async () => {
        const held = new Set((await query(restoredUrl!, 'SELECT event_id FROM ledger.ledger_leaf')).map((r) => r.event_id as string));
        return [...everything].every((id) => held.has(id)) ? true : undefined;
      },
      60_000,
      250,
    );
    const [counts] = await query(restoredUrl, 'SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct FROM ledger.ledger_leaf');
    expect(counts.n).toBe(counts.distinct);

    // `custodian verify` against the checkpoint saved before the dump: the same key, the
    // whole tree recomputed, consistent with what the verifier held.
    await waitFor('a checkpoint over the re-queued events', async () => ((await checkpointSize(gateway)) >= everything.size ? true : undefined), 30_000);
    const first = restored.cli('verify', '--url', gateway, '--token', complianceToken, '--from-checkpoint', savedCheckpoint);
    expect(first).toMatch(new RegExp(`consistent with the saved checkpoint of size ${savedSize}`));
    expect(first).toMatch(/^verified: \d+ entries \(\d+ requests, [\d.]+ MB; \d+ leaves read in [\d.]+ s, \d+ leaves\/s\)$/m);

    // New traffic on the restored hub is ledgered, and the next checkpoint is consistent with the old.
    // The checkpoint verify saved, not the hub's newest: a checkpoint may be published between the two.
    const restoredSize = savedCheckpointSize();
    const clinicianNow = { authorization: `Bearer ${restored.token(clinician.username)}` };
    for (let i = 0; i < 3; i++) expect((await gql(`${gateway}/graphql`, READ, undefined, clinicianNow)).errors).toBeUndefined();
    await waitFor('a checkpoint over new events', async () => ((await checkpointSize(gateway)) > restoredSize ? true : undefined), 30_000);
    const second = restored.cli('verify', '--url', gateway, '--token', complianceToken, '--from-checkpoint', savedCheckpoint);
    expect(second).toMatch(new RegExp(`consistent with the saved checkpoint of size ${restoredSize}`));
    process.stdout.write(
      `backup: pg_dump under load ${dumpMs} ms (${fs.statSync(dumpFile).size} bytes), pg_restore ${restoreMs} ms; the dump held ${inDump.ledgered.size} ledgered events and ${inDump.waiting.size} still in outboxes, all ledgered once after the restore\n`,
    );
  });
});
