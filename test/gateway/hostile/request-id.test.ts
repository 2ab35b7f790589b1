/**
 * Request ids are the gateway's own. A client's X-Request-Id is accepted only as a plain
 * token (for the logs), anything else is a 400; either way the id that reaches the
 * subgraphs, the outboxes and the ledger's leaves — which are permanent — is one the
 * gateway made, never text a client chose.
 */
import type { DataSource } from 'typeorm';
import { openDatabase } from '../../../common/database';
import { appendEvents } from '../../../ledger/store/append';
import { LEDGER_DATABASE } from '../../../ledger/store/database';
import { LedgerLeaf } from '../../../ledger/store/entities';
import { ledgerEventFromOutbox } from '../../../ledger/core/leaf';
import { openConsentDatabase } from '../../../consent/database';
import { SUBGRAPH_NAMES } from '../../../common/config';
import { startGatewayHub, type GatewayHub } from '../../support/gateway-hub';

/** Passes the client-side check, and says what nobody may write into an immutable ledger. */
const CLIENT_CHOSEN = 'Larry.Stanton-HIV-positive-see-notes';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let hub: GatewayHub;

beforeAll(async () => {
  hub = await startGatewayHub();
}, 120_000);
afterAll(async () => hub?.close());

async function post(path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${hub.gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, requestId: res.headers.get('x-request-id'), body: (await res.json()) as any };
}

test('an X-Request-Id that is not a plain token is refused with a 400 that says what is allowed', async () => {
  const { token } = await hub.token({ role: 'clinician' });
  for (const bad of ['has space', 'x'.repeat(65), 'a/b', 'semi;colon', 'ünïcode', '']) {
    const res = await post('/graphql', { query: '{ me { username } }' }, { authorization: `Bearer ${token}`, 'x-request-id': bad });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('INVALID_REQUEST_ID');
    expect(res.body.errors[0].message).toMatch(/1 to 64 characters/);
    const auth = await post('/auth/webauthn/login/options', {}, { 'x-request-id': bad });
    expect([auth.status, auth.body.errors[0].extensions.code]).toEqual([400, 'INVALID_REQUEST_ID']);
  }
});

test("a client's request id never reaches an outbox or a ledger leaf; the gateway's own does", async () => {
  const clinician = await hub.token({ role: 'clinician' });
  const patient = await hub.token({ role: 'patient' });
  const ourIds: string[] = [];
  const send = async (token: string, query: string, variables?: Record<string, unknown>) => {
    const res = await post('/graphql', { query, variables }, { authorization: `Bearer ${token}`, 'x-request-id': CLIENT_CHOSEN });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.requestId).toMatch(UUID);
    ourIds.push(res.requestId!);
    return res.body.data;
  };
  // Reads (access decisions in every subgraph's outbox) and a write (the consent outbox).
  await send(clinician.token, '{ patients(first: 5) { nodes { id name { text } labResults(first: 2) { nodes { value } } devices { kind } researchProjects { status } } } }');
  await send(patient.token, `query($id: ID!) { patient(id: $id) { name { text } labResults(first: 3) { nodes { value } } } }`, { id: patient.user.patientId });
  await send(patient.token, 'mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id } }', {
    input: { patientId: patient.user.patientId, grantee: { kind: 'PRACTITIONER', id: clinician.user.practitionerId }, categories: ['LABS'], purposes: ['TREATMENT'] },
  });

  const consentDb = await openConsentDatabase(hub.database.env);
  const ledger = await openDatabase(LEDGER_DATABASE, hub.database.env);
  try {
    const sources: DataSource[] = [...SUBGRAPH_NAMES.map((n) => hub.subgraphs[n].db), consentDb, hub.gateway.db];
    const rows: { id: string; kind: string; payload: string; created_at: string }[] = [];
    for (const db of sources) rows.push(...(await db.query('SELECT id, kind, payload, created_at FROM outbox')));
    const decisions = rows.filter((r) => r.kind === 'access.decision');
    expect(decisions.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.kind === 'consent.granted')).toBe(true);
    for (const row of rows) expect(row.payload).not.toContain(CLIENT_CHOSEN);
    // Every decision names one of the ids the gateway made (and sent back in X-Request-Id).
    for (const d of decisions) expect(ourIds).toContain(JSON.parse(d.payload).requestId);

    // The same events as the ledger appends them: the leaves' exact bytes.
    await appendEvents(ledger, rows.map((r) => ledgerEventFromOutbox({ id: r.id, kind: r.kind, payload: r.payload, createdAt: r.created_at })));
    const leaves = await ledger.getRepository(LedgerLeaf).find();
    expect(leaves.length).toBe(rows.length);
    for (const leaf of leaves) expect(leaf.leafData).not.toContain(CLIENT_CHOSEN);
    const named = leaves.map((l) => (JSON.parse(l.leafData) as { requestId?: string }).requestId).filter((id) => id !== undefined);
    expect(named.length).toBeGreaterThanOrEqual(decisions.length);
    for (const id of named) expect(ourIds).toContain(id);
  } finally {
    await consentDb.destroy();
    await ledger.destroy();
  }
});
