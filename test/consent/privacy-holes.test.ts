/**
 * Issue 9's privacy holes, one named regression test each (8a, a client's X-Request-Id
 * reaching the ledger, is tested at the gateway). Every test runs through a real hub —
 * `custodian start` on a small seeded world, real HTTP through the gateway — and
 * asserts the contract the fix implements; on the code the review found, each fails.
 *
 * Fixtures are written as the product writes them: consents through `grantConsent` /
 * `revokeConsent` (GraphQL as the patient, or consent/consents.ts), tokens with the
 * function `custodian token` runs. Enrolments and project memberships have no API, so a
 * few are added as the seed adds them.
 */
import fs from 'node:fs';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import { In, Not, type DataSource } from 'typeorm';
import { openDatabase } from '../../common/database';
import { deviceKeyFromSeed, rawPublicKey, signBatch } from '../../common/device-signature';
import { codesOfClass } from '../../common/loinc';
import { createApiToken } from '../../gateway/identity/api-tokens';
import { IDENTITY_DATABASE } from '../../gateway/identity/database';
import { User } from '../../gateway/identity/entities';
import { grantConsent, revokeConsent } from '../../consent/consents';
import { openConsentDatabase } from '../../consent/database';
import { BreakGlass, Consent, ConsentVersion, PatientHome, ProjectMember } from '../../consent/entities';
import { deviceKeysPath, seed } from '../../seed/write';
import { SUBGRAPHS } from '../../subgraphs';
import { Device, DeviceReading } from '../../subgraphs/devices/entities';
import { databaseSpec } from '../../subgraphs/kit/server';
import { LabResult } from '../../subgraphs/labs/entities';
import { Patient } from '../../subgraphs/patients/entities';
import { Enrolment, ResearchProject } from '../../subgraphs/research/entities';
import { codes, gql, ok, type GraphQLResponse } from '../support/graphql';
import { startHub, type Hub } from '../support/hub';

let hub: Hub;
let identity: DataSource;
let consentDb: DataSource;
let labsDb: DataSource;
let devicesDb: DataSource;
let researchDb: DataSource;
let patientsDb: DataSource;
let users: User[];
let homes: PatientHome[];
const tokens = new Map<string, string>();
/** Projects whose consents and members a test changed: later tests leave them alone. */
const touchedProjects: string[] = [];

beforeAll(async () => {
  hub = await startHub({ prepare: (db) => seed({ patients: 40, seed: 9 }, db.env).then(() => undefined) });
  const env = hub.database.env;
  [identity, consentDb, labsDb, devicesDb, researchDb, patientsDb] = await Promise.all([
    openDatabase(IDENTITY_DATABASE, env),
    openConsentDatabase(env),
    openDatabase(databaseSpec(SUBGRAPHS.labs), env),
    openDatabase(databaseSpec(SUBGRAPHS.devices), env),
    openDatabase(databaseSpec(SUBGRAPHS.research), env),
    openDatabase(databaseSpec(SUBGRAPHS.patients), env),
  ]);
  users = await identity.getRepository(User).find({ order: { username: 'ASC' } });
  homes = await consentDb.getRepository(PatientHome).find({ order: { patientId: 'ASC' } });
}, 180_000);

afterAll(async () => {
  for (const db of [identity, consentDb, labsDb, devicesDb, researchDb, patientsDb]) await db?.destroy();
  await hub?.stop();
});

// ---- who asks ----------------------------------------------------------------------

/** An API token for this user, minted with the function `custodian token` runs. */
async function tokenFor(u: User, scopes: ('read' | 'write' | 'ingest')[] = ['read', 'write']): Promise<string> {
  const key = `${u.id}|${scopes.join(',')}`;
  if (!tokens.has(key)) tokens.set(key, (await createApiToken(identity, u.id, { name: `holes-${scopes.join('-')}`, scopes, expiresInDays: 1 })).token);
  return tokens.get(key)!;
}

type Purpose = 'TREATMENT' | 'RESEARCH' | 'EMERGENCY' | 'OPERATIONS';

async function as(u: User, query: string, variables: Record<string, unknown> = {}, purpose?: Purpose): Promise<GraphQLResponse> {
  return gql(`${hub.gateway}/graphql`, query, variables, {
    authorization: `Bearer ${await tokenFor(u)}`,
    ...(purpose ? { 'x-purpose-of-use': purpose } : {}),
  });
}

const userOfPatient = (patientId: string) => users.find((u) => u.patientId === patientId)!;
const homeOf = (patientId: string) => homes.find((h) => h.patientId === patientId)!.institutionId;
const clinicianAt = (institutionId: string, n = 0) => users.filter((u) => u.role === 'clinician' && u.institutionId === institutionId)[n]!;
const clinicianNotAt = (institutionId: string) => users.find((u) => u.role === 'clinician' && u.institutionId !== institutionId)!;
const unknownId = (prefix: string) => `${prefix}_${'0123456789abcdef0123'}`;

const GRANT = `mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id exceptions { categories loincClass dataFrom dataUntil } } }`;
const REVOKE = `mutation($id: ID!) { revokeConsent(id: $id) { id status } }`;

/** Everything an answer says, with the id the caller sent replaced: an unknown id and a hidden one must look the same. */
function shape(res: GraphQLResponse, sentId: string): string {
  const errors = (res.errors ?? []).map((e) => ({ message: e.message, path: e.path, extensions: e.extensions }));
  return JSON.stringify({ status: res.status, data: res.data ?? null, errors }).split(sentId).join('<id>');
}

/** No error carries a patient id the caller did not send (the owner of a row, for instance). */
function expectNoOwnerIn(res: GraphQLResponse, sent: string[]): void {
  for (const e of res.errors ?? []) {
    const named = JSON.stringify(e.extensions ?? {}).match(/pat_[0-9a-f]{20}/g) ?? [];
    expect({ error: e.message, names: named.filter((id) => !sent.includes(id)) }).toEqual({ error: e.message, names: [] });
  }
}

/** A patient with results of two LOINC classes, and a clinician of another hospital who sees nothing of them by default. */
async function patientAndOutsider(n = 0): Promise<{ patientId: string; patient: User; outsider: User; labs: LabResult[] }> {
  const withConsents = new Set((await consentDb.getRepository(Consent).find()).map((c) => c.patientId));
  const patientId = homes.filter((h) => !withConsents.has(h.patientId))[n]!.patientId;
  const labs = await labsDb.getRepository(LabResult).find({ where: { patientId }, order: { effectiveAt: 'ASC', id: 'ASC' } });
  return { patientId, patient: userOfPatient(patientId), outsider: clinicianNotAt(homeOf(patientId)), labs };
}

// ---- the holes ---------------------------------------------------------------------

test('hole 1: labResult(id) honours the consent’s exceptions (LOINC class, and period), answering as for an unknown id', async () => {
  const { patientId, patient, outsider, labs } = await patientAndOutsider(0);
  const chem = labs.filter((l) => codesOfClass('CHEM').includes(l.loincCode));
  const hem = labs.filter((l) => codesOfClass('HEM/BC').includes(l.loincCode));
  expect([chem.length > 0, hem.length > 0]).toEqual([true, true]);
  const granted = ok(
    await as(patient, GRANT, {
      input: { patientId, grantee: { kind: 'PRACTITIONER', id: outsider.practitionerId }, categories: ['LABS'], purposes: ['TREATMENT'], exceptions: [{ categories: ['LABS'], loincClass: 'CHEM' }] },
    }),
  ).grantConsent;

  const ONE = 'query($id: ID!) { labResult(id: $id) { id value code { code } } }';
  // The list leaves the class out already; the single read must too.
  const list = ok(await as(outsider, 'query($p: ID!) { patient(id: $p) { labResults(first: 100) { nodes { id } } } }', { p: patientId }));
  expect(list.patient.labResults.nodes.map((n: { id: string }) => n.id).sort()).toEqual(hem.map((l) => l.id).sort());
  const excluded = await as(outsider, ONE, { id: chem[0]!.id });
  expect(excluded.data?.labResult ?? null).toBeNull();
  expect(codes(excluded)).toEqual(['NOT_FOUND']);
  expect(shape(excluded, chem[0]!.id)).toBe(shape(await as(outsider, ONE, { id: unknownId('lab') }), unknownId('lab')));
  expect(ok(await as(outsider, ONE, { id: hem[0]!.id })).labResult.id).toBe(hem[0]!.id);

  // A period: results from a date on are excluded.
  ok(await as(patient, REVOKE, { id: granted.id }));
  const cut = labs[Math.floor(labs.length / 2)]!.effectiveAt;
  ok(
    await as(patient, GRANT, {
      input: { patientId, grantee: { kind: 'PRACTITIONER', id: outsider.practitionerId }, categories: ['LABS'], purposes: ['TREATMENT'], exceptions: [{ categories: ['LABS'], dataFrom: cut.toISOString() }] },
    }),
  );
  const late = labs.filter((l) => l.effectiveAt >= cut);
  const early = labs.filter((l) => l.effectiveAt < cut);
  for (const l of late) expect([l.id, codes(await as(outsider, ONE, { id: l.id }))]).toEqual([l.id, ['NOT_FOUND']]);
  expect(ok(await as(outsider, ONE, { id: early[0]!.id })).labResult.id).toBe(early[0]!.id);
});

test('hole 2: a DEVICES exception is enforced on readings; exceptions that cannot be enforced are refused and nothing is stored', async () => {
  const owners = new Set((await devicesDb.getRepository(Device).find()).map((d) => d.ownerPatientId));
  const withConsents = new Set((await consentDb.getRepository(Consent).find()).map((c) => c.patientId));
  const patientId = homes.find((h) => owners.has(h.patientId) && !withConsents.has(h.patientId))!.patientId;
  const patient = userOfPatient(patientId);
  const outsider = clinicianNotAt(homeOf(patientId));
  const device = (await devicesDb.getRepository(Device).find({ where: { ownerPatientId: patientId }, order: { id: 'ASC' } }))[0]!;
  const readings = await devicesDb.getRepository(DeviceReading).find({ where: { deviceId: device.id }, order: { recordedAt: 'ASC', id: 'ASC' } });
  const cut = readings[Math.floor(readings.length / 2)]!.recordedAt;
  const before = readings.filter((r) => r.recordedAt < cut);
  ok(
    await as(patient, GRANT, {
      input: { patientId, grantee: { kind: 'PRACTITIONER', id: outsider.practitionerId }, categories: ['DEVICES'], purposes: ['TREATMENT'], exceptions: [{ categories: ['DEVICES'], dataFrom: cut.toISOString() }] },
    }),
  );
  const seen = ok(await as(outsider, 'query($id: ID!) { device(id: $id) { readings(first: 100) { totalCount nodes { id recordedAt } } } }', { id: device.id })).device.readings;
  // Only what was recorded before the exception's date, in the page and in the count.
  expect(seen.nodes.filter((n: { recordedAt: string }) => new Date(n.recordedAt) >= cut)).toEqual([]);
  expect(seen.totalCount).toBe(before.length);

  const consentsBefore = await consentDb.getRepository(Consent).countBy({ patientId });
  const input = { patientId, grantee: { kind: 'PRACTITIONER', id: outsider.practitionerId }, purposes: ['TREATMENT'] };
  const refused = [
    { ...input, categories: ['DEVICES'], exceptions: [{ categories: ['DEVICES'], loincClass: 'CHEM' }] },
    { ...input, categories: ['DEMOGRAPHICS'], exceptions: [{ categories: ['DEMOGRAPHICS'], dataFrom: '2025-01-01T00:00:00.000Z' }] },
    { ...input, categories: ['RESEARCH'], exceptions: [{ categories: ['RESEARCH'], dataUntil: '2025-01-01T00:00:00.000Z' }] },
    { ...input, categories: ['LABS'], effect: 'DENY', exceptions: [{ categories: ['LABS'], loincClass: 'CHEM' }] },
  ];
  for (const r of refused) expect([r, codes(await as(patient, GRANT, { input: r }))]).toEqual([r, ['BAD_USER_INPUT']]);
  expect(await consentDb.getRepository(Consent).countBy({ patientId })).toBe(consentsBefore);
});

/** A research project with at least two researchers on it, and another project. */
async function twoProjects(): Promise<{ x: string; y: string; members: string[] }> {
  const members = await consentDb.getRepository(ProjectMember).find({ order: { projectId: 'ASC', practitionerId: 'ASC' } });
  const projects = await researchDb.getRepository(ResearchProject).find({ order: { id: 'ASC' } });
  const x = projects.find((p) => members.filter((m) => m.projectId === p.id).length >= 2)!.id;
  const enrolledIn = async (id: string) => researchDb.getRepository(Enrolment).countBy({ projectId: id });
  let y = '';
  for (const p of projects) if (p.id !== x && (await enrolledIn(p.id)) > 0 && !y) y = p.id;
  return { x, y, members: members.filter((m) => m.projectId === x).map((m) => m.practitionerId) };
}

test('hole 3: a research consent opens only its own project, to its own members', async () => {
  const { x, y, members } = await twoProjects();
  const researcher = users.find((u) => u.practitionerId === members[0])!;
  // A member of both projects: a consent to X still does not show the patient in Y.
  const bothProjects = users.find((u) => u.practitionerId === members[1])!;
  await consentDb.getRepository(ProjectMember).insert({ projectId: y, practitionerId: bothProjects.practitionerId! });
  // A patient enrolled in Y, who consents to X only (identified), and not to Y.
  const enrolment = (await researchDb.getRepository(Enrolment).find({ where: { projectId: y }, order: { id: 'ASC' } }))[0]!;
  const patientId = enrolment.patientId;
  const patient = userOfPatient(patientId);
  for (const c of await consentDb.getRepository(Consent).findBy({ patientId, granteeKind: 'project', status: 'active' })) {
    if (!c.parentId) ok(await as(patient, REVOKE, { id: c.id }));
  }
  touchedProjects.push(x, y);
  ok(await as(patient, GRANT, { input: { patientId, grantee: { kind: 'PROJECT', id: x }, categories: ['LABS', 'RESEARCH'], purposes: ['RESEARCH'], identified: true } }));

  const ENROLMENTS = 'query($id: ID!) { researchProject(id: $id) { enrolments(first: 100) { totalCount nodes { pseudonym patient { id } } } } }';
  for (const who of [researcher, bothProjects]) {
    const res = await as(who, ENROLMENTS, { id: y });
    const list = res.data?.researchProject?.enrolments ?? null;
    const shown = (list?.nodes ?? []).filter((n: { patient: { id: string } | null } | null) => n?.patient?.id === patientId);
    expect([who.username, shown]).toEqual([who.username, []]);
    // Not a member of Y: no enrolments of Y at all (none listed, none counted).
    if (who === researcher) expect([who.username, list === null || list.totalCount === 0]).toEqual([who.username, true]);
  }
  const cohort = await as(researcher, 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "2160-0") { count } }', { p: y });
  expect([cohort.data?.cohortSummary?.count ?? null, codes(cohort)]).toEqual([null, ['FORBIDDEN']]);
  const own = await as(researcher, 'query($p: ID!) { patient(id: $p) { researchProjects { project { id } pseudonym } } }', { p: patientId });
  const listed = (own.data?.patient?.researchProjects ?? []).filter(Boolean).map((e: { project: { id: string } }) => e.project.id);
  expect(listed).not.toContain(y);
});

test('hole 4: pseudonyms are keyed by a server secret, differ across projects, and are never shown to clinicians', async () => {
  // A patient enrolled in two projects.
  const projects = await researchDb.getRepository(ResearchProject).find({ order: { id: 'ASC' } });
  const enrolment = (await researchDb.getRepository(Enrolment).find({ order: { id: 'ASC' } }))[0]!;
  const patientId = enrolment.patientId;
  const second = projects.find((p) => p.id !== enrolment.projectId)!;
  if (!(await researchDb.getRepository(Enrolment).existsBy({ patientId, projectId: second.id }))) {
    await researchDb.getRepository(Enrolment).insert({ id: unknownId('enr').replace('0123', 'aaaa'), projectId: second.id, patientId, enrolledAt: new Date('2026-06-01T00:00:00.000Z'), status: 'ACTIVE' });
  }
  const patient = userOfPatient(patientId);
  const MINE = 'query($p: ID!) { patient(id: $p) { researchProjects { project { id } status pseudonym } } }';
  const mine = ok(await as(patient, MINE, { p: patientId })).patient.researchProjects as { project: { id: string }; pseudonym: string }[];
  expect(mine.length).toBeGreaterThanOrEqual(2);
  for (const e of mine) {
    // What anyone could compute from public values (the old scheme and its near variants),
    // looked for anywhere in the pseudonym, whatever its format.
    const keyed = (key: string) => createHmac('sha256', key).update(patientId).digest();
    const digests = [keyed(`custodian-pseudonym:${e.project.id}`), keyed(e.project.id), createHash('sha256').update(`${e.project.id}:${patientId}`).digest()];
    const bodies = digests.flatMap((d) => [d.toString('base64url').slice(0, 16), d.toString('hex').slice(0, 16)]);
    expect(typeof e.pseudonym).toBe('string');
    expect(e.pseudonym.length).toBeGreaterThanOrEqual(16);
    expect(bodies.filter((b) => e.pseudonym.includes(b))).toEqual([]);
  }
  expect(new Set(mine.map((e) => e.pseudonym)).size).toBe(mine.length);
  // Stable within a project.
  const again = ok(await as(patient, MINE, { p: patientId })).patient.researchProjects as { pseudonym: string }[];
  expect(again.map((e) => e.pseudonym)).toEqual(mine.map((e) => e.pseudonym));

  // A clinician of the patient's hospital sees the enrolments (project, status), never a pseudonym.
  const clinician = clinicianAt(homeOf(patientId));
  const seen = await as(clinician, 'query($p: ID!) { patient(id: $p) { name { text } researchProjects { project { id } status pseudonym } } }', { p: patientId });
  const enrolments = seen.data?.patient?.researchProjects as ({ project: { id: string }; status: string; pseudonym: string | null } | null)[];
  expect(enrolments.map((e) => e && { project: e.project.id, pseudonym: e.pseudonym })).toEqual(mine.map((e) => ({ project: e.project.id, pseudonym: null })));
});

test('hole 5: cohort statistics over fewer than 10 patients are withheld, and a differencing pair reveals nobody', async () => {
  const members = await consentDb.getRepository(ProjectMember).find({ order: { projectId: 'ASC', practitionerId: 'ASC' } });
  // A project of its own for this test (hole 3 changed two others).
  const project = (await researchDb.getRepository(ResearchProject).find({ order: { id: 'ASC' } })).find((p) => !touchedProjects.includes(p.id) && members.some((m) => m.projectId === p.id))!.id;
  const researcher = users.find((u) => u.practitionerId === members.find((m) => m.projectId === project)!.practitionerId)!;
  const outsider = users.find((u) => u.role === 'researcher' && !members.some((m) => m.projectId === project && m.practitionerId === u.practitionerId))!;
  // Nobody is counted but those consenting here: earlier consents to the project are revoked.
  for (const c of await consentDb.getRepository(Consent).findBy({ granteeKind: 'project', granteeId: project, status: 'active' })) {
    if (!c.parentId) await revokeConsent(consentDb, c.patientId, c.id, 'test');
  }
  // Ten patients with a final creatinine result join the project (as the seed enrols them).
  const enrolled = new Set((await researchDb.getRepository(Enrolment).findBy({ projectId: project })).map((e) => e.patientId));
  const finals = await labsDb.getRepository(LabResult).find({ where: { loincCode: '2160-0', status: In(['FINAL', 'AMENDED']) }, order: { patientId: 'ASC' } });
  const cohort = [...new Set(finals.map((l) => l.patientId))].filter((p) => !enrolled.has(p)).slice(0, 10);
  expect(cohort).toHaveLength(10);
  await researchDb.getRepository(Enrolment).insert(
    cohort.map((patientId, i) => ({ id: `enr_c0h0${String(i).padStart(16, '0')}`, projectId: project, patientId, enrolledAt: new Date(Date.UTC(2026, 5, 1 + i)), status: 'ACTIVE' as const })),
  );
  const consent = (patientId: string) =>
    grantConsent(consentDb, { patientId, grantee: { kind: 'project', id: project }, categories: ['LABS', 'RESEARCH'], actions: ['read'], purposes: ['RESEARCH'], effect: 'permit' }, userOfPatient(patientId).id);
  const STATS = 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "2160-0") { count mean min max } }';

  // One member: the answer would be that one person's value.
  await consent(cohort[0]!);
  const one = await as(researcher, STATS, { p: project });
  expect(one.data?.cohortSummary).toMatchObject({ count: null, mean: null, min: null, max: null });

  const FULL = 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "2160-0") { suppressed suppressedReason count mean min max } }';
  for (const p of cohort.slice(1, 9)) await consent(p);
  const nine = ok(await as(researcher, FULL, { p: project })).cohortSummary;
  expect(nine).toMatchObject({ suppressed: true, count: null, mean: null, min: null, max: null });
  expect(nine.suppressedReason).toEqual(expect.stringMatching(/\S/));
  // The tenth consents: the cohort reaches the threshold and is served...
  await consent(cohort[9]!);
  const ten = ok(await as(researcher, FULL, { p: project })).cohortSummary;
  expect(ten).toMatchObject({ suppressed: false, count: 10 });
  expect(typeof ten.mean).toBe('number');
  // ...and the pair (before, after) cannot give the tenth patient's value: before, there was no sum to subtract.
  expect([nine.mean, nine.min, nine.max, nine.count]).toEqual([null, null, null, null]);
  // Not a member: nothing at all.
  const notMember = await as(outsider, STATS, { p: project });
  expect([notMember.data?.cohortSummary?.count ?? null, codes(notMember)]).toEqual([null, ['FORBIDDEN']]);
});

test('hole 6: unknown and hidden ids answer alike on every path that takes one, and no error names the owner', async () => {
  const { patientId: hidden, outsider } = await patientAndOutsider(2);
  const ghost = unknownId('pat');
  const other = await patientAndOutsider(3);
  const hiddenLab = (await labsDb.getRepository(LabResult).find({ where: { patientId: hidden }, order: { id: 'ASC' } }))[0]!.id;
  // A device of a patient of another hospital with no consents at all: hidden from the outsider.
  const consenting = new Set((await consentDb.getRepository(Consent).find()).map((c) => c.patientId));
  const hiddenDevice = (await devicesDb.getRepository(Device).find({ order: { id: 'ASC' } })).find(
    (d) => !consenting.has(d.ownerPatientId) && homeOf(d.ownerPatientId) !== outsider.institutionId,
  )!;
  const hiddenConsent = (await consentDb.getRepository(Consent).find({ where: { patientId: Not(other.patientId) }, order: { id: 'ASC' } })).find((c) => !c.parentId)!.id;
  const publicKey = rawPublicKey(generateKeyPairSync('ed25519').privateKey);

  /** [what, caller, purpose, query, variables for an id, expected code] */
  const cases: [string, User, Purpose, string, (id: string) => Record<string, unknown>, string, string, string | null][] = [
    ['explainAccess', outsider, 'TREATMENT', 'query($id: ID!) { explainAccess(patientId: $id, category: LABS) { allowed decidedBy } }', (id) => ({ id }), hidden, ghost, 'FORBIDDEN'],
    ['patient', outsider, 'TREATMENT', 'query($id: ID!) { patient(id: $id) { id } }', (id) => ({ id }), hidden, ghost, 'FORBIDDEN'],
    ['labResult', outsider, 'TREATMENT', 'query($id: ID!) { labResult(id: $id) { __typename } }', (id) => ({ id }), hiddenLab, unknownId('lab'), 'NOT_FOUND'],
    ['device', outsider, 'TREATMENT', 'query($id: ID!) { device(id: $id) { __typename } }', (id) => ({ id }), hiddenDevice.id, unknownId('dev'), 'NOT_FOUND'],
    ['disclosures', outsider, 'TREATMENT', 'query($id: ID!) { disclosures(patientId: $id, from: "2020-01-01T00:00:00Z") { patientId } }', (id) => ({ id }), hidden, ghost, 'FORBIDDEN'],
    ['revokeConsent', other.patient, 'TREATMENT', 'mutation($id: ID!) { revokeConsent(id: $id) { id } }', (id) => ({ id }), hiddenConsent, unknownId('cns'), 'NOT_FOUND'],
    [
      'grantConsent',
      other.patient,
      'TREATMENT',
      'mutation($id: ID!, $g: ID!) { grantConsent(input: { patientId: $id, grantee: { kind: PRACTITIONER, id: $g }, categories: [LABS], purposes: [TREATMENT] }) { id } }',
      (id) => ({ id, g: outsider.practitionerId }),
      hidden,
      ghost,
      'FORBIDDEN',
    ],
    [
      'registerDevice',
      outsider,
      'TREATMENT',
      'mutation($id: ID!, $key: String!) { registerDevice(input: { ownerPatientId: $id, kind: SMARTWATCH, model: "Probe", serial: "PROBE-1", publicKey: $key }) { id } }',
      (id) => ({ id, key: publicKey }),
      hidden,
      ghost,
      'FORBIDDEN',
    ],
    [
      'ingestReadings.deviceId',
      outsider,
      'TREATMENT',
      'mutation($id: ID!) { ingestReadings(input: { deviceId: $id, sequence: 1, readings: [{ metric: HEART_RATE, value: 70, recordedAt: "2026-11-20T08:00:00.000Z" }], signature: "AAAA" }) { accepted } }',
      (id) => ({ id }),
      hiddenDevice.id,
      unknownId('dev'),
      'NOT_FOUND',
    ],
  ];
  for (const [what, caller, purpose, query, vars, hiddenId, unknown, code] of cases) {
    const [h, u] = [await as(caller, query, vars(hiddenId), purpose), await as(caller, query, vars(unknown), purpose)];
    expect([what, shape(h, hiddenId)]).toEqual([what, shape(u, unknown)]);
    expect([what, codes(u)]).toEqual([what, code ? [code] : []]);
    expectNoOwnerIn(h, [hiddenId]);
  }

  // Breaking the glass for an unknown, well-formed id works as for a hidden patient (compliance reviews it).
  const BREAK = 'mutation($id: ID!) { breakTheGlass(patientId: $id, justification: "Unconscious patient brought in, no records at hand", minutes: 5) { id } }';
  const [h, u] = [await as(outsider, BREAK, { id: hidden }, 'EMERGENCY'), await as(outsider, BREAK, { id: ghost }, 'EMERGENCY')];
  expect([codes(h), codes(u)]).toEqual([[], []]);
  expect(typeof u.data?.breakTheGlass?.id).toBe('string');
  // A review of someone else's access by a clinician: the same answer for a real id and an unknown one.
  const review = 'mutation($id: ID!) { reviewBreakGlass(id: $id, note: "probe") { id } }';
  const glass = h.data.breakTheGlass.id as string;
  const other2 = clinicianAt(homeOf(hidden));
  expect(shape(await as(other2, review, { id: glass }, 'TREATMENT'), glass)).toBe(shape(await as(other2, review, { id: unknownId('btg') }, 'TREATMENT'), unknownId('btg')));
});

test('hole 7: an ingest-only token gets the ingestion result and nothing about the patient', async () => {
  const keys: Record<string, string> = JSON.parse(fs.readFileSync(deviceKeysPath(hub.database.env.DATA_DIR), 'utf8'));
  const devices = await devicesDb.getRepository(Device).find({ order: { id: 'ASC' } });
  const device = devices.find((d) => keys[d.id] && homes.some((h) => h.patientId === d.ownerPatientId))!;
  const owner = (await patientsDb.getRepository(Patient).findOneByOrFail({ id: device.ownerPatientId }));
  // A device bridge at the owner's hospital, through `custodian token --scopes ingest`.
  const bridge = clinicianAt(owner.institutionId);
  const ingestOnly = hub.token(bridge.username, 'ingest');
  let sequence = (await devicesDb.getRepository(Device).findOneByOrFail({ id: device.id })).lastSequence;
  const batch = () => {
    sequence++;
    const readings = [{ metric: device.kind === 'CGM' ? 'GLUCOSE' : 'HEART_RATE', value: 90, recordedAt: new Date(Date.now() - 60_000 - sequence * 1000).toISOString() }];
    return { deviceId: device.id, sequence, readings, signature: signBatch({ deviceId: device.id, sequence, readings }, deviceKeyFromSeed(Buffer.from(keys[device.id]!, 'hex'))) };
  };
  const send = (query: string) => gql(`${hub.gateway}/graphql`, query, { input: batch() }, { authorization: `Bearer ${ingestOnly}` });

  const nosy = await send(
    'mutation($input: IngestReadingsInput!) { ingestReadings(input: $input) { accepted device { id serial owner { id name { text } birthDate identifiers { value } labResults { totalCount } } } } }',
  );
  const text = JSON.stringify(nosy.data ?? null);
  expect([text.includes(owner.familyName), text.includes(owner.birthDate), text.includes('totalCount')]).toEqual([false, false, false]);
  // Refused as FORBIDDEN: at `device`, or (stricter) the whole payload.
  expect((nosy.errors ?? []).some((e) => e.extensions?.code === 'FORBIDDEN' && (!e.path || (e.path[0] === 'ingestReadings' && [undefined, 'device'].includes(e.path[1] as string))))).toBe(true);

  const plain = ok(await send('mutation($input: IngestReadingsInput!) { ingestReadings(input: $input) { deviceId accepted duplicates sequence } }')).ingestReadings;
  expect(plain).toEqual({ deviceId: device.id, accepted: 1, duplicates: 0, sequence });
  // Reading anything else with it is refused outright.
  const read = await gql(`${hub.gateway}/graphql`, 'query($p: ID!) { patient(id: $p) { name { text } } }', { p: owner.id }, { authorization: `Bearer ${ingestOnly}` });
  expect([read.data?.patient ?? null, codes(read)]).toEqual([null, ['FORBIDDEN']]);
});

test('hole 8b: a 1.5 MB break-the-glass justification is refused with BAD_USER_INPUT and nothing is written', async () => {
  const { patientId, outsider } = await patientAndOutsider(4);
  // The break-the-glass row, the version bump and its ledger event commit together: no
  // row and no new version means nothing was written. (The outbox itself is drained by
  // the relay as it goes, so its size says nothing.)
  const count = async () => ({
    glass: await consentDb.getRepository(BreakGlass).countBy({ patientId }),
    version: (await consentDb.getRepository(ConsentVersion).findOneBy({ patientId }))?.version ?? 0,
  });
  const before = await count();
  const BREAK = 'mutation($p: ID!, $j: String!) { breakTheGlass(patientId: $p, justification: $j, minutes: 10) { id } }';
  const huge = await as(outsider, BREAK, { p: patientId, j: 'Unconscious patient, no records. '.padEnd(1_500_000, 'x') }, 'EMERGENCY');
  // Over the gateway's body limit it is refused before any GraphQL (issue 10): 413.
  expect([huge.status, codes(huge)]).toEqual([413, ['PAYLOAD_TOO_LARGE']]);
  const justOver = await as(outsider, BREAK, { p: patientId, j: 'Unconscious patient, no records. '.padEnd(2001, 'x') }, 'EMERGENCY');
  expect(codes(justOver)).toEqual(['BAD_USER_INPUT']);
  expect(await count()).toEqual(before);
  // At the limit it is accepted.
  ok(await as(outsider, BREAK, { p: patientId, j: 'Unconscious patient, no records. '.padEnd(2000, 'x') }, 'EMERGENCY'));
});

test('free text: an id argument longer than 64 characters is refused with BAD_USER_INPUT', async () => {
  const { outsider } = await patientAndOutsider(0);
  const long = `pat_${'a'.repeat(61)}`;
  for (const query of ['query($id: ID!) { patient(id: $id) { id } }', 'query($id: ID!) { labResult(id: $id) { id } }', 'query($id: ID!) { device(id: $id) { id } }']) {
    expect([query, codes(await as(outsider, query, { id: long }))]).toEqual([query, ['BAD_USER_INPUT']]);
  }
});
