/**
 * `custodian verify` over the real gateway's ledger endpoints, on a ledger that holds
 * both leaf formats: format-1 leaves exactly as the code at main wrote them, then
 * format-2 leaves. Every leaf is read with the ledger's one parser; a served event that
 * is not what its bytes say is tampering (exit 1), a leaf of a newer format is
 * hashed but not read (exit 2).
 */
import canonicalize from 'canonicalize';
import type { DataSource } from 'typeorm';
import { verifyLedger } from '../../cli/verify';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { createApiToken } from '../../gateway/identity/api-tokens';
import { openIdentityDatabase } from '../../gateway/identity/database';
import { createUser } from '../../gateway/identity/users';
import { loadLedgerNoteKey, type LedgerNoteKey } from '../../ledger/core/note-key';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { appendEvents } from '../../ledger/store/append';
import { openLedgerDatabase } from '../../ledger/store/database';
import { freshDatabase, type TestDatabase } from '../support/database';
import { refLeafHash } from '../support/ledger';
import { appendLeafTexts, FORMAT_1_LEAVES } from '../support/ledger-leaves';
import { testEvent } from '../support/ledger-pipeline';

const ORIGIN = 'custodian.test/verify';
let database: TestDatabase;
let gateway: RunningGateway;
let ledger: DataSource;
let identity: DataSource;
let key: LedgerNoteKey;
let token: string;

beforeAll(async () => {
  database = await freshDatabase();
  gateway = await startGateway({ env: database.env, port: 0 });
  ledger = await openLedgerDatabase(database.env);
  identity = await openIdentityDatabase(database.env);
  const officer = await createUser(identity, { username: 'verify.officer', role: 'compliance' });
  token = (await createApiToken(identity, officer.id, { name: 'verify', scopes: ['read'], expiresInDays: 1 })).token;
  key = loadLedgerNoteKey({ dataDir: `${database.env.DATA_DIR}/signer`, name: ORIGIN });
  await appendLeafTexts(ledger, FORMAT_1_LEAVES.map((l) => l.text));
  await appendEvents(ledger, [testEvent(1, 'access.decision'), testEvent(2, 'consent.granted')]);
  await publishCheckpoint(ledger, key, ORIGIN);
}, 60_000);
afterAll(async () => {
  jest.restoreAllMocks();
  await identity?.destroy();
  await ledger?.destroy();
  await gateway?.close();
  await database?.drop();
});

const verify = () => verifyLedger({ url: gateway.url, token, key: key.verifierKey });

test('reads every leaf of both formats and verifies the ledger', async () => {
  const report = await verify();
  expect(report.problems).toEqual([]);
  expect(report.unverified).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.notes).toContain(`leaves read: ${FORMAT_1_LEAVES.length} of format 1, 2 of format 2`);
});

test('an event the server shows that its leaf bytes do not say is tampering', async () => {
  const realFetch = global.fetch;
  jest.spyOn(global, 'fetch').mockImplementation(async (input, init) => {
    const res = await realFetch(input, init);
    if (!String(input).endsWith('/ledger/entries/0')) return res;
    const entry = await res.json();
    return Response.json({ ...entry, event: { ...entry.event, decision: 'deny' } });
  });
  try {
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual(['entry 0: the event the server shows is not what its leaf data says']);
  } finally {
    jest.restoreAllMocks();
  }
});

test('a leaf of a format newer than this verifier is hashed into the root but not read: could not verify', async () => {
  const future = canonicalize({ at: '2026-12-02T10:00:00Z', id: 'evt_from_the_future', kind: 'k', v: 3 })!;
  const [index] = await appendLeafTexts(ledger, [future]);
  await publishCheckpoint(ledger, key, ORIGIN);
  // This gateway refuses to read the leaf too (readers are deployed before writers,
  // ledger/FORMAT.md); a gateway of the newer release serves it like this.
  const realFetch = global.fetch;
  jest.spyOn(global, 'fetch').mockImplementation(async (input, init) => {
    if (!String(input).endsWith(`/ledger/entries/${index}`)) return realFetch(input, init);
    const data = Buffer.from(future, 'utf8');
    return Response.json({ index, leafHash: refLeafHash(data).toString('base64'), leafData: data.toString('base64'), event: { at: '2026-12-02T10:00:00Z', id: 'evt_from_the_future', kind: 'k' } });
  });
  try {
    const report = await verify();
    expect(report.problems).toEqual([]);
    expect(report.unverified).toEqual([`entry ${index}: leaf format 3 is newer than this reader (it knows 1 to 2); its hash is checked, its content is not read`]);
    expect(report.ok).toBe(false);
    expect(report.notes.join('\n')).toMatch(/root recomputed from all \d+ entries matches the signed checkpoint/);
  } finally {
    jest.restoreAllMocks();
  }
});
