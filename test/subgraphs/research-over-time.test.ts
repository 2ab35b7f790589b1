/**
 * Research over time (issue 13): a project's members follow its consenting subjects'
 * lab results and device readings by pseudonym — through the real gateway and all five
 * subgraphs over HTTP, on the suite's database (SQLite, or PostgreSQL with DATABASE_URL).
 *
 * The world: one project, one member and one researcher who is not; four patients with
 * lab results and readings enrolled in it — A consents (LABS, DEVICES, RESEARCH), B
 * consents except the CHEM class and anything before a date, C is enrolled without
 * consenting, D consented but withdrew from the study.
 */
import type { DataSource } from 'typeorm';
import { codesOfClass } from '../../common/loinc';
import { loadPseudonymKey } from '../../common/keys';
import { grantConsent, revokeConsent } from '../../consent/consents';
import { openConsentDatabase } from '../../consent/database';
import { Consent, ProjectMember } from '../../consent/entities';
import { User } from '../../gateway/identity/entities';
import { Device, DeviceReading } from '../../subgraphs/devices/entities';
import { LabResult } from '../../subgraphs/labs/entities';
import { Patient } from '../../subgraphs/patients/entities';
import { Enrolment, ResearchProject } from '../../subgraphs/research/entities';
import { pseudonymizer } from '../../subgraphs/research/pseudonyms';
import { startGatewayHub, type GatewayHub } from '../support/gateway-hub';
import { codes, gql, ok } from '../support/graphql';
import { identityHeader } from '../support/identity';
import { loadPrivateKey } from '../../common/keys';
import type { Identity } from '../../common/signed-identity';

let hub: GatewayHub;
let consentDb: DataSource;
let labsDb: DataSource;
let devicesDb: DataSource;
let project: string;
let member: string;
let memberIdentity: Identity;
let outsider: string;
const patients: Record<'A' | 'B' | 'C' | 'D', string> = { A: '', B: '', C: '', D: '' };
const consents: Record<string, string> = {};
let pseudonym: (patientId: string) => string;
/** B's consent hides results and readings before this instant. */
let cutoff: Date;

const as = (token: string, query: string, variables?: Record<string, unknown>) => gql(`${hub.gateway.url}/graphql`, query, variables, { authorization: `Bearer ${token}` });

const SERIES = `query($p: ID!, $a: String) { researchProject(id: $p) { subjects(first: 100, after: $a) { totalCount pageInfo { hasNextPage endCursor }
  nodes { pseudonym enrolledAt status project { id }
    labResults(first: 100) { totalCount nodes { code { system code display } value unit referenceRange { low high unit } interpretation status effectiveAt issuer { id } } }
    readings(first: 100) { totalCount nodes { metric value unit recordedAt deviceKind } } } } } }`;

const labsOf = (patientId: string) => labsDb.getRepository(LabResult).find({ where: { patientId }, order: { effectiveAt: 'ASC', id: 'ASC' } });
async function readingsOf(patientId: string) {
  const devices = await devicesDb.getRepository(Device).findBy({ ownerPatientId: patientId });
  const rows = (await devicesDb.getRepository(DeviceReading).find()).filter((r) => devices.some((d) => d.id === r.deviceId));
  const kind = new Map(devices.map((d) => [d.id, d.kind]));
  return rows
    .sort((a, b) => a.recordedAt.getTime() - b.recordedAt.getTime() || (a.id < b.id ? -1 : 1))
    .map((r) => ({ metric: r.metric, value: r.value, unit: r.unit, recordedAt: r.recordedAt.toISOString(), deviceKind: kind.get(r.deviceId) }));
}
const labNode = (r: LabResult) => ({ code: { code: r.loincCode, display: r.loincDisplay }, value: r.value, unit: r.unit, effectiveAt: r.effectiveAt.toISOString(), status: r.status, interpretation: r.interpretation, issuer: { id: r.issuerId } });

beforeAll(async () => {
  hub = await startGatewayHub({ patients: 30 });
  consentDb = await openConsentDatabase(hub.database.env);
  labsDb = hub.subgraphs.labs.db;
  devicesDb = hub.subgraphs.devices.db;
  const research = hub.subgraphs.research.db;
  pseudonym = (patientId) => pseudonymizer(loadPseudonymKey(hub.database.env.DATA_DIR))(project, patientId);

  project = (await research.getRepository(ResearchProject).find({ order: { id: 'ASC' } }))[0]!.id;
  // Nobody counts in this project but the four patients below.
  for (const c of await consentDb.getRepository(Consent).findBy({ granteeKind: 'project', granteeId: project, status: 'active' })) {
    if (!c.parentId) await revokeConsent(consentDb, c.patientId, c.id, 'test');
  }
  await research.getRepository(Enrolment).delete({ projectId: project });

  // Four patients with lab results of CHEM and another class, and device readings.
  const owners = new Set((await devicesDb.getRepository(Device).find()).map((d) => d.ownerPatientId));
  const withReadings = new Set<string>();
  for (const d of await devicesDb.getRepository(Device).find()) if (await devicesDb.getRepository(DeviceReading).existsBy({ deviceId: d.id })) withReadings.add(d.ownerPatientId);
  const labs = await labsDb.getRepository(LabResult).find();
  const chem = new Set(codesOfClass('CHEM'));
  const fit = [...withReadings].filter((p) => owners.has(p) && labs.some((l) => l.patientId === p && chem.has(l.loincCode)) && labs.some((l) => l.patientId === p && !chem.has(l.loincCode))).sort();
  expect(fit.length).toBeGreaterThanOrEqual(4);
  [patients.A, patients.B, patients.C, patients.D] = fit as [string, string, string, string];
  await research.getRepository(Enrolment).insert(
    (['A', 'B', 'C', 'D'] as const).map((k, i) => ({
      id: `enr_rot${String(i).padStart(17, '0')}`,
      projectId: project,
      patientId: patients[k],
      enrolledAt: new Date(Date.UTC(2026, 0, 10 + i)),
      status: k === 'D' ? ('WITHDRAWN' as const) : ('ACTIVE' as const),
    })),
  );

  // B's results split in time: the consent hides everything before the middle one.
  const bLabs = await labsOf(patients.B);
  cutoff = bLabs[Math.floor(bLabs.length / 2)]!.effectiveAt;
  const users = await hub.gateway.db.getRepository(User).find({ order: { username: 'ASC' } });
  const userOf = (patientId: string) => users.find((u) => u.patientId === patientId)!.id;
  const grant = async (k: 'A' | 'B' | 'D', exceptions: { categories: ('LABS' | 'DEVICES')[]; loincClass?: string; dataUntil?: Date }[] = []) => {
    const { consent } = await grantConsent(
      consentDb,
      { patientId: patients[k], grantee: { kind: 'project', id: project }, categories: ['LABS', 'DEVICES', 'RESEARCH'], actions: ['read'], purposes: ['RESEARCH'], effect: 'permit', exceptions },
      userOf(patients[k]),
    );
    consents[k] = consent.id;
  };
  await grant('A');
  await grant('B', [{ categories: ['LABS'], loincClass: 'CHEM' }, { categories: ['LABS', 'DEVICES'], dataUntil: cutoff }]);
  await grant('D');

  const researchers = users.filter((u) => u.role === 'researcher');
  const memberUser = researchers[0]!;
  await consentDb.getRepository(ProjectMember).upsert({ projectId: project, practitionerId: memberUser.practitionerId! }, ['projectId', 'practitionerId']);
  const members = await consentDb.getRepository(ProjectMember).findBy({ projectId: project });
  const outsiderUser = researchers.find((u) => !members.some((m) => m.practitionerId === u.practitionerId))!;
  member = (await hub.token({ username: memberUser.username })).token;
  memberIdentity = { subject: memberUser.id, role: 'researcher', institutionId: memberUser.institutionId, patientId: null, practitionerId: memberUser.practitionerId, purpose: 'RESEARCH', scopes: ['read'], requestId: 'research-over-time' };
  outsider = (await hub.token({ username: outsiderUser.username })).token;
}, 180_000);

afterAll(async () => {
  await consentDb?.destroy();
  await hub?.close();
});

describe('research over time', () => {
  test("a member gets each consenting subject's lab results and readings by pseudonym, oldest first, as stored", async () => {
    const subjects = ok(await as(member, SERIES, { p: project })).researchProject.subjects;
    // A and B: C never consented, D withdrew.
    expect(subjects.totalCount).toBe(2);
    expect(subjects.nodes.map((s: any) => s.pseudonym)).toEqual([pseudonym(patients.A), pseudonym(patients.B)]);
    const a = subjects.nodes[0];
    expect(a).toMatchObject({ enrolledAt: '2026-01-10T00:00:00.000Z', status: 'ACTIVE', project: { id: project } });
    const aLabs = await labsOf(patients.A);
    expect(a.labResults.totalCount).toBe(aLabs.length);
    expect(a.labResults.nodes).toMatchObject(aLabs.map(labNode));
    for (const [i, n] of a.labResults.nodes.entries()) {
      const r = aLabs[i]!;
      expect(n.code.system).toBe('http://loinc.org');
      expect(n.referenceRange).toEqual(r.referenceLow == null && r.referenceHigh == null ? null : { low: r.referenceLow, high: r.referenceHigh, unit: r.unit });
    }
    const aReadings = await readingsOf(patients.A);
    expect(aReadings.length).toBeGreaterThan(0);
    expect(a.readings.totalCount).toBe(aReadings.length);
    expect(a.readings.nodes).toEqual(aReadings.slice(0, 100));
  });

  test("the consent's exceptions (a LOINC class, a period) hide rows from pages and totals alike", async () => {
    const b = ok(await as(member, SERIES, { p: project })).researchProject.subjects.nodes[1];
    const chem = new Set(codesOfClass('CHEM'));
    const shown = (await labsOf(patients.B)).filter((l) => !chem.has(l.loincCode) && l.effectiveAt >= cutoff);
    expect(shown.length).toBeLessThan((await labsOf(patients.B)).length);
    expect(b.labResults.totalCount).toBe(shown.length);
    expect(b.labResults.nodes).toMatchObject(shown.map(labNode));
    const readings = (await readingsOf(patients.B)).filter((r) => r.recordedAt >= cutoff.toISOString());
    expect(b.readings.totalCount).toBe(readings.length);
    expect(b.readings.nodes).toEqual(readings.slice(0, 100));
  });

  test('series page oldest first with sealed cursors, filter by code, kind and period, and refuse bad input with typed errors', async () => {
    const aLabs = await labsOf(patients.A);
    const PAGE = `query($p: ID!, $s: String!, $a: String, $code: String, $from: DateTime, $to: DateTime) { researchSubject(projectId: $p, pseudonym: $s) {
      labResults(first: 2, after: $a, code: $code, from: $from, to: $to) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { effectiveAt value } } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page: any = ok(await as(member, PAGE, { p: project, s: pseudonym(patients.A), a: after })).researchSubject.labResults;
      expect(page.totalCount).toBe(aLabs.length);
      seen.push(...page.edges.map((e: any) => e.node.effectiveAt));
      // A cursor shows nothing of its row: not the result's id, not its instant.
      for (const e of page.edges) expect(Buffer.from(e.cursor, 'base64url').toString('latin1')).not.toMatch(/lab_|20\d\d-/);
      if (!page.pageInfo.hasNextPage) break;
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(aLabs.map((l) => l.effectiveAt.toISOString()));

    const code = aLabs[0]!.loincCode;
    const from = aLabs[1]!.effectiveAt;
    const to = aLabs.at(-1)!.effectiveAt;
    const filtered = ok(await as(member, PAGE, { p: project, s: pseudonym(patients.A), code, from: from.toISOString(), to: to.toISOString() })).researchSubject.labResults;
    expect(filtered.totalCount).toBe(aLabs.filter((l) => l.loincCode === code && l.effectiveAt >= from && l.effectiveAt < to).length);

    const all = await readingsOf(patients.A);
    const metric = all[0]!.metric;
    const READINGS = 'query($p: ID!, $s: String!, $k: String) { researchSubject(projectId: $p, pseudonym: $s) { readings(kind: $k) { totalCount nodes { metric } } } }';
    const byKind = ok(await as(member, READINGS, { p: project, s: pseudonym(patients.A), k: metric })).researchSubject.readings;
    expect(byKind.totalCount).toBe(all.filter((r) => r.metric === metric).length);
    expect(byKind.nodes.every((n: any) => n.metric === metric)).toBe(true);

    const bad = async (vars: Record<string, unknown>, q = PAGE) => {
      const res = await as(member, q, { p: project, s: pseudonym(patients.A), ...vars });
      expect(JSON.stringify(res)).not.toMatch(/ at .*\.(js|ts):\d+/);
      return codes(res);
    };
    expect(await bad({ a: 'not-a-cursor' })).toEqual(['BAD_USER_INPUT']);
    // A plain (unsealed) keyset cursor, as the ordinary lists make them, is not accepted.
    expect(await bad({ a: Buffer.from(JSON.stringify([1, aLabs[0]!.effectiveAt.toISOString(), aLabs[0]!.id])).toString('base64url') })).toEqual(['BAD_USER_INPUT']);
    expect(await bad({ code: 'glucose' })).toEqual(['BAD_USER_INPUT']);
    expect(await bad({ from: to.toISOString(), to: from.toISOString() })).toEqual(['BAD_USER_INPUT']);
    expect(await bad({ k: 'BLOOD_PRESSURE' }, READINGS)).toEqual(['BAD_USER_INPUT']);
  });

  test('a researcher who is not a member is refused the subjects, and every pseudonym is NOT_FOUND to them', async () => {
    const res = await as(outsider, SERIES, { p: project });
    expect(res.data?.researchProject?.subjects ?? null).toBeNull();
    expect(codes(res)).toEqual(['FORBIDDEN']);
    const one = await as(outsider, 'query($p: ID!, $s: String!) { researchSubject(projectId: $p, pseudonym: $s) { pseudonym labResults { totalCount } } }', { p: project, s: pseudonym(patients.A) });
    expect(one.data?.researchSubject ?? null).toBeNull();
    expect(codes(one)).toEqual(['NOT_FOUND']);
  });

  test('a patient whose consent does not open the project, or who withdrew, is absent, and their pseudonym answers as an unknown one', async () => {
    const ONE = 'query($p: ID!, $s: String!) { researchSubject(projectId: $p, pseudonym: $s) { pseudonym } }';
    const unknown = await as(member, ONE, { p: project, s: 'psn_0000000000000000000000' });
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
    for (const k of ['C', 'D'] as const) {
      const res = await as(member, ONE, { p: project, s: pseudonym(patients[k]) });
      expect(res.data?.researchSubject ?? null).toBeNull();
      // The same answer as for a pseudonym nobody has, but for the pseudonym it names.
      expect(JSON.stringify(res).split(pseudonym(patients[k])).join('<s>')).toBe(JSON.stringify(unknown).split('psn_0000000000000000000000').join('<s>'));
    }
    expect(codes(await as(member, ONE, { p: 'proj_nope', s: pseudonym(patients.A) }))).toEqual(['NOT_FOUND']);
  });

  test('nothing in the answer names the patient, a row or a device; the @inaccessible ids cannot be asked for', async () => {
    const text = JSON.stringify(ok(await as(member, SERIES, { p: project })));
    const patientsDb = hub.subgraphs.patients.db;
    for (const k of ['A', 'B'] as const) {
      const p = await patientsDb.getRepository(Patient).findOneByOrFail({ id: patients[k] });
      expect(text).not.toContain(p.id);
      expect(text).not.toContain(p.familyName);
      for (const l of await labsOf(p.id)) expect(text).not.toContain(l.id);
      for (const d of await devicesDb.getRepository(Device).findBy({ ownerPatientId: p.id })) {
        expect(text).not.toContain(d.id);
        expect(text).not.toContain(d.serial);
      }
    }
    expect(text).not.toMatch(/pat_|lab_|dev_|rdg_/);
    for (const field of ['patientId', 'projectId']) {
      const res = await as(member, `query($p: ID!) { researchProject(id: $p) { subjects { nodes { ${field} } } } }`, { p: project });
      expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    }
  });

  test('labs and devices decide again for themselves: a subject the research subgraph would not hand over is refused there too', async () => {
    // As a query plan would send it, signed with the gateway's key — but naming a patient
    // whose consent does not open the project (C), or pairing B's pseudonym with A (both
    // consent, so only the pairing check can refuse it).
    const Q = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on ResearchSubject { pseudonym labResults { totalCount } readings { totalCount } } } }';
    const key = loadPrivateKey('identity', hub.database.env.DATA_DIR);
    const send = async (name: 'labs' | 'devices', rep: Record<string, string>) => {
      const variables = { r: [{ __typename: 'ResearchSubject', projectId: project, ...rep }] };
      const query = name === 'labs' ? Q.replace(' readings { totalCount }', '') : Q.replace(' labResults { totalCount }', '');
      return gql(hub.subgraphs[name].url, query, variables, await identityHeader(key, query, variables, memberIdentity));
    };
    for (const name of ['labs', 'devices'] as const) {
      const field = name === 'labs' ? 'labResults' : 'readings';
      const unconsented = await send(name, { pseudonym: pseudonym(patients.C), patientId: patients.C });
      expect(unconsented.data?._entities?.[0]?.[field] ?? null).toBeNull();
      expect(codes(unconsented)).toEqual(['FORBIDDEN']);
      const mispaired = await send(name, { pseudonym: pseudonym(patients.B), patientId: patients.A });
      expect(mispaired.data?._entities?.[0]?.[field] ?? null).toBeNull();
      expect(codes(mispaired)).toEqual(['NOT_FOUND']);
      // The same, correctly paired and consented, is served: the refusals above are the rule's.
      const b = await send(name, { pseudonym: pseudonym(patients.B), patientId: patients.B });
      expect(codes(b)).toEqual([]);
      expect(b.data._entities[0][field].totalCount).toBeGreaterThan(0);
    }
  });

  test('revoking the consent removes the subject at once, from the list and by pseudonym', async () => {
    const before = ok(await as(member, SERIES, { p: project })).researchProject.subjects;
    expect(before.nodes.map((s: any) => s.pseudonym)).toContain(pseudonym(patients.A));
    await revokeConsent(consentDb, patients.A, consents.A!, 'test');
    const after = ok(await as(member, SERIES, { p: project })).researchProject.subjects;
    expect(after.totalCount).toBe(before.totalCount - 1);
    expect(after.nodes.map((s: any) => s.pseudonym)).toEqual([pseudonym(patients.B)]);
    expect(codes(await as(member, 'query($p: ID!, $s: String!) { researchSubject(projectId: $p, pseudonym: $s) { pseudonym } }', { p: project, s: pseudonym(patients.A) }))).toEqual(['NOT_FOUND']);
  });
});
