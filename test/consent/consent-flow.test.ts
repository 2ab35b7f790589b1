/**
 * Consent, end to end through real subgraph processes-in-this-process sharing one
 * database: a patient grants, narrows, explains and revokes; other people are served or
 * refused accordingly, on two replicas of the labs subgraph at once; every decision is
 * recorded; break-the-glass is time-boxed and reviewed.
 */
import type { KeyObject } from 'node:crypto';
import Redis from 'ioredis';
import { CONSENT_CHANNEL } from '../../consent/notifications';
import { In, IsNull, Not } from 'typeorm';
import type { Identity } from '../../common/signed-identity';
import { openDatabase } from '../../common/database';
import { LOINC_BY_CODE } from '../../common/loinc';
import { IDENTITY_DATABASE } from '../../gateway/identity/database';
import { User } from '../../gateway/identity/entities';
import { openConsentDatabase } from '../../consent/database';
import { Consent, PatientHome, ProjectMember } from '../../consent/entities';
import { SUBGRAPHS } from '../../subgraphs';
import { startSubgraph, type RunningSubgraph } from '../../subgraphs/kit/server';
import { OutboxEvent } from '../../ledger/pipeline/outbox';
import { appendEvents } from '../../ledger/store/append';
import { LEDGER_DATABASE } from '../../ledger/store/database';
import { ledgerEventFromOutbox } from '../../ledger/core/leaf';
import { LabResult } from '../../subgraphs/labs/entities';
import { Enrolment } from '../../subgraphs/research/entities';
import { seed } from '../../seed/write';
import { freshDatabase, type TestDatabase } from '../support/database';
import { codes, gql, ok, type GraphQLResponse } from '../support/graphql';
import { gatewayKeys, identityHeader } from '../support/identity';
import { r4Errors } from '../fhir/support';

let database: TestDatabase;
let key: KeyObject;
let patients: RunningSubgraph;
let labsA: RunningSubgraph;
let labsB: RunningSubgraph;
let research: RunningSubgraph;
let audit: RunningSubgraph;
let patientId: string;
let patientUser: Identity;
let outsider: Identity; // a clinician of another institution
let researcher: Identity;
let compliance: Identity;
let projectId: string;

const as = (identity: Identity, purpose = identity.purpose): Identity => ({ ...identity, purpose });
async function call(s: RunningSubgraph, identity: Identity, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
  return gql(s.url, query, variables, await identityHeader(key, query, variables, identity));
}

const identityOf = (u: User, purpose: Identity['purpose']): Identity => ({
  subject: u.id,
  role: u.role,
  institutionId: u.institutionId,
  patientId: u.patientId,
  practitionerId: u.practitionerId,
  purpose,
  scopes: ['read', 'write'],
  requestId: `req-${u.username}`,
});

beforeAll(async () => {
  database = await freshDatabase();
  await seed({ patients: 80, seed: 11 }, database.env);
  const keys = gatewayKeys();
  key = keys.privateKey;
  const start = (name: keyof typeof SUBGRAPHS) => startSubgraph(SUBGRAPHS[name], { env: database.env, port: 0, identityKey: keys.publicKey });
  [patients, labsA, labsB, research, audit] = await Promise.all([start('patients'), start('labs'), start('labs'), start('research'), start('audit')]);

  const identityDb = await openDatabase(IDENTITY_DATABASE, database.env);
  const consentDb = await openConsentDatabase(database.env);
  // A patient with no seeded consents, so every consent here is this test's.
  const withConsents = (await consentDb.getRepository(Consent).find()).map((c) => c.patientId);
  const home = await consentDb.getRepository(PatientHome).findOneByOrFail({ patientId: Not(In(withConsents)) });
  patientId = home.patientId;
  patientUser = identityOf(await identityDb.getRepository(User).findOneByOrFail({ patientId }), 'TREATMENT');
  const outside = await identityDb.getRepository(User).findOneByOrFail({ role: 'clinician', institutionId: Not(home.institutionId) });
  outsider = identityOf(outside, 'TREATMENT');
  const member = (await consentDb.getRepository(ProjectMember).find())[0]!;
  projectId = member.projectId;
  researcher = identityOf(await identityDb.getRepository(User).findOneByOrFail({ practitionerId: member.practitionerId }), 'RESEARCH');
  compliance = identityOf(await identityDb.getRepository(User).findOneByOrFail({ role: 'compliance' }), 'OPERATIONS');
  await identityDb.destroy();
  await consentDb.destroy();
}, 60_000);

afterAll(async () => {
  for (const s of [patients, labsA, labsB, research, audit]) await s?.close();
  await database?.drop();
});

const LABS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { labResults(first: 100) { totalCount nodes { code { code } } } } } }`;
const labsOf = (s: RunningSubgraph, who: Identity) => call(s, who, LABS, { r: [{ __typename: 'Patient', id: patientId }] });
const GRANT = `mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id status categories purposes effect exceptions { loincClass } fhir } }`;
const REVOKE = `mutation($id: ID!) { revokeConsent(id: $id) { id status revokedAt } }`;
const consentCount = async () => {
  const db = await openConsentDatabase(database.env);
  try {
    return await db.getRepository(Consent).countBy({ patientId });
  } finally {
    await db.destroy();
  }
};

describe('granting and revoking', () => {
  let consentId: string;

  test('by default a clinician of another institution sees nothing of the patient', async () => {
    expect(codes(await labsOf(labsA, outsider))).toEqual(['FORBIDDEN']);
    // Not even that the patient exists: the same answer as for an unknown id — from
    // patient(id), and from explainAccess (issue 9: it used to explain a hidden patient's
    // denial but answer NOT_FOUND for an unknown id).
    for (const id of [patientId, 'pat_does_not_exist']) {
      const res = await call(patients, outsider, 'query($p: ID!) { patient(id: $p) { id } }', { p: id });
      expect([res.data?.patient ?? null, codes(res)]).toEqual([null, ['FORBIDDEN']]);
      const explained = await call(patients, outsider, 'query($p: ID!) { explainAccess(patientId: $p, category: LABS) { allowed decidedBy reason } }', { p: id });
      expect([explained.data?.explainAccess ?? null, explained.errors?.map((e) => [e.extensions?.code, e.message])]).toEqual([
        null,
        [['FORBIDDEN', 'No consent covers any data of this patient for TREATMENT']],
      ]);
    }
  });

  test('the patient grants LABS for TREATMENT to that clinician, who is then served — by both replicas', async () => {
    const granted = ok(
      await call(patients, patientUser, GRANT, {
        input: { patientId, grantee: { kind: 'PRACTITIONER', id: outsider.practitionerId }, categories: ['LABS'], purposes: ['TREATMENT'] },
      }),
    ).grantConsent;
    consentId = granted.id;
    expect(granted).toMatchObject({ status: 'ACTIVE', categories: ['LABS'], purposes: ['TREATMENT'], effect: 'PERMIT' });
    for (const replica of [labsA, labsB]) {
      const res = ok(await labsOf(replica, outsider));
      expect(res._entities[0].labResults.totalCount).toBeGreaterThan(0);
    }
    // Still nothing else: demographics were not granted, nor another purpose. The patient
    // is reachable (for their labs, through the gateway), their name is not.
    const record = await call(patients, outsider, 'query($p: ID!) { patient(id: $p) { id name { text } birthDate } }', { p: patientId });
    expect(record.data.patient).toEqual({ id: patientId, name: null, birthDate: null });
    expect(codes(record)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(codes(await labsOf(labsA, as(outsider, 'OPERATIONS')))).toEqual(['FORBIDDEN']);
    const explained = ok(
      await call(patients, outsider, 'query($p: ID!) { explainAccess(patientId: $p, category: LABS) { allowed decidedBy consent { id } consentVersion } }', { p: patientId }),
    ).explainAccess;
    expect(explained).toMatchObject({ allowed: true, decidedBy: `consent:${consentId}`, consent: { id: consentId } });
  });

  test('revocation is immediate on every replica, caches warm or not', async () => {
    // Both replicas have just served under the consent (their caches hold it).
    ok(await labsOf(labsA, outsider));
    ok(await labsOf(labsB, outsider));
    const revoked = ok(await call(patients, patientUser, REVOKE, { id: consentId })).revokeConsent;
    expect(revoked.status).toBe('REVOKED');
    // The very next requests, with no pause for notifications to arrive.
    expect(codes(await labsOf(labsA, outsider))).toEqual(['FORBIDDEN']);
    expect(codes(await labsOf(labsB, outsider))).toEqual(['FORBIDDEN']);
  });

  test('nobody grants on someone else’s behalf; bad grants are refused and change nothing', async () => {
    const before = await consentCount();
    const input = { patientId, grantee: { kind: 'PRACTITIONER', id: outsider.practitionerId }, categories: ['LABS'], purposes: ['TREATMENT'] };
    expect(codes(await call(patients, outsider, GRANT, { input }))).toEqual(['FORBIDDEN']);
    expect(codes(await call(patients, researcher, GRANT, { input }))).toEqual(['FORBIDDEN']);
    const other = await call(patients, patientUser, GRANT, { input: { ...input, patientId: 'pat_someone_else' } });
    expect(codes(other)).toEqual(['FORBIDDEN']);
    const bad = [
      { ...input, validFrom: '2027-01-01T00:00:00Z', validUntil: '2026-12-01T00:00:00Z' },
      { ...input, validUntil: '2020-01-01T00:00:00Z' },
      { ...input, categories: [] },
      { ...input, grantee: { kind: 'PRACTITIONER', id: 'prac_unknown' } },
      { ...input, grantee: { kind: 'ROLE', id: 'surgeon@inst_x' } },
      { ...input, grantee: { kind: 'PROJECT', id: 'proj_unknown' } },
      { ...input, exceptions: [{ loincClass: 'ASTROLOGY' }] },
      { ...input, exceptions: [{}] },
      { ...input, identified: true },
    ];
    for (const b of bad) expect([b, codes(await call(patients, patientUser, GRANT, { input: b }))]).toEqual([b, ['BAD_USER_INPUT']]);
    expect(codes(await call(patients, patientUser, GRANT, { input: { ...input, categories: ['GENOME'] } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await call(patients, patientUser, GRANT, { input: { ...input, purposes: ['MARKETING'] } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await call(patients, patientUser, REVOKE, { id: 'cns_unknown' }))).toEqual(['NOT_FOUND']);
    expect(await consentCount()).toBe(before);
  });
});

describe('exceptions, denials, explanations', () => {
  test('a permission with an exception hides that LOINC class inside the query: rows and counts agree', async () => {
    const all = await labsA.db.getRepository(LabResult).findBy({ patientId });
    const hematology = all.filter((r) => LOINC_BY_CODE.get(r.loincCode)?.loincClass === 'HEM/BC');
    expect(hematology.length).toBeGreaterThan(0);
    const granted = ok(
      await call(patients, patientUser, GRANT, {
        input: {
          patientId,
          grantee: { kind: 'PRACTITIONER', id: outsider.practitionerId },
          categories: ['LABS'],
          purposes: ['TREATMENT'],
          exceptions: [{ loincClass: 'HEM/BC' }],
        },
      }),
    ).grantConsent;
    expect(granted.exceptions).toEqual([{ loincClass: 'HEM/BC' }]);
    const conn = ok(await labsOf(labsA, outsider))._entities[0].labResults;
    expect(conn.totalCount).toBe(all.length - hematology.length);
    expect(conn.nodes.map((n: any) => n.code.code)).not.toContain('718-7');

    const fhir = JSON.parse(granted.fhir);
    // Valid R4 (the same mapping as the FHIR API's Consent, consent/fhir.ts), with FHIR ids.
    expect(r4Errors(fhir)).toEqual([]);
    expect(fhir).toMatchObject({ resourceType: 'Consent', id: granted.id.replace('_', '-'), status: 'active', patient: { reference: `Patient/${patientId.replace('_', '-')}` }, provision: { type: 'permit' } });
    expect(fhir.policyRule.coding[0].code).toBe('OPTIN');
    expect(fhir.provision.provision[0]).toMatchObject({ type: 'deny', code: [{ coding: [{ code: 'HEM/BC' }] }] });
    ok(await call(patients, patientUser, REVOKE, { id: granted.id }));
  });

  test("a patient's denial overrides their hospital's base policy", async () => {
    const db = await openConsentDatabase(database.env);
    const home = await db.getRepository(PatientHome).findOneByOrFail({ patientId });
    await db.destroy();
    const identityDb = await openDatabase(IDENTITY_DATABASE, database.env);
    const treating = identityOf(await identityDb.getRepository(User).findOneByOrFail({ role: 'clinician', institutionId: home.institutionId }), 'TREATMENT');
    await identityDb.destroy();
    ok(await labsOf(labsA, treating));
    const deny = ok(
      await call(patients, patientUser, GRANT, {
        input: { patientId, grantee: { kind: 'ROLE', id: `clinician@${home.institutionId}` }, categories: ['LABS'], purposes: ['TREATMENT'], effect: 'DENY' },
      }),
    ).grantConsent;
    expect(codes(await labsOf(labsB, treating))).toEqual(['FORBIDDEN']);
    const explained = ok(
      await call(patients, treating, 'query($p: ID!) { explainAccess(patientId: $p, category: LABS) { allowed decidedBy reason } }', { p: patientId }),
    ).explainAccess;
    expect(explained).toMatchObject({ allowed: false, decidedBy: `consent:${deny.id}` });
    expect(explained.reason).toMatch(/overrides/);
    // Demographics are still theirs to see: the denial covers LABS only.
    ok(await call(patients, treating, 'query($p: ID!) { patient(id: $p) { name { text } } }', { p: patientId }));
    ok(await call(patients, patientUser, REVOKE, { id: deny.id }));
    ok(await labsOf(labsA, treating));
  });

  test('the patient lists their consents; nobody else may', async () => {
    const mine = ok(await call(patients, patientUser, 'query($p: ID!) { patient(id: $p) { consents { id status grantee { kind id } } } }', { p: patientId }));
    expect(mine.patient.consents.length).toBeGreaterThanOrEqual(3);
    expect(mine.patient.consents.every((c: any) => c.status === 'REVOKED')).toBe(true);
    const theirs = await call(patients, outsider, 'query($p: ID!) { patient(id: $p) { consents { id } } }', { p: patientId });
    expect(codes(theirs)).toContain('FORBIDDEN');
  });

  test('the compliance role sees no clinical data', async () => {
    expect(codes(await labsOf(labsA, compliance))).toEqual(['FORBIDDEN']);
    expect(codes(await call(patients, compliance, 'query($p: ID!) { patient(id: $p) { name { text } } }', { p: patientId }))).toEqual(['FORBIDDEN']);
    const explained = ok(
      await call(patients, compliance, 'query($p: ID!) { explainAccess(patientId: $p, category: AUDIT) { allowed decidedBy } }', { p: patientId }),
    ).explainAccess;
    expect(explained).toEqual({ allowed: true, decidedBy: 'base:compliance-audit' });
  });
});

describe('research', () => {
  test('a project sees only consenting members, by pseudonym unless identified, and counts only them', async () => {
    const enrolled = await research.db.getRepository(Enrolment).findBy({ projectId });
    const db = await openConsentDatabase(database.env);
    const consents = await db.getRepository(Consent).findBy({ granteeKind: 'project', granteeId: projectId, status: 'active', parentId: IsNull() });
    await db.destroy();
    const consenting = new Set(consents.map((c) => c.patientId));
    const identified = new Set(consents.filter((c) => c.identified).map((c) => c.patientId));
    const visible = enrolled.filter((e) => consenting.has(e.patientId));
    expect(visible.length).toBeGreaterThan(0);

    const res = ok(
      await call(research, researcher, 'query($id: ID!) { researchProject(id: $id) { enrolments(first: 100) { totalCount nodes { pseudonym patient { id } } } } }', {
        id: projectId,
      }),
    ).researchProject.enrolments;
    expect(res.totalCount).toBe(visible.length);
    for (const n of res.nodes) {
      expect(n.pseudonym).toMatch(/^psn_[\w-]{22}$/);
      if (n.patient) expect(identified.has(n.patient.id)).toBe(true);
    }
    expect(res.nodes.filter((n: any) => n.patient).length).toBe(visible.filter((e) => identified.has(e.patientId)).length);

    const cohort = ok(
      await call(research, researcher, 'query($p: ID!) { _entities(representations: [{__typename: "CohortSummary", projectId: $p, loinc: "4548-4"}]) { ... on CohortSummary { memberIds } } }', {
        p: projectId,
      }),
    )._entities[0];
    expect(cohort.memberIds.sort()).toEqual(visible.filter((e) => e.status === 'ACTIVE').map((e) => e.patientId).sort());

    // Without the project's purpose, nothing.
    const asTreatment = ok(
      await call(research, as(researcher, 'TREATMENT'), 'query($id: ID!) { researchProject(id: $id) { enrolments { totalCount } } }', { id: projectId }),
    );
    expect(asTreatment.researchProject.enrolments.totalCount).toBe(0);
  });
});

describe('break-the-glass', () => {
  const BREAK = `mutation($p: ID!, $j: String!, $m: Int) { breakTheGlass(patientId: $p, justification: $j, minutes: $m) { id } }`;

  test('an outside clinician in an emergency gets time-boxed access, and compliance reviews it', async () => {
    const emergency = as(outsider, 'EMERGENCY');
    expect(codes(await labsOf(labsA, emergency))).toEqual(['FORBIDDEN']);
    expect(codes(await call(patients, outsider, BREAK, { p: patientId, j: 'Unconscious patient in the emergency room, no records' }))).toEqual(['FORBIDDEN']);
    expect(codes(await call(patients, emergency, BREAK, { p: patientId, j: 'because' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await call(patients, emergency, BREAK, { p: patientId, j: 'Unconscious patient in the emergency room', m: 600 }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await call(patients, patientUser, BREAK, { p: patientId, j: 'Unconscious patient in the emergency room' }))).toEqual(['FORBIDDEN']);

    const glass = ok(await call(patients, emergency, BREAK, { p: patientId, j: 'Unconscious patient in the emergency room, no records', m: 30 })).breakTheGlass;
    // Its details come from the audit subgraph (through the gateway, the same query).
    const REF = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on BreakGlassAccess { id justification expiresAt } } }';
    const opened = ok(await call(audit, emergency, REF, { r: [{ __typename: 'BreakGlassAccess', id: glass.id }] }))._entities[0];
    expect(new Date(opened.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    ok(await labsOf(labsB, emergency));
    // Only for EMERGENCY: the same clinician for TREATMENT is still refused.
    expect(codes(await labsOf(labsA, outsider))).toEqual(['FORBIDDEN']);

    // The review queue lives in the audit subgraph, with what was read under each access:
    // here the labs replica's decisions, appended to the ledger as the worker would.
    const decisions = await labsB.db.getRepository(OutboxEvent).findBy({ kind: 'access.decision' });
    const ledger = await openDatabase(LEDGER_DATABASE, database.env);
    await appendEvents(ledger, decisions.map(ledgerEventFromOutbox));
    await ledger.destroy();

    expect(codes(await call(audit, outsider, '{ breakGlassReviews { id } }'))).toEqual(['FORBIDDEN']);
    expect(codes(await call(audit, as(compliance, 'TREATMENT'), '{ breakGlassReviews { id } }'))).toEqual(['FORBIDDEN']);
    const queue = ok(await call(audit, compliance, '{ breakGlassReviews { id patientId userId justification accesses { decidedBy category purpose actor { userId } } } }')).breakGlassReviews;
    const mine = queue.find((g: any) => g.id === glass.id);
    expect(mine).toMatchObject({ patientId, userId: outsider.subject, justification: 'Unconscious patient in the emergency room, no records' });
    expect(mine.accesses).toEqual([{ decidedBy: `break-glass:${glass.id}`, category: 'LABS', purpose: 'EMERGENCY', actor: { userId: outsider.subject } }]);
    // The clinician who opened it sees it by reference; to another it answers exactly as an
    // unknown id does (NOT_FOUND, naming only the id asked for).
    expect(ok(await call(audit, outsider, REF, { r: [{ __typename: 'BreakGlassAccess', id: glass.id }] }))._entities[0].id).toBe(glass.id);
    const shape = (res: GraphQLResponse, id: string) => res.errors?.map((e) => [e.extensions?.code, e.message.replace(id, '<id>')]);
    const hidden = await call(audit, researcher, REF, { r: [{ __typename: 'BreakGlassAccess', id: glass.id }] });
    const unknown = await call(audit, researcher, REF, { r: [{ __typename: 'BreakGlassAccess', id: 'btg_0000000000000000' }] });
    expect(codes(hidden)).toEqual(['NOT_FOUND']);
    expect(shape(hidden, glass.id)).toEqual(shape(unknown, 'btg_0000000000000000'));

    expect(codes(await call(audit, compliance, 'mutation($id: ID!) { reviewBreakGlass(id: $id, note: "   ") { id } }', { id: glass.id }))).toEqual(['BAD_USER_INPUT']);
    const reviewed = ok(await call(audit, compliance, 'mutation($id: ID!) { reviewBreakGlass(id: $id, note: "Justified: ER admission") { reviewedBy } }', { id: glass.id }));
    expect(reviewed.reviewBreakGlass.reviewedBy).toBe(compliance.subject);
    expect(codes(await call(audit, compliance, 'mutation($id: ID!) { reviewBreakGlass(id: $id, note: "Again") { id } }', { id: glass.id }))).toEqual(['CONFLICT']);
    const pending = ok(await call(audit, compliance, '{ breakGlassReviews { id } }')).breakGlassReviews;
    expect(pending.map((g: any) => g.id)).not.toContain(glass.id);
    const all = ok(await call(audit, compliance, '{ breakGlassReviews(pendingOnly: false) { id reviewNote } }')).breakGlassReviews;
    expect(all).toContainEqual({ id: glass.id, reviewNote: 'Justified: ER admission' });
  });
});

test('every decision, permit and deny, is in the outbox with who, what, why, what decided, and the version', async () => {
  const events = await labsA.db.getRepository(OutboxEvent).findBy({ kind: 'access.decision' });
  const payloads = events.map((e) => JSON.parse(e.payload));
  const about = payloads.filter((p) => p.patientId === patientId && p.subject === outsider.subject);
  expect(about.some((p) => p.decision === 'permit' && p.decidedBy.startsWith('consent:'))).toBe(true);
  expect(about.some((p) => p.decision === 'deny' && p.decidedBy === 'default-deny')).toBe(true);
  for (const p of about) {
    expect(p).toMatchObject({ service: 'labs', category: 'LABS', action: 'read', role: 'clinician' });
    expect(typeof p.consentVersion).toBe('number');
    expect(p.requestId).toBe(outsider.requestId);
    expect(JSON.stringify(p)).not.toMatch(/"value"|"name"/);
  }
});

test('each consent change is announced to every process over Redis, with the new version', async () => {
  const sub = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const heard: { patientId: string; version: number }[] = [];
  try {
    await sub.subscribe(CONSENT_CHANNEL);
    sub.on('message', (_c, m) => heard.push(JSON.parse(m)));
    const granted = ok(
      await call(patients, patientUser, GRANT, {
        input: { patientId, grantee: { kind: 'PRACTITIONER', id: outsider.practitionerId }, categories: ['DEVICES'], purposes: ['TREATMENT'] },
      }),
    ).grantConsent;
    ok(await call(patients, patientUser, REVOKE, { id: granted.id }));
    const deadline = Date.now() + 5000;
    while (heard.filter((h) => h.patientId === patientId).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const mine = heard.filter((h) => h.patientId === patientId);
    expect(mine).toHaveLength(2);
    expect(mine[1]!.version).toBe(mine[0]!.version + 1);
  } finally {
    sub.disconnect();
  }
});
