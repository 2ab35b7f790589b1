/**
 * End to end: real processes, real HTTP between gateway and subgraphs, a real database
 * (SQLite by default, PostgreSQL when DATABASE_URL is set).
 */
import { SUBGRAPH_NAMES } from '../../common/config';
import { codes, gql, ok } from '../support/graphql';
import { startHub, type Hub } from '../support/hub';
import { counterValue } from '../support/metrics';

let hub: Hub;
let auth: Record<string, string>;
let institutionId: string;
beforeAll(async () => {
  hub = await startHub();
  // A clinician: the base policy lets them see their own institution's patients for TREATMENT.
  const [username, , , institution] = hub.cli('users', '--role', 'clinician', '--limit', '1').split(/\s+/);
  institutionId = institution!;
  auth = { authorization: `Bearer ${hub.token(username!)}` };
}, 120_000);
afterAll(async () => {
  if (hub && hub.process.exitCode === null) await hub.stop();
});

const PATIENT_VIEW = `query($first: Int!) {
  patients(first: $first) {
    totalCount
    nodes {
      id
      name { text }
      birthDate
      sex
      institution { name }
      labResults(first: 3) { totalCount nodes { code { code display } value unit effectiveAt } }
      devices { kind serial readings(first: 3) { nodes { metric value unit recordedAt } } }
      researchProjects { status project { title principalInvestigator { name { text } } } }
    }
  }
}`;

/** Operators' metrics: behind the hub's METRICS_TOKEN (the public gets a 401). */
async function metrics(url: string): Promise<string> {
  return (await fetch(url, { headers: { authorization: `Bearer ${hub.metricsToken}` } })).text();
}
const subgraphMetrics = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '/metrics');

describe('the hub, end to end', () => {
  test('first start seeded the demo world; /healthz says up to anyone, and which subgraph is up to operators', async () => {
    expect(hub.output()).toMatch(/first start: seeding a demo world of 500 patients/);
    const pub = await fetch(`${hub.gateway}/healthz`);
    expect(pub.status).toBe(200);
    expect(await pub.json()).toEqual({ status: 'up' });
    const res = await fetch(`${hub.gateway}/healthz`, { headers: { authorization: `Bearer ${hub.metricsToken}` } });
    expect(res.status).toBe(200);
    const health: any = await res.json();
    expect(health.status).toBe('up');
    expect(Object.keys(health.subgraphs).sort()).toEqual([...SUBGRAPH_NAMES].sort());
    for (const name of SUBGRAPH_NAMES) expect(health.subgraphs[name].status).toBe('up');
  });

  test('one query crosses all four subgraphs, showing a clinician their institution’s patients', async () => {
    const res = await gql(`${hub.gateway}/graphql`, PATIENT_VIEW.replace('institution { name }', 'institution { id name }'), { first: 50 }, auth);
    const data = res.data;
    expect(data.patients.totalCount).toBeGreaterThan(50);
    expect(data.patients.totalCount).toBeLessThan(500);
    const patients: any[] = data.patients.nodes;
    expect(patients).toHaveLength(50);
    // The only refusals: patients who keep their labs from their hospital's clinicians.
    for (const e of res.errors ?? []) expect([e.extensions?.code, e.extensions?.category]).toEqual(['FORBIDDEN', 'LABS']);
    for (const p of patients) {
      expect(p.name.text).toMatch(/\S+ \S+/);
      expect(p.institution.id).toBe(institutionId);
      if (p.labResults === null) continue;
      expect(p.labResults.nodes.length).toBeGreaterThan(0);
      const times = p.labResults.nodes.map((l: any) => l.effectiveAt);
      expect([...times].sort().reverse()).toEqual(times);
    }
    expect(patients.filter((p) => p.labResults !== null).length).toBeGreaterThan(45);
    expect(patients.some((p) => p.devices.length > 0 && p.devices[0].readings.nodes.length === 3)).toBe(true);
    expect(patients.some((p) => p.researchProjects.length > 0 && p.researchProjects[0].project.principalInvestigator.name.text)).toBe(true);
  });

  test('the query plan fetches entities in batches: one request per subgraph, a few SQL statements', async () => {
    const gatewayBefore = await metrics(`${hub.gateway}/metrics`);
    const sqlBefore = await Promise.all(SUBGRAPH_NAMES.map((n) => metrics(subgraphMetrics(hub.subgraphs[n]))));
    await gql(`${hub.gateway}/graphql`, PATIENT_VIEW, { first: 50 }, auth);
    const gatewayAfter = await metrics(`${hub.gateway}/metrics`);
    const sqlAfter = await Promise.all(SUBGRAPH_NAMES.map((n) => metrics(subgraphMetrics(hub.subgraphs[n]))));

    const requests = Object.fromEntries(
      SUBGRAPH_NAMES.map((n) => [
        n,
        counterValue(gatewayAfter, 'custodian_gateway_subgraph_requests_total', { subgraph: n }) -
          counterValue(gatewayBefore, 'custodian_gateway_subgraph_requests_total', { subgraph: n }),
      ]),
    );
    // patients twice (the page, then the principal investigators' names), every other
    // subgraph once — for 50 patients, as it would be for 5.
    expect(requests).toEqual({ patients: 2, labs: 1, devices: 1, research: 1, audit: 0 });
    const statements = Object.fromEntries(
      SUBGRAPH_NAMES.map((n, i) => [
        n,
        counterValue(sqlAfter[i]!, 'custodian_db_queries_total', { service: n }) -
          counterValue(sqlBefore[i]!, 'custodian_db_queries_total', { service: n }),
      ]),
    );
    // Independent of the number of patients — patients: the page, its count, the
    // institutions, the investigators; labs: the results page and counts; devices: the
    // devices and the readings page; research: the enrolments and their projects; and
    // in each, one write of the request's consent decisions to its outbox.
    expect(statements).toEqual({ patients: 5, labs: 3, devices: 3, research: 3, audit: 0 });
  });

  test('a research cohort summary joins research enrolments with lab results, for the project\'s members', async () => {
    const [researcherName] = hub.cli('users', '--role', 'researcher', '--limit', '1').split(/\s+/);
    const asResearcher = { authorization: `Bearer ${hub.token(researcherName!)}` };
    const { researchProjects } = ok(await gql(`${hub.gateway}/graphql`, '{ researchProjects { nodes { id viewerIsMember enrolments { totalCount } } } }', {}, asResearcher));
    const project = researchProjects.nodes.find((p: any) => p.viewerIsMember && p.enrolments.totalCount >= 10);
    const elsewhere = researchProjects.nodes.find((p: any) => !p.viewerIsMember);
    // Not a member: neither the enrolments nor the cohort (the clinician is no member either).
    expect(elsewhere.enrolments.totalCount).toBe(0);
    expect(codes(await gql(`${hub.gateway}/graphql`, 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "2160-0") { count } }', { p: elsewhere.id }, asResearcher))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(`${hub.gateway}/graphql`, 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "2160-0") { count } }', { p: project.id }, auth))).toEqual(['FORBIDDEN']);
    const { cohortSummary } = ok(
      await gql(`${hub.gateway}/graphql`, 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "2160-0") { count mean min max unit suppressed project { id } } }', {
        p: project.id,
      }, asResearcher),
    );
    expect(cohortSummary.project.id).toBe(project.id);
    expect(cohortSummary.suppressed).toBe(false);
    expect(cohortSummary.count).toBeGreaterThanOrEqual(10);
    expect(cohortSummary.count).toBeLessThanOrEqual(project.enrolments.totalCount);
    expect(cohortSummary.min).toBeLessThanOrEqual(cohortSummary.mean);
    expect(cohortSummary.mean).toBeLessThanOrEqual(cohortSummary.max);
    expect(cohortSummary.unit).toBe('mg/dL');
  });

  test('bad input through the gateway gets typed errors and no stack traces', async () => {
    const url = `${hub.gateway}/graphql`;
    const cases: [string, string, Record<string, unknown> | undefined, string][] = [
      ['unknown id (indistinguishable from a hidden one)', '{ patient(id: "pat_unknown") { id } }', undefined, 'FORBIDDEN'],
      ['malformed cursor', '{ patients(after: "%%%") { totalCount } }', undefined, 'BAD_USER_INPUT'],
      ['page too large', '{ patients(first: 1000) { totalCount } }', undefined, 'BAD_USER_INPUT'],
      ['wrong type', '{ patients(first: "ten") { totalCount } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['bad instant literal', '{ patients(first: 1) { nodes { labResults(since: "last week") { totalCount } } } }', undefined, 'BAD_USER_INPUT'],
      ['bad LOINC', 'query($p: ID!) { cohortSummary(projectId: $p, loinc: "glucose") { count } }', { p: 'proj_x' }, 'BAD_USER_INPUT'],
      ['unknown field', '{ patients { nodes { ssn } } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
      ['not GraphQL', '{ patients(', undefined, 'GRAPHQL_PARSE_FAILED'],
    ];
    for (const [why, query, variables, code] of cases) {
      const res = await gql(url, query, variables, auth);
      expect([why, codes(res)[0]]).toEqual([why, code]);
      expect(JSON.stringify(res)).not.toMatch(/stacktrace|node_modules|at \w+ \(/);
    }
  });

  test('callers sending the same query at the same moment each get their own answer, never another caller\'s', async () => {
    // Clinicians of two institutions see different patients. Identical requests in flight
    // at once must not be merged anywhere between gateway and subgraph (Hive's executor
    // deduplicated them by body while each carried another caller's identity).
    const rows = hub.cli('users', '--role', 'clinician', '--limit', '100').trim().split('\n').map((l) => l.trim().split(/\s+/));
    const first = rows[0]!;
    const other = rows.find((r) => r[3] !== first[3])!;
    expect(other).toBeDefined();
    const callers = [first, other].map((r) => ({ authorization: `Bearer ${hub.token(r[0]!, 'read')}` }));
    const query = '{ patients(first: 25) { nodes { id } } }';
    const ids = async (headers: Record<string, string>) => ok(await gql(`${hub.gateway}/graphql`, query, undefined, headers)).patients.nodes.map((n: { id: string }) => n.id).join(',');
    const alone = [await ids(callers[0]!), await ids(callers[1]!)];
    expect(alone[0]).not.toBe(alone[1]);
    const together = await Promise.all(Array.from({ length: 24 }, (_, i) => ids(callers[i % 2]!)));
    together.forEach((answer, i) => expect(answer).toBe(alone[i % 2]));
  });

  test('Ctrl-C stops every process cleanly', async () => {
    const code = await hub.stop('SIGINT');
    expect(code).toBe(0);
    for (const url of [`${hub.gateway}/healthz`, ...SUBGRAPH_NAMES.map((n) => hub.subgraphs[n].replace('/graphql', '/healthz'))]) {
      await expect(fetch(url, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
    }
  });
});
