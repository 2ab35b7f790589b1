/**
 * Every change writes its ledger event in the same transaction as the change: consents,
 * API tokens and sessions here (devices in test/subgraphs/devices.test.ts). When the event
 * cannot be written the change does not happen either — the outbox table is taken away
 * mid-test and the mutation must leave nothing behind.
 */
import type { DataSource } from 'typeorm';
import { grantConsent, revokeConsent, type GrantInput } from '../../../consent/consents';
import { openConsentDatabase } from '../../../consent/database';
import { Consent, ConsentVersion, PatientHome } from '../../../consent/entities';
import { openIdentityDatabase } from '../../../gateway/identity/database';
import { createApiToken, revokeApiToken } from '../../../gateway/identity/api-tokens';
import { endSession, startSession } from '../../../gateway/identity/sessions';
import { ApiToken, User } from '../../../gateway/identity/entities';
import { generateKeyPairSync } from 'node:crypto';
import { OutboxEvent } from '../../../ledger/pipeline/outbox';
import { ledgerEventFromOutbox } from '../../../ledger/core/leaf';
import { freshDatabase, type TestDatabase } from '../../support/database';

let database: TestDatabase;
let consentDb: DataSource;
let identityDb: DataSource;

const ACTOR = { subject: 'usr_pat_m', role: 'patient', requestId: 'req-m1', purpose: 'TREATMENT' };
const GRANT: GrantInput = {
  patientId: 'pat_m',
  grantee: { kind: 'practitioner', id: 'prac_m' },
  categories: ['LABS', 'DEVICES'],
  actions: ['read'],
  purposes: ['TREATMENT'],
  effect: 'permit',
  exceptions: [{ categories: ['LABS'], loincClass: 'CHEM' }],
};

const events = (db: DataSource, kind: string) => db.getRepository(OutboxEvent).find({ where: { kind }, order: { createdAt: 'ASC' } });

/** Runs `fn` while the outbox table is gone, so any event write fails. */
async function withoutOutbox<T>(db: DataSource, fn: () => Promise<T>): Promise<T> {
  await db.query('ALTER TABLE outbox RENAME TO outbox_away');
  try {
    return await fn();
  } finally {
    await db.query('ALTER TABLE outbox_away RENAME TO outbox');
  }
}

beforeAll(async () => {
  database = await freshDatabase();
  consentDb = await openConsentDatabase(database.env);
  identityDb = await openIdentityDatabase(database.env);
  await consentDb.getRepository(PatientHome).insert({ patientId: 'pat_m', institutionId: 'inst_m' });
  await identityDb.getRepository(User).insert({ id: 'usr_m', username: 'mira', role: 'clinician', institutionId: 'inst_m', patientId: null, practitionerId: 'prac_m', createdAt: new Date() } as User);
});
afterAll(async () => {
  await consentDb?.destroy();
  await identityDb?.destroy();
  await database?.drop();
});

describe('consent changes', () => {
  test('a grant and a revocation each write one event, with ids and vocabulary only', async () => {
    const { consent, version } = await grantConsent(consentDb, GRANT, ACTOR);
    const [granted] = await events(consentDb, 'consent.granted');
    const payload = JSON.parse(granted!.payload);
    expect(payload).toMatchObject({
      subject: ACTOR.subject,
      role: 'patient',
      requestId: 'req-m1',
      patientId: 'pat_m',
      consentId: consent.id,
      granteeId: 'practitioner:prac_m',
      categories: 'DEVICES|LABS',
      purposes: 'TREATMENT',
      effect: 'permit',
      exceptionCount: 1,
      consentVersion: version,
    });
    // What the ledger keeps of it: every field passes the allow-list, nothing is folded.
    const leaf = ledgerEventFromOutbox(granted!);
    expect(leaf.payloadDigest).toBeUndefined();
    expect(leaf).toMatchObject({ kind: 'consent.granted', consentId: consent.id, categories: 'DEVICES|LABS' });
    // It happened when it was committed: the row's instant is the event's.
    expect(leaf.at).toBe(granted!.createdAt.toISOString());

    const revoked = await revokeConsent(consentDb, 'pat_m', consent.id, ACTOR);
    const [event] = await events(consentDb, 'consent.revoked');
    expect(JSON.parse(event!.payload)).toMatchObject({ consentId: consent.id, consentVersion: revoked!.version, subject: ACTOR.subject });
  });

  test('a grant whose event cannot be written is not granted', async () => {
    const consentsBefore = await consentDb.getRepository(Consent).count();
    const version = await consentDb.getRepository(ConsentVersion).findOneBy({ patientId: 'pat_m' });
    await expect(withoutOutbox(consentDb, () => grantConsent(consentDb, GRANT, ACTOR))).rejects.toThrow();
    expect(await consentDb.getRepository(Consent).count()).toBe(consentsBefore);
    expect(await consentDb.getRepository(ConsentVersion).findOneBy({ patientId: 'pat_m' })).toEqual(version);
  });

  test('a revocation whose event cannot be written is not revoked', async () => {
    const { consent } = await grantConsent(consentDb, GRANT, ACTOR);
    await expect(withoutOutbox(consentDb, () => revokeConsent(consentDb, 'pat_m', consent.id, ACTOR))).rejects.toThrow();
    expect((await consentDb.getRepository(Consent).findOneByOrFail({ id: consent.id })).status).toBe('active');
  });
});

describe('identity changes', () => {
  test('API tokens: created and revoked, each with its event; no secret in either', async () => {
    const { token, record } = await createApiToken(identityDb, 'usr_m', { name: 'script', scopes: ['read'], expiresInDays: 7 });
    await revokeApiToken(identityDb, 'usr_m', record.id);
    const created = (await events(identityDb, 'apitoken.created')).map((e) => JSON.parse(e.payload));
    const revoked = (await events(identityDb, 'apitoken.revoked')).map((e) => JSON.parse(e.payload));
    expect(created).toEqual([expect.objectContaining({ subject: 'usr_m', tokenId: record.id, scopes: 'read' })]);
    expect(revoked).toEqual([expect.objectContaining({ subject: 'usr_m', tokenId: record.id })]);
    // The secret is what follows cus_<token id>_ (it may itself contain '_').
    const secret = /^cus_tok_[0-9a-f]{20}_(.+)$/.exec(token)![1]!;
    for (const e of await identityDb.getRepository(OutboxEvent).find()) expect(e.payload).not.toContain(secret);
  });

  test('a token whose event cannot be written is not created', async () => {
    await expect(withoutOutbox(identityDb, () => createApiToken(identityDb, 'usr_m', { name: 'lost', scopes: ['read'], expiresInDays: 7 }))).rejects.toThrow();
    expect(await identityDb.getRepository(ApiToken).findOneBy({ name: 'lost' })).toBeNull();
  });

  test('sign-in and sign-out are events; signing out twice is one event', async () => {
    const user = await identityDb.getRepository(User).findOneByOrFail({ id: 'usr_m' });
    await startSession(identityDb, user, generateKeyPairSync('ed25519').privateKey);
    const [started] = (await events(identityDb, 'session.started')).map((e) => JSON.parse(e.payload));
    expect(started).toMatchObject({ subject: 'usr_m', role: 'clinician' });
    await endSession(identityDb, started.sessionId);
    await endSession(identityDb, started.sessionId);
    expect((await events(identityDb, 'session.ended')).map((e) => JSON.parse(e.payload).sessionId)).toEqual([started.sessionId]);
  });
});
