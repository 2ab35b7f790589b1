/**
 * The FHIR API's research and audit resources against a real seeded hub (gateway and five
 * subgraphs over HTTP, real databases, a real ledger): ResearchStudy, ResearchSubject,
 * a research subject's Observations over time, AuditEvent from the ledger, and paging
 * with `next` and `total` on the short lists. Every resource validates against the
 * official R4 StructureDefinitions with zero errors; each security property has its
 * negative test, sending the request that must be refused.
 */
import type { DataSource } from 'typeorm';
import { User } from '../../gateway/identity/entities';
import { openConsentDatabase } from '../../consent/database';
import { grantConsent } from '../../consent/consents';
import { ProjectMember } from '../../consent/entities';
import { Device, DeviceReading } from '../../subgraphs/devices/entities';
import { Enrolment } from '../../subgraphs/research/entities';
import { ledgerEventFromOutbox } from '../../ledger/core/leaf';
import { loadLedgerNoteKey } from '../../ledger/core/note-key';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { OutboxEvent } from '../../ledger/pipeline/outbox';
import { rejectedRowEvent } from '../../ledger/pipeline/relay';
import { appendEvents } from '../../ledger/store/append';
import { openLedgerDatabase } from '../../ledger/store/database';
import { startGatewayHub, type GatewayHub } from '../support/gateway-hub';
import { gql, ok } from '../support/graphql';
import { fhirGet, r4Errors, type FhirResponse } from './support';

let hub: GatewayHub;
let base: string;
let consentDb: DataSource;
let ledger: DataSource;
/** A member of `study` who sees subjects in it, and a researcher who is not a member. */
let member: string;
let outsider: string;
let study: string; // FHIR id of the project

const fhirId = (hubId: string) => hubId.replace('_', '-');

function expectValid(resource: Record<string, unknown>) {
  expect([resource.resourceType, resource.id, r4Errors(resource)]).toEqual([resource.resourceType, resource.id, []]);
}

function expectOutcome(res: FhirResponse, status: number, code: string) {
  expect([res.status, res.body.resourceType, res.body.issue?.[0]?.code]).toEqual([status, 'OperationOutcome', code]);
  expect(res.contentType).toMatch(/^application\/fhir\+json/);
  expectValid(res.body);
}

/** A searchset, and each of its entries, validate; answers the Bundle. */
async function bundle(url: string, token: string, headers: Record<string, string> = {}) {
  const res = await fhirGet(url, token, headers);
  expect([url, res.status, res.body.issue]).toEqual([url, 200, undefined]);
  expectValid(res.body);
  for (const e of res.body.entry ?? []) expectValid(e.resource);
  return res.body;
}

/** Follows `next` links from `url`; every page validates. Answers the resources and the totals seen. */
async function walk(url: string, token: string, headers: Record<string, string> = {}) {
  const resources: any[] = [];
  const totals: number[] = [];
  let next: string | undefined = url;
  while (next) {
    const page = await bundle(next, token, headers);
    resources.push(...(page.entry ?? []).map((e: any) => e.resource));
    if (page.total !== undefined) totals.push(page.total);
    next = page.link.find((l: any) => l.relation === 'next')?.url;
  }
  return { resources, totals };
}

beforeAll(async () => {
  hub = await startGatewayHub({ patients: 30 });
  base = `${hub.gateway.url}/fhir/R4`;
  consentDb = await openConsentDatabase(hub.database.env);
  ledger = await openLedgerDatabase(hub.database.env);
  // A project one of whose members sees a subject (seeded consents open it), and a researcher who is not a member.
  const researchers = await hub.gateway.db.getRepository(User).find({ where: { role: 'researcher' }, order: { username: 'ASC' } });
  const memberships = await consentDb.getRepository(ProjectMember).find({ order: { projectId: 'ASC' } });
  let projectId = '';
  for (const m of memberships) {
    const user = researchers.find((u) => u.practitionerId === m.practitionerId);
    if (!user) continue;
    const token = (await hub.token({ username: user.username })).token;
    const res = await fhirGet(`${base}/ResearchSubject?study=ResearchStudy/${fhirId(m.projectId)}&_count=1`, token);
    if (res.status === 200 && res.body.total >= 1) {
      member = token;
      projectId = m.projectId;
      const notMember = researchers.find((u) => !memberships.some((x) => x.projectId === m.projectId && x.practitionerId === u.practitionerId))!;
      outsider = (await hub.token({ username: notMember.username })).token;
      break;
    }
  }
  expect(projectId).not.toBe('');
  study = fhirId(projectId);
  // Three more subjects, as a patient does it: enrolled, and a consent that opens the
  // project (labs, devices, research), two of them patients with device readings.
  const research = hub.subgraphs.research.db;
  const enrolled = new Set((await research.getRepository(Enrolment).findBy({ projectId })).map((e) => e.patientId));
  const devicesDb = hub.subgraphs.devices.db;
  const withReadings = new Set<string>();
  for (const d of await devicesDb.getRepository(Device).find()) if (await devicesDb.getRepository(DeviceReading).existsBy({ deviceId: d.id })) withReadings.add(d.ownerPatientId);
  const patientUsers = (await hub.gateway.db.getRepository(User).find({ where: { role: 'patient' }, order: { username: 'ASC' } })).filter((u) => u.patientId && !enrolled.has(u.patientId));
  const chosen = [...patientUsers.filter((u) => withReadings.has(u.patientId!)).slice(0, 2), ...patientUsers.filter((u) => !withReadings.has(u.patientId!)).slice(0, 1)];
  expect(chosen).toHaveLength(3);
  for (const [i, u] of chosen.entries()) {
    await research.getRepository(Enrolment).insert({ id: `enr_fhir${String(i).padStart(16, '0')}`, projectId, patientId: u.patientId!, enrolledAt: new Date(Date.UTC(2026, 1, 1 + i)), status: 'ACTIVE' });
    await grantConsent(
      consentDb,
      { patientId: u.patientId!, grantee: { kind: 'project', id: projectId }, categories: ['LABS', 'DEVICES', 'RESEARCH'], actions: ['read'], purposes: ['RESEARCH'], effect: 'permit', exceptions: [] },
      u.id,
    );
  }
}, 180_000);

afterAll(async () => {
  await consentDb?.destroy();
  await ledger?.destroy();
  await hub?.close();
});

describe('ResearchStudy and ResearchSubject', () => {
  test('studies are public, valid, and page with next links and total', async () => {
    const { resources, totals } = await walk(`${base}/ResearchStudy?_count=1`, outsider);
    expect(resources.length).toBeGreaterThan(1);
    expect(new Set(totals)).toEqual(new Set([resources.length]));
    const one = (await fhirGet(`${base}/ResearchStudy/${study}`, outsider)).body;
    expectValid(one);
    expect(one).toMatchObject({ resourceType: 'ResearchStudy', id: study, principalInvestigator: { reference: expect.stringMatching(/^Practitioner\/prac-/) } });
    expectOutcome(await fhirGet(`${base}/ResearchStudy/proj-00000000000000000000`, outsider), 404, 'not-found');
  });

  test("a member sees the study's subjects by pseudonym only: no patient id or name anywhere, valid R4, readable by their opaque id", async () => {
    const { resources, totals } = await walk(`${base}/ResearchSubject?study=ResearchStudy/${study}&_count=2`, member);
    expect(resources.length).toBeGreaterThanOrEqual(3);
    expect(new Set(totals)).toEqual(new Set([resources.length]));
    expect(new Set(resources.map((r) => r.id)).size).toBe(resources.length);
    for (const s of resources) {
      expect(s.id).toMatch(/^rs-[0-9a-f]+-[A-Za-z0-9\-.]{22}$/);
      expect(s.study.reference).toBe(`ResearchStudy/${study}`);
      expect(s.individual.reference).toBeUndefined();
      expect(s.individual.identifier.value).toMatch(/^psn_/);
      expect(JSON.stringify(s)).not.toMatch(/pat[-_][0-9a-f]/);
    }
    const read = await fhirGet(`${base}/ResearchSubject/${resources[0].id}`, member);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(resources[0]);
    const byId = await bundle(`${base}/ResearchSubject?_id=${resources[0].id}`, member);
    expect(byId.total).toBe(1);
  });

  test('a researcher outside the project gets nothing: a hidden subject and an unknown one answer the same', async () => {
    const subject = (await bundle(`${base}/ResearchSubject?study=ResearchStudy/${study}&_count=1`, member)).entry[0].resource.id;
    const unknown = `rs-${study.slice(5)}-AAAAAAAAAAAAAAAAAAAAAA`;
    const hidden = await fhirGet(`${base}/ResearchSubject/${subject}`, outsider);
    const none = await fhirGet(`${base}/ResearchSubject/${unknown}`, outsider);
    expectOutcome(hidden, 404, 'not-found');
    expectOutcome(none, 404, 'not-found');
    expect(hidden.body.issue[0].diagnostics.replace(subject, 'X')).toBe(none.body.issue[0].diagnostics.replace(unknown, 'X'));
    // The member, too, cannot tell an unknown pseudonym from a hidden one.
    expectOutcome(await fhirGet(`${base}/ResearchSubject/${unknown}`, member), 404, 'not-found');
    const list = await fhirGet(`${base}/ResearchSubject?study=ResearchStudy/${study}`, outsider);
    const unknownStudy = await fhirGet(`${base}/ResearchSubject?study=ResearchStudy/proj-00000000000000000000`, outsider);
    expectOutcome(list, 403, 'forbidden');
    expect(list.body).toEqual(unknownStudy.body);
    const series = await fhirGet(`${base}/Observation?subject=ResearchSubject/${subject}`, outsider);
    const unknownSeries = await fhirGet(`${base}/Observation?subject=ResearchSubject/${unknown}`, outsider);
    expectOutcome(series, 403, 'forbidden');
    expect(series.body).toEqual(unknownSeries.body);
  });

  test("a subject's lab results and readings over time: Observations focused on the ResearchSubject, pseudonymous, valid, oldest first", async () => {
    const subjects = (await walk(`${base}/ResearchSubject?study=ResearchStudy/${study}&_count=50`, member)).resources;
    let found: { subject: string; obs: any[]; totals: number[] } | null = null;
    for (const s of subjects) {
      const { resources, totals } = await walk(`${base}/Observation?subject=ResearchSubject/${s.id}&_count=50`, member);
      if (resources.some((o) => o.category[0].coding[0].code === 'laboratory')) {
        found = { subject: s.id, obs: resources, totals };
        if (resources.some((o) => o.category[0].coding[0].code === 'vital-signs')) break;
      }
    }
    expect(found).not.toBeNull();
    const { subject, obs, totals } = found!;
    expect(new Set(totals)).toEqual(new Set([obs.length]));
    expect(new Set(obs.map((o) => o.id)).size).toBe(obs.length);
    const times = obs.map((o) => Date.parse(o.effectiveDateTime));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const o of obs) {
      expect(o.focus).toEqual([{ reference: `ResearchSubject/${subject}` }]);
      expect(o.subject.reference).toBeUndefined();
      expect(o.subject.identifier.value).toMatch(/^psn_/);
      expect(o.device).toBeUndefined();
      // No patient, result, reading or device id.
      expect(JSON.stringify(o)).not.toMatch(/(pat|lab|rdg|dev)[-_][0-9a-f]{8}/);
    }
    // The same series, fetched by another page size and by a date window, agrees.
    const small = await walk(`${base}/Observation?subject=ResearchSubject/${subject}&_count=3&_sort=date`, member);
    expect(small.resources.map((o) => o.id)).toEqual(obs.map((o) => o.id));
    const mid = obs[Math.floor(obs.length / 2)].effectiveDateTime.slice(0, 10);
    const late = await walk(`${base}/Observation?subject=ResearchSubject/${subject}&date=ge${mid}&_count=100`, member);
    expect(late.resources.map((o) => o.id)).toEqual(obs.filter((o) => o.effectiveDateTime.slice(0, 10) >= mid).map((o) => o.id));
    const labs = await walk(`${base}/Observation?subject=ResearchSubject/${subject}&category=laboratory&_count=100`, member);
    expect(labs.resources.map((o) => o.id)).toEqual(obs.filter((o) => o.category[0].coding[0].code === 'laboratory').map((o) => o.id));
    // Search only: a research Observation's id reads as unknown (it names no record), and _id finds nothing.
    expectOutcome(await fhirGet(`${base}/Observation/${obs[0].id}`, member), 404, 'not-found');
    expect((await bundle(`${base}/Observation?_id=${obs[0].id}`, member)).total).toBe(0);
    // Refused, not ignored: newest first (the series is a time series) and a cursor of another subject.
    expectOutcome(await fhirGet(`${base}/Observation?subject=ResearchSubject/${subject}&_sort=-date`, member), 400, 'not-supported');
    const other = subjects.find((s) => s.id !== subject)!.id;
    const nextOfOther = (await bundle(`${base}/Observation?subject=ResearchSubject/${other}&_count=1`, member)).link.find((l: any) => l.relation === 'next')?.url;
    // A forged continuation (a cursor the labs subgraph did not seal) is a 400, not an empty series.
    const forged = Buffer.from(JSON.stringify({ v: 1, rs: subject, total: 1, labs: 'forged', readings: null })).toString('base64url');
    expectOutcome(await fhirGet(`${base}/Observation?subject=ResearchSubject/${subject}&_cursor=${forged}`, member), 400, 'invalid');
    if (nextOfOther) {
      const cursor = new URL(nextOfOther).searchParams.get('_cursor');
      expectOutcome(await fhirGet(`${base}/Observation?subject=ResearchSubject/${subject}&_cursor=${cursor}`, member), 400, 'invalid');
    }
  });

  test('fhir-kit-client pages through a research search', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Client = require('fhir-kit-client');
    const client = new Client({ baseUrl: base, customHeaders: { authorization: `Bearer ${member}` } });
    let page = await client.search({ resourceType: 'ResearchSubject', searchParams: { study: `ResearchStudy/${study}`, _count: 2 } });
    const subjects: string[] = page.entry.map((e: any) => e.resource.id);
    while (page.link.some((l: any) => l.relation === 'next')) {
      page = await client.nextPage({ bundle: page });
      subjects.push(...page.entry.map((e: any) => e.resource.id));
    }
    expect(subjects.length).toBe(page.total);
    let obs = await client.search({ resourceType: 'Observation', searchParams: { subject: `ResearchSubject/${subjects[0]}`, _count: 5 } });
    const ids: string[] = obs.entry.map((e: any) => e.resource.id);
    while (obs.link.some((l: any) => l.relation === 'next')) {
      obs = await client.nextPage({ bundle: obs });
      ids.push(...obs.entry.map((e: any) => e.resource.id));
    }
    expect(ids.length).toBe(obs.total);
    expect(new Set(ids).size).toBe(ids.length);
    await expect(client.read({ resourceType: 'ResearchSubject', id: subjects[0] })).resolves.toMatchObject({ id: subjects[0] });
  });
});

describe('AuditEvent from the ledger', () => {
  let compliance: string;
  let patient: { token: string; id: string };
  let clinician: string;
  const OPERATIONS = { 'x-purpose-of-use': 'OPERATIONS' };

  beforeAll(async () => {
    // Accesses to one patient's data by their clinician, then the outboxes appended to the
    // ledger as the relay and worker would, and a checkpoint signed over them.
    const doctor = await hub.token({ role: 'clinician' });
    clinician = doctor.token;
    const pats = (await bundle(`${base}/Patient?_count=10`, clinician)).entry.map((e: any) => e.resource.id);
    const users = await hub.gateway.db.getRepository(User).find({ where: { role: 'patient' } });
    const owner = users.find((u) => pats.includes(fhirId(u.patientId!)))!;
    patient = { token: (await hub.token({ username: owner.username })).token, id: fhirId(owner.patientId!) };
    for (let i = 0; i < 3; i++) await bundle(`${base}/Observation?patient=Patient/${patient.id}&_count=2`, clinician);
    await bundle(`${base}/Observation?patient=Patient/${patient.id}&_count=2`, patient.token);
    // An event about the patient that is not an access: a consent they grant.
    ok(
      await gql(`${hub.gateway.url}/graphql`, 'mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id } }', {
        input: { patientId: owner.patientId, grantee: { kind: 'PRACTITIONER', id: doctor.user.practitionerId }, categories: ['LABS'], purposes: ['TREATMENT'] },
      }, { authorization: `Bearer ${patient.token}` }),
    );
    const events = [];
    // Every outbox: the subgraphs' and the consent database's (consents, break-the-glass).
    for (const db of [...Object.values(hub.subgraphs).map((s) => s.db), consentDb]) {
      const rows = await db.getRepository(OutboxEvent).find({ order: { createdAt: 'ASC', id: 'ASC' } });
      events.push(...rows.map((r) => ledgerEventFromOutbox(r)));
    }
    // An outbox row that was not a valid event, as the relay ledgers it: its stand-in's id (evt_rej_…) is not a FHIR id as it is.
    events.push(rejectedRowEvent('labs', { id: 'row-7', kind: 'Not A Kind', payload: '{', created_at: new Date().toISOString() }, new Date()));
    await appendEvents(ledger, events);
    await publishCheckpoint(ledger, loadLedgerNoteKey({ dataDir: hub.database.env.DATA_DIR, name: 'custodian.test/fhir' }), 'custodian.test/fhir');
    compliance = (await hub.token({ role: 'compliance' })).token;
  }, 60_000);

  test('compliance sees every event, BALP-shaped, valid, each with its leaf index and a working inclusion proof URL', async () => {
    const page = await bundle(`${base}/AuditEvent?_count=20`, compliance, OPERATIONS);
    expect(page.entry.length).toBe(20);
    expect(page.link.some((l: any) => l.relation === 'next')).toBe(true);
    const reads = page.entry.map((e: any) => e.resource).filter((a: any) => a.type.code === 'rest');
    expect(reads.length).toBeGreaterThan(0);
    for (const a of reads) {
      expect(a.subtype[0].code).toBe('read');
      expect(a.action).toBe('R');
      expect(a.agent.find((g: any) => g.requestor).who.identifier.value).toMatch(/^usr_/);
      expect(a.entity[0].role.code).toBe('1');
    }
    const leaf = reads[0].entity.find((x: any) => x.detail);
    const index = Number(leaf.detail.find((d: any) => d.type === 'leafIndex').valueString);
    const proofUrl = leaf.detail.find((d: any) => d.type === 'inclusionProof').valueString;
    expect(proofUrl).toMatch(new RegExp(`/ledger/proof/inclusion\\?index=${index}&treeSize=\\d+$`));
    const proof = await fetch(proofUrl);
    expect(proof.status).toBe(200);
    expect(((await proof.json()) as any).leafIndex).toBe(index);
    // Paging: the next page continues below the last leaf index, without repeats.
    const next = await bundle(page.link.find((l: any) => l.relation === 'next').url, compliance, OPERATIONS);
    const indexOf = (a: any) => Number(a.entity.find((x: any) => x.detail).detail[0].valueString);
    const first = page.entry.map((e: any) => indexOf(e.resource));
    const second = next.entry.map((e: any) => indexOf(e.resource));
    expect(Math.min(...first)).toBeGreaterThan(Math.max(...second));
  });

  test('every event in the ledger, of every kind, is valid R4 through the whole trail', async () => {
    const { resources, totals } = await walk(`${base}/AuditEvent?_count=100`, compliance, OPERATIONS);
    expect(totals).toEqual([]); // the whole trail is not counted (events the AUDIT policy withholds must not be)
    const leaves = resources.map((a) => Number(a.entity.find((x: any) => x.detail).detail[0].valueString));
    expect(leaves).toEqual([...leaves].sort((a, b) => b - a));
    expect(new Set(leaves).size).toBe(leaves.length);
    expect(resources.length).toBe(Number(await ledger.query('SELECT COUNT(*) AS n FROM ledger_leaf').then((r: any) => r[0].n)));
  });

  test('date ge/le bound the events; a patient filter keeps one patient', async () => {
    const { resources: all, totals } = await walk(`${base}/AuditEvent?patient=Patient/${patient.id}&_count=7`, compliance, OPERATIONS);
    expect(all.length).toBeGreaterThan(7);
    expect(new Set(totals)).toEqual(new Set([all.length]));
    for (const a of all) expect(a.entity[0].what.reference).toBe(`Patient/${patient.id}`);
    const at = all[0].recorded;
    const ge = (await walk(`${base}/AuditEvent?patient=Patient/${patient.id}&date=ge${at}&_count=100`, compliance, OPERATIONS)).resources;
    const lt = (await walk(`${base}/AuditEvent?patient=Patient/${patient.id}&date=lt${at}&_count=100`, compliance, OPERATIONS)).resources;
    expect(ge.length + lt.length).toBe(all.length);
    for (const a of ge) expect(a.recorded >= at).toBe(true);
    for (const a of lt) expect(a.recorded < at).toBe(true);
  });

  test('_sort=date pages oldest first through the same events (-date, the default, newest first)', async () => {
    // Page sizes that do not divide each other, so the pages' edges differ between the orders.
    for (const [url, token, headers, size] of [
      [`${base}/AuditEvent?patient=Patient/${patient.id}`, compliance, OPERATIONS, 4],
      [`${base}/AuditEvent`, patient.token, {}, 4],
      [`${base}/AuditEvent`, compliance, OPERATIONS, 40],
    ] as const) {
      const join = url.includes('?') ? '&' : '?';
      const newest = await walk(`${url}${join}_count=${size}`, token, headers);
      const explicit = await walk(`${url}${join}_sort=-date&_count=${size}`, token, headers);
      const oldest = await walk(`${url}${join}_sort=date&_count=${size - 1}`, token, headers);
      expect(newest.resources.length).toBeGreaterThan(size);
      expect(explicit.resources.map((a) => a.id)).toEqual(newest.resources.map((a) => a.id));
      expect(oldest.resources.map((a) => a.id)).toEqual(newest.resources.map((a) => a.id).reverse());
      expect(new Set(oldest.totals)).toEqual(new Set(newest.totals));
    }
  });

  test('a patient sees only the accesses to their own data, by others', async () => {
    const { resources: own, totals } = await walk(`${base}/AuditEvent?_count=2`, patient.token);
    expect(own.length).toBeGreaterThan(2);
    expect(new Set(totals)).toEqual(new Set([own.length]));
    for (const a of own) {
      expect(a.entity[0].what.reference).toBe(`Patient/${patient.id}`);
      expect(a.agent.find((g: any) => g.requestor).role[0].text).not.toBe('patient');
    }
    const explicit = (await walk(`${base}/AuditEvent?patient=Patient/${patient.id}&_count=50`, patient.token)).resources;
    expect(explicit.map((a) => a.id)).toEqual(own.map((a) => a.id));
    // Another patient's events: the same refusal as an unknown patient's.
    const other = (await bundle(`${base}/Patient?_count=10`, clinician)).entry.map((e: any) => e.resource.id).find((id: string) => id !== patient.id);
    const theirs = await fhirGet(`${base}/AuditEvent?patient=Patient/${other}`, patient.token);
    const unknown = await fhirGet(`${base}/AuditEvent?patient=Patient/pat-00000000000000000000`, patient.token);
    expectOutcome(theirs, 403, 'forbidden');
    expect(theirs.body).toEqual(unknown.body);
  });

  test("a clinician cannot read AuditEvents of others (nor the whole trail)", async () => {
    expectOutcome(await fhirGet(`${base}/AuditEvent?patient=Patient/${patient.id}`, clinician), 403, 'forbidden');
    expectOutcome(await fhirGet(`${base}/AuditEvent`, clinician), 400, 'invalid');
    // Compliance without OPERATIONS: refused by the audit subgraph, not served.
    expectOutcome(await fhirGet(`${base}/AuditEvent`, compliance, { 'x-purpose-of-use': 'TREATMENT' }), 403, 'forbidden');
  });

  test('an event is read by id by whoever could find it by searching — compliance, the patient for accesses to them — and is a 404, as unknown, to anyone else', async () => {
    const { resources: trail } = await walk(`${base}/AuditEvent?patient=Patient/${patient.id}&_count=100`, compliance, OPERATIONS);
    const byOthers = trail.find((a) => a.type.code === 'rest' && a.agent.find((g: any) => g.requestor).role[0].text === 'clinician');
    const ownRead = trail.find((a) => a.type.code === 'rest' && a.agent.find((g: any) => g.requestor).role[0].text === 'patient');
    const notAnAccess = trail.find((a) => a.type.code !== 'rest');
    expect([byOthers?.id, ownRead?.id, notAnAccess?.type.code]).toEqual([expect.stringMatching(/^evt-/), expect.stringMatching(/^evt-/), expect.any(String)]);

    const read = async (id: string, token: string, headers: Record<string, string> = {}) => fhirGet(`${base}/AuditEvent/${id}`, token, headers);
    // Compliance reads any of them: the same resource the search gave.
    for (const a of [byOthers, ownRead, notAnAccess]) {
      const res = await read(a.id, compliance, OPERATIONS);
      expect(res.status).toBe(200);
      expectValid(res.body);
      expect(res.body).toEqual(a);
    }
    // The patient reads the accesses to their data (their own reads too), not the other events about them.
    for (const a of [byOthers, ownRead]) expect((await read(a.id, patient.token)).body).toEqual(a);
    const unknown = await read('evt-00000000000000000000', patient.token);
    expectOutcome(unknown, 404, 'not-found');
    const hidden = await read(notAnAccess.id, patient.token);
    expectOutcome(hidden, 404, 'not-found');
    expect(hidden.body.issue[0].diagnostics.replace(notAnAccess.id, 'X')).toBe(unknown.body.issue[0].diagnostics.replace('evt-00000000000000000000', 'X'));
    // Another patient's events, and the clinician (even for their own access): 404.
    const { resources: others } = await walk(`${base}/AuditEvent?_count=100`, compliance, OPERATIONS);
    const otherPatients = others.find((a) => a.type.code === 'rest' && a.entity[0].what.reference !== `Patient/${patient.id}`);
    expect(otherPatients).toBeDefined();
    expectOutcome(await read(otherPatients.id, patient.token), 404, 'not-found');
    expectOutcome(await read(byOthers.id, clinician), 404, 'not-found');
    // Compliance claiming another purpose is refused before any data is read, whatever the id (gateway/runtime/purpose.ts).
    const refused = await read(byOthers.id, compliance, { 'x-purpose-of-use': 'TREATMENT' });
    expectOutcome(refused, 403, 'forbidden');
    expect(refused.body).toEqual((await read('evt-00000000000000000000', compliance, { 'x-purpose-of-use': 'TREATMENT' })).body);
    expectOutcome(await read('evt-00000000000000000000', compliance, OPERATIONS), 404, 'not-found');
    expectOutcome(await read('pat-00000000000000000000', compliance, OPERATIONS), 404, 'not-found');
    // An event whose id FHIR cannot hold as it is (a rejected outbox row's stand-in): in the trail, and read by its FHIR id.
    const rejected = others.find((a) => a.type.code === 'outbox.rejected');
    expect(rejected?.id).toMatch(/^x\.evt\.rej\.[0-9a-f]{24}$/);
    expect((await read(rejected.id, compliance, OPERATIONS)).body).toEqual(rejected);
    expectOutcome(await read(rejected.id, patient.token), 404, 'not-found');
    // _id is the same read, as a searchset: hidden and unknown are empty alike.
    const byId = await bundle(`${base}/AuditEvent?_id=${byOthers.id}`, patient.token);
    expect([byId.total, byId.entry[0].resource]).toEqual([1, byOthers]);
    const none = await bundle(`${base}/AuditEvent?_id=${byOthers.id}`, clinician);
    expect([none.total, none.entry]).toEqual([0, undefined]); // FHIR JSON has no empty arrays: no `entry` at all
  });

  test('unsupported parameters and interactions are refused with 400/405, not ignored', async () => {
    expectOutcome(await fhirGet(`${base}/AuditEvent?_sort=patient`, compliance, OPERATIONS), 400, 'not-supported');
    expectOutcome(await fhirGet(`${base}/AuditEvent?agent=Practitioner/prac-1`, compliance, OPERATIONS), 400, 'not-supported');
    expectOutcome(await fhirGet(`${base}/AuditEvent?date=ne2026-01-01`, compliance, OPERATIONS), 400, 'not-supported');
    expectOutcome(await fhirGet(`${base}/ResearchStudy?title=diabetes`, member), 400, 'not-supported');
    expectOutcome(await fhirGet(`${base}/ResearchSubject?study=ResearchStudy/${study}&status=on-study`, member), 400, 'not-supported');
    expectOutcome(await fhirGet(`${base}/ResearchSubject`, member), 400, 'invalid');
  });
});

describe('paging on the short lists', () => {
  test('Organization, Practitioner, Device and Consent searchsets carry total and next links that walk every match once', async () => {
    const clinician = await hub.token({ role: 'clinician' });
    const orgs = await walk(`${base}/Organization?_count=1`, clinician.token);
    expect(orgs.resources.length).toBeGreaterThan(1);
    expect(new Set(orgs.totals)).toEqual(new Set([orgs.resources.length]));
    expect(new Set(orgs.resources.map((o) => o.id)).size).toBe(orgs.resources.length);
    const pracs = await walk(`${base}/Practitioner?organization=Organization/${fhirId(clinician.user.institutionId!)}&_count=1`, clinician.token);
    expect(pracs.resources.length).toBeGreaterThan(1);
    expect(new Set(pracs.totals)).toEqual(new Set([pracs.resources.length]));
    // The patient who owns the most devices, reading their own.
    const owners = new Map<string, number>();
    for (const d of await hub.subgraphs.devices.db.getRepository(Device).find()) owners.set(d.ownerPatientId, (owners.get(d.ownerPatientId) ?? 0) + 1);
    const [owner, count] = [...owners].sort((x, y) => y[1] - x[1])[0]!;
    const ownerUser = (await hub.gateway.db.getRepository(User).findOneByOrFail({ patientId: owner })).username;
    const devices = await walk(`${base}/Device?patient=Patient/${fhirId(owner)}&_count=1`, (await hub.token({ username: ownerUser })).token);
    expect(devices.resources.length).toBe(count);
    expect(new Set(devices.totals)).toEqual(new Set([count]));
    const patient = await hub.token({ role: 'patient' });
    const consents = await walk(`${base}/Consent?patient=Patient/${fhirId(patient.user.patientId!)}&_count=1`, patient.token);
    expect(consents.resources.length).toBeGreaterThan(0);
    expect(new Set(consents.totals)).toEqual(new Set([consents.resources.length]));
    for (const c of consents.resources) expect(c.policyRule ?? c.policy).toBeDefined();
    // The GraphQL `Consent.fhir` of each is the very same resource (one mapping, consent/fhir.ts).
    const graphql = await fetch(`${hub.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${patient.token}` },
      body: JSON.stringify({ query: 'query($id: ID!) { patient(id: $id) { consents { id fhir } } }', variables: { id: patient.user.patientId } }),
    });
    const served = ((await graphql.json()) as any).data.patient.consents.map((c: any) => JSON.parse(c.fhir));
    expect(served.sort((a: any, b: any) => (a.id < b.id ? -1 : 1))).toEqual([...consents.resources].sort((a, b) => (a.id < b.id ? -1 : 1)));
    expectOutcome(await fhirGet(`${base}/Organization?_cursor=${Buffer.from(JSON.stringify({ v: 1, offset: -1 })).toString('base64url')}`, clinician.token), 400, 'invalid');
  });
});
