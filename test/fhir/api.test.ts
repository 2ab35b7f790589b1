/**
 * The FHIR R4 API against a real seeded hub (gateway and five subgraphs over HTTP, real
 * databases): every resource type it returns validates against the official R4
 * StructureDefinitions, and the same gate as GraphQL applies — no token, no consent,
 * revoked consent, unknown ids — with the decisions in the outboxes the ledger reads.
 */
import { User } from '../../gateway/identity/entities';
import { startGatewayHub, type GatewayHub } from '../support/gateway-hub';
import { gql, ok } from '../support/graphql';
import { fhirGet, r4Errors } from './support';

let hub: GatewayHub;
let base: string;
let clinician: { token: string; user: { id: string; institutionId: string | null; practitionerId: string | null } };
let patientId: string; // a FHIR id of a patient of the clinician's institution

const fhirId = (hubId: string) => hubId.replace('_', '-');

beforeAll(async () => {
  hub = await startGatewayHub();
  base = `${hub.gateway.url}/fhir/R4`;
  clinician = (await hub.token({ role: 'clinician' })) as typeof clinician;
  const res = await fhirGet(`${base}/Patient?_count=5`, clinician.token);
  expect(res.status).toBe(200);
  patientId = res.body.entry.find((e: any) => e.resource.name)!.resource.id;
}, 120_000);
afterAll(async () => hub?.close());

/** Clinicians of other institutions than `institutionId`: no base policy lets them see its patients. */
async function cliniciansOutside(institutionId: string): Promise<User[]> {
  const all = await hub.gateway.db.getRepository(User).find({ where: { role: 'clinician' }, order: { username: 'ASC' } });
  return all.filter((u) => u.institutionId !== institutionId);
}

function expectValid(resource: Record<string, unknown>) {
  expect([resource.resourceType, r4Errors(resource)]).toEqual([resource.resourceType, []]);
}

function expectOutcome(res: { status: number; contentType: string | null; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.contentType).toMatch(/^application\/fhir\+json/);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].code).toBe(code);
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack
  expectValid(res.body);
}

test('the CapabilityStatement lists exactly the types, interactions and parameters served, and is valid R4', async () => {
  const res = await fhirGet(`${base}/metadata`);
  expect(res.status).toBe(200);
  expect(res.contentType).toMatch(/^application\/fhir\+json/);
  expectValid(res.body);
  const resources = res.body.rest[0].resource;
  expect(resources.map((r: any) => r.type)).toEqual(['Patient', 'Observation', 'Device', 'Consent', 'Organization', 'Practitioner', 'ResearchStudy', 'ResearchSubject', 'AuditEvent']);
  const interactions = Object.fromEntries(resources.map((r: any) => [r.type, r.interaction.map((i: any) => i.code).join(',')]));
  expect(new Set(Object.values(interactions))).toEqual(new Set(['read,search-type'])); // every type, AuditEvent included
  const params = (type: string) => resources.find((r: any) => r.type === type).searchParam.map((p: any) => p.name).sort();
  expect(params('ResearchStudy')).toEqual(['_count', '_id']);
  expect(params('ResearchSubject')).toEqual(['_count', '_id', 'study']);
  expect(params('AuditEvent')).toEqual(['_count', '_id', '_sort', 'date', 'patient']);
  const obs = resources.find((r: any) => r.type === 'Observation');
  expect(obs.interaction.map((i: any) => i.code)).toEqual(['read', 'search-type']);
  expect(obs.searchParam.map((p: any) => p.name).sort()).toEqual(['_count', '_id', '_sort', 'category', 'code', 'date', 'patient', 'subject']);
  // Every parameter it declares is accepted; one it does not is refused (below).
  for (const r of resources) for (const p of r.searchParam) expect(typeof p.documentation).toBe('string');
});

test('no token: 401 OperationOutcome; a bad token likewise; an unknown type 404; XML 406; POST 405', async () => {
  expectOutcome(await fhirGet(`${base}/Patient/${patientId}`), 401, 'login');
  expectOutcome(await fhirGet(`${base}/Observation?patient=${patientId}`, 'cus_not-a-token'), 401, 'login');
  expectOutcome(await fhirGet(`${base}/Medication`, clinician.token), 404, 'not-supported');
  expectOutcome(await fhirGet(`${base}/Patient/${patientId}`, clinician.token, { accept: 'application/fhir+xml' }), 406, 'not-supported');
  const post = await fetch(`${base}/Patient`, { method: 'POST', headers: { authorization: `Bearer ${clinician.token}`, 'content-type': 'application/fhir+json' }, body: '{}' });
  expect(post.status).toBe(405);
  expect(((await post.json()) as any).resourceType).toBe('OperationOutcome');
});

test('unsupported parameters, modifiers, bad dates and bad cursors are refused with 400, not ignored', async () => {
  const t = clinician.token;
  expectOutcome(await fhirGet(`${base}/Observation?patient=${patientId}&value-quantity=gt5`, t), 400, 'not-supported');
  expectOutcome(await fhirGet(`${base}/Observation?patient=${patientId}&code:text=glucose`, t), 400, 'not-supported');
  expectOutcome(await fhirGet(`${base}/Observation?patient=${patientId}&date=ge2024-13-45`, t), 400, 'invalid');
  expectOutcome(await fhirGet(`${base}/Observation?patient=${patientId}&date=ne2024-01-01`, t), 400, 'not-supported');
  expectOutcome(await fhirGet(`${base}/Observation?patient=${patientId}&_count=1000`, t), 400, 'invalid');
  expectOutcome(await fhirGet(`${base}/Observation?patient=${patientId}&_cursor=eyJ2IjoxfQ`, t), 400, 'invalid');
  expectOutcome(await fhirGet(`${base}/Observation?category=laboratory`, t), 400, 'invalid');
  expectOutcome(await fhirGet(`${base}/Patient?_sort=date`, t), 400, 'not-supported');
});

test('every resource type the API returns, from the seeded hub, is valid R4 (and so are the Bundles)', async () => {
  const t = clinician.token;
  const seen = new Set<string>();
  const check = async (url: string, token = t) => {
    const res = await fhirGet(url, token);
    expect([url, res.status]).toEqual([url, 200]);
    expectValid(res.body);
    if (res.body.resourceType === 'Bundle') for (const e of res.body.entry ?? []) (expectValid(e.resource), seen.add(e.resource.resourceType));
    else seen.add(res.body.resourceType);
    return res.body;
  };
  await check(`${base}/Patient/${patientId}`);
  const labs = await check(`${base}/Observation?patient=${patientId}&category=laboratory&_count=50`);
  expect(labs.entry.length).toBeGreaterThan(0);
  for (const e of labs.entry) {
    const o = e.resource;
    expect(o.category[0].coding[0].code).toBe('laboratory');
    expect(o.code.coding[0].system).toBe('http://loinc.org');
    expect(o.valueQuantity.system).toBe('http://unitsofmeasure.org');
    expect(o.performer[0].reference).toMatch(/^Organization\/inst-/);
    expect(o.interpretation[0].coding[0].code).toMatch(/^(L|N|H|LL|HH)$/);
  }
  await check(`${base}/Observation/${labs.entry[0].resource.id}`);
  // A patient with devices: vital-signs readings with their device.
  const patients = await check(`${base}/Patient?_count=30`);
  let vitals: any = null;
  for (const e of patients.entry) {
    const devices = await check(`${base}/Device?patient=Patient/${e.resource.id}`);
    if (devices.total > 0) {
      await check(`${base}/Device/${devices.entry[0].resource.id}`);
      vitals = await check(`${base}/Observation?subject=Patient/${e.resource.id}&category=vital-signs&_count=20`);
      break;
    }
  }
  expect(vitals?.entry.length).toBeGreaterThan(0);
  const codes = new Set(vitals.entry.flatMap((e: any) => e.resource.code.coding.map((c: any) => c.code)));
  for (const c of codes) expect(['8867-4', '2708-6', '59408-5', '99504-3']).toContain(c);
  for (const e of vitals.entry) expect(e.resource.device.reference).toMatch(/^Device\/dev-/);
  await check(`${base}/Observation/${vitals.entry[0].resource.id}`);
  const orgs = await check(`${base}/Organization`);
  await check(`${base}/Organization/${orgs.entry[0].resource.id}`);
  const practitioners = await check(`${base}/Practitioner?organization=Organization/${fhirId(clinician.user.institutionId!)}`);
  await check(`${base}/Practitioner/${practitioners.entry[0].resource.id}`);
  // Consents: the patient's own, with an exception as a nested deny provision.
  const patient = await hub.token({ role: 'patient' });
  const own = fhirId(patient.user.patientId!);
  ok(
    await gql(`${hub.gateway.url}/graphql`, 'mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id } }', {
      input: { patientId: patient.user.patientId, grantee: { kind: 'PRACTITIONER', id: clinician.user.practitionerId }, categories: ['LABS'], purposes: ['TREATMENT'], exceptions: [{ loincClass: 'HEM/BC' }] },
    }, { authorization: `Bearer ${patient.token}` }),
  );
  const consents = await check(`${base}/Consent?patient=Patient/${own}`, patient.token);
  const withException = consents.entry.map((e: any) => e.resource).find((c: any) => c.provision.provision);
  expect(withException.provision.provision[0].type).toBe('deny');
  expect(withException.policyRule).toBeDefined();
  await check(`${base}/Consent/${withException.id}`, patient.token);
  expect([...seen].sort()).toEqual(['Consent', 'Device', 'Observation', 'Organization', 'Patient', 'Practitioner']);
});

test('paging: next links walk every match once, in date order, and total agrees', async () => {
  const t = clinician.token;
  for (const [sort, newestFirst] of [['-date', true], ['date', false]] as const) {
    let url: string | undefined = `${base}/Observation?patient=${patientId}&_count=3&_sort=${sort}`;
    const ids: string[] = [];
    const dates: string[] = [];
    let total = -1;
    while (url) {
      const res = await fhirGet(url, t);
      expect(res.status).toBe(200);
      total = res.body.total;
      expect(res.body.link.find((l: any) => l.relation === 'self').url).toBe(url);
      for (const e of res.body.entry ?? []) (ids.push(e.resource.id), dates.push(e.resource.effectiveDateTime));
      url = res.body.link.find((l: any) => l.relation === 'next')?.url;
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(total);
    const sorted = [...dates].sort();
    expect(dates.map((d) => new Date(d).getTime())).toEqual((newestFirst ? sorted.reverse() : sorted).map((d) => new Date(d).getTime()));
  }
});

test('date ge/le bound the search in SQL, and a code narrows it', async () => {
  const t = clinician.token;
  const all = (await fhirGet(`${base}/Observation?patient=${patientId}&category=laboratory&_count=100`, t)).body;
  const dates = all.entry.map((e: any) => e.resource.effectiveDateTime).sort();
  const mid = dates[Math.floor(dates.length / 2)].slice(0, 10);
  const ge = (await fhirGet(`${base}/Observation?patient=${patientId}&category=laboratory&date=ge${mid}&_count=100`, t)).body;
  const le = (await fhirGet(`${base}/Observation?patient=${patientId}&category=laboratory&date=le${mid}&_count=100`, t)).body;
  for (const e of ge.entry) expect(e.resource.effectiveDateTime.slice(0, 10) >= mid).toBe(true);
  for (const e of le.entry) expect(e.resource.effectiveDateTime.slice(0, 10) <= mid).toBe(true);
  expect(ge.total).toBe(ge.entry.length);
  expect(ge.total + le.total).toBeGreaterThanOrEqual(all.total);
  const code = all.entry[0].resource.code.coding[0].code;
  const byCode = (await fhirGet(`${base}/Observation?patient=${patientId}&code=http://loinc.org|${code}&_count=100`, t)).body;
  expect(byCode.total).toBeGreaterThan(0);
  for (const e of byCode.entry) expect(e.resource.code.coding[0].code).toBe(code);
});

test('without consent: a hidden patient and an unknown one answer the same 404 on read and 403 on search', async () => {
  // A clinician of another institution has no consent to this patient.
  const stranger = await hub.token({ username: (await cliniciansOutside(clinician.user.institutionId!))[0]!.username });
  const hidden = await fhirGet(`${base}/Patient/${patientId}`, stranger.token);
  const unknown = await fhirGet(`${base}/Patient/pat-00000000000000000000`, stranger.token);
  expectOutcome(hidden, 404, 'not-found');
  expectOutcome(unknown, 404, 'not-found');
  expect(hidden.body.issue[0].diagnostics.replace(patientId, 'X')).toBe(unknown.body.issue[0].diagnostics.replace('pat-00000000000000000000', 'X'));
  const hiddenSearch = await fhirGet(`${base}/Observation?patient=${patientId}&category=laboratory`, stranger.token);
  const unknownSearch = await fhirGet(`${base}/Observation?patient=pat-00000000000000000000&category=laboratory`, stranger.token);
  expectOutcome(hiddenSearch, 403, 'forbidden');
  expectOutcome(unknownSearch, 403, 'forbidden');
  expect(hiddenSearch.body).toEqual(unknownSearch.body);
  // A lab result of the hidden patient, by id: the same 404 as an unknown one.
  const labs = (await fhirGet(`${base}/Observation?patient=${patientId}&category=laboratory&_count=1`, clinician.token)).body;
  expectOutcome(await fhirGet(`${base}/Observation/${labs.entry[0].resource.id}`, stranger.token), 404, 'not-found');
  expectOutcome(await fhirGet(`${base}/Observation/lab-00000000000000000000`, stranger.token), 404, 'not-found');
  // Searching by _id is a read: an empty searchset either way.
  const byId = await fhirGet(`${base}/Patient?_id=${patientId}`, stranger.token);
  expect([byId.status, byId.body.total]).toEqual([200, 0]);
});

test('a consent grants FHIR reads, its revocation withdraws them at once, and the ledger outboxes record both decisions with the FHIR request ids', async () => {
  const patient = await hub.token({ role: 'patient' });
  const own = fhirId(patient.user.patientId!);
  // A clinician with no base-policy access to this patient (another institution than the patient's).
  const patientRes = await fhirGet(`${base}/Patient/${own}`, patient.token);
  expect(patientRes.status).toBe(200);
  const home = patientRes.body.managingOrganization.reference.replace('Organization/inst-', 'inst_');
  const outsider = await hub.token({ username: (await cliniciansOutside(home))[0]!.username });
  const search = `${base}/Observation?patient=Patient/${own}&category=laboratory`;
  const before = await fhirGet(search, outsider.token);
  expectOutcome(before, 403, 'forbidden');

  const granted = ok(
    await gql<{ grantConsent: { id: string } }>(`${hub.gateway.url}/graphql`, 'mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id } }', {
      input: { patientId: patient.user.patientId, grantee: { kind: 'PRACTITIONER', id: (outsider.user as any).practitionerId }, categories: ['LABS'], purposes: ['TREATMENT'] },
    }, { authorization: `Bearer ${patient.token}` }),
  );
  const during = await fhirGet(search, outsider.token);
  expect(during.status).toBe(200);
  expect(during.body.total).toBeGreaterThan(0);

  ok(await gql(`${hub.gateway.url}/graphql`, 'mutation($id: ID!) { revokeConsent(id: $id) { status } }', { id: granted.grantConsent.id }, { authorization: `Bearer ${patient.token}` }));
  const after = await fhirGet(search, outsider.token);
  expectOutcome(after, 403, 'forbidden');

  // The decisions the FHIR reads caused, in the subgraphs' outboxes (what the ledger appends),
  // under the request ids the FHIR responses carried.
  const decisions: any[] = [];
  for (const s of Object.values(hub.subgraphs)) {
    const rows: { payload: string }[] = await s.db.query(`SELECT payload FROM outbox WHERE kind = 'access.decision'`);
    decisions.push(...rows.map((r) => JSON.parse(r.payload)));
  }
  const of = (requestId: string | null) => decisions.filter((d) => d.requestId === requestId && d.patientId === patient.user.patientId);
  expect(of(before.requestId).map((d) => d.decision)).toContain('deny');
  expect(of(during.requestId).filter((d) => d.category === 'LABS').map((d) => [d.decision, d.decidedBy])).toContainEqual(['permit', `consent:${granted.grantConsent.id}`]);
  expect(of(after.requestId).map((d) => d.decision)).toContain('deny');
  expect(of(after.requestId).map((d) => d.decision)).not.toContain('permit');
});

test('fhir-kit-client reads, searches and pages through the API', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Client = require('fhir-kit-client');
  const client = new Client({ baseUrl: base, customHeaders: { authorization: `Bearer ${clinician.token}` } });
  const meta = await client.capabilityStatement();
  expect(meta.resourceType).toBe('CapabilityStatement');
  const read = await client.read({ resourceType: 'Patient', id: patientId });
  expect(read.id).toBe(patientId);
  let page = await client.search({ resourceType: 'Observation', searchParams: { patient: patientId, _count: 4 } });
  const seen: string[] = page.entry.map((e: any) => e.resource.id);
  const total = page.total;
  while (client.nextPage && page.link.some((l: any) => l.relation === 'next')) {
    page = await client.nextPage({ bundle: page });
    seen.push(...page.entry.map((e: any) => e.resource.id));
  }
  expect(seen.length).toBe(total);
  expect(new Set(seen).size).toBe(total);
  await expect(client.read({ resourceType: 'Patient', id: 'pat-00000000000000000000' })).rejects.toMatchObject({ response: { status: 404 } });
});

test("FHIR reads count against the account's GraphQL rate limit: 429 OperationOutcome with Retry-After", async () => {
  const limited = await hub.gatewayWith({ RATE_LIMIT_GRAPHQL_PER_MINUTE: 3 });
  // An account no other test here uses: budgets are per account, shared through Redis.
  const researchers = await hub.gateway.db.getRepository(User).find({ where: { role: 'researcher' }, order: { username: 'DESC' } });
  const fresh = await hub.token({ username: researchers[0]!.username });
  try {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof fhirGet>> | undefined;
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${limited.url}/fhir/R4/Organization`, { headers: { authorization: `Bearer ${fresh.token}` } });
      statuses.push(res.status);
      retryAfter = res.headers.get('retry-after') ?? retryAfter;
      last = { status: res.status, contentType: res.headers.get('content-type'), requestId: null, body: await res.json() };
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expectOutcome(last!, 429, 'throttled');
  } finally {
    await hub.closeExtraGateways();
  }
});
