import { LabResult } from '../../subgraphs/labs/entities';
import { codes, ok } from '../support/graphql';
import { queriesSent } from '../support/metrics';
import { PROJECT_RESEARCHER, projectConsent, startSeededSubgraph, type SubgraphUnderTest } from '../support/subgraph';

let t: SubgraphUnderTest;
let rows: LabResult[];
let patientIds: string[];
beforeAll(async () => {
  t = await startSeededSubgraph('labs', 40);
  rows = await t.subgraph.db.getRepository(LabResult).find();
  patientIds = [...new Set(rows.map((r) => r.patientId))].sort();
  // Cohorts are for a project's members, over patients who consented to that project.
  await projectConsent(t.database.env, 'proj_x', patientIds);
});
afterAll(() => t?.close());

const LABS = `query($r: [_Any!]!, $code: String, $since: DateTime, $first: Int, $after: String) {
  _entities(representations: $r) {
    ... on Patient {
      id
      labResults(code: $code, since: $since, first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes { id code { system code display } value unit effectiveAt status interpretation referenceRange { low high unit } issuer { id } }
      }
    }
  }
}`;

const rep = (id: string) => ({ __typename: 'Patient', id });
const newestFirst = (a: LabResult, b: LabResult) =>
  b.effectiveAt.getTime() - a.effectiveAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

describe('labs subgraph', () => {
  test("a patient's results come newest first, and pages cover them all exactly once", async () => {
    const patient = patientIds[0]!;
    const expected = rows.filter((r) => r.patientId === patient).sort(newestFirst).map((r) => r.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const conn: any = ok(await t.gql(LABS, { r: [rep(patient)], first: 4, after }))._entities[0].labResults;
      expect(conn.totalCount).toBe(expected.length);
      seen.push(...conn.nodes.map((n: { id: string }) => n.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });

  test('filters by LOINC code and by instant', async () => {
    const patient = patientIds[1]!;
    const mine = rows.filter((r) => r.patientId === patient);
    const code = mine[0]!.loincCode;
    const byCode: any = ok(await t.gql(LABS, { r: [rep(patient)], code, first: 100 }))._entities[0].labResults;
    expect(byCode.nodes.map((n: any) => n.id).sort()).toEqual(mine.filter((r) => r.loincCode === code).map((r) => r.id).sort());
    expect(byCode.nodes.every((n: any) => n.code.system === 'http://loinc.org' && n.code.code === code)).toBe(true);

    const cut = [...mine].sort(newestFirst)[1]!.effectiveAt;
    const since: any = ok(await t.gql(LABS, { r: [rep(patient)], since: cut.toISOString(), first: 100 }))._entities[0].labResults;
    const expected = mine.filter((r) => r.effectiveAt >= cut).map((r) => r.id).sort();
    expect(since.nodes.map((n: any) => n.id).sort()).toEqual(expected);
    expect(since.totalCount).toBe(expected.length);
  });

  test('values carry UCUM units, reference ranges and an interpretation consistent with them', async () => {
    const conn: any = ok(await t.gql(LABS, { r: patientIds.slice(0, 5).map(rep), first: 100 }))._entities;
    const results = conn.flatMap((p: any) => p.labResults.nodes);
    expect(results.length).toBeGreaterThan(10);
    for (const r of results) {
      expect(r.unit).toBeTruthy();
      if (r.referenceRange?.high != null && r.value > r.referenceRange.high) expect(r.interpretation).toMatch(/HIGH/);
      if (r.referenceRange?.low != null && r.value < r.referenceRange.low) expect(r.interpretation).toMatch(/LOW/);
    }
  });

  test('results of 20 patients load in one page query and one count query', async () => {
    const before = await queriesSent('labs');
    const res: any = ok(await t.gql(LABS, { r: patientIds.slice(0, 20).map(rep), first: 3 }));
    const after = await queriesSent('labs');
    expect(res._entities).toHaveLength(20);
    for (const p of res._entities) {
      const expected = rows.filter((r) => r.patientId === p.id).sort(newestFirst);
      expect(p.labResults.nodes.map((n: any) => n.id)).toEqual(expected.slice(0, 3).map((r) => r.id));
      expect(p.labResults.totalCount).toBe(expected.length);
    }
    // The page, the counts, and the request's consent decisions written to the outbox.
    expect(after - before).toBe(3);
  });

  test('cohort statistics use each member’s latest final result only', async () => {
    const members = patientIds.slice(0, 25);
    const code = '4548-4';
    const latest = members
      .map((id) =>
        rows
          .filter((r) => r.patientId === id && r.loincCode === code && (r.status === 'FINAL' || r.status === 'AMENDED'))
          .sort(newestFirst)[0],
      )
      .filter((r): r is LabResult => Boolean(r));
    const values = latest.map((r) => r.value);
    const res: any = ok(
      await t.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on CohortSummary { count mean min max unit } } }', {
        r: [{ __typename: 'CohortSummary', projectId: 'proj_x', loinc: code, memberIds: members }],
      }, PROJECT_RESEARCHER),
    );
    const s = res._entities[0];
    expect(s.count).toBe(values.length);
    expect(s.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
    expect(s.min).toBe(Math.min(...values));
    expect(s.max).toBe(Math.max(...values));
    expect(s.unit).toBe('%');
  });

  test('an empty cohort is a small cell: no statistics, and it says why', async () => {
    const res: any = ok(
      await t.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on CohortSummary { count mean min max suppressed suppressedReason } } }', {
        r: [{ __typename: 'CohortSummary', projectId: 'proj_x', loinc: '4548-4', memberIds: [] }],
      }, PROJECT_RESEARCHER),
    );
    expect(res._entities[0]).toEqual({ count: null, mean: null, min: null, max: null, suppressed: true, suppressedReason: expect.stringMatching(/COHORT_MIN_SIZE/) });
  });

  test('a cohort is only for members of its project, even when the patients are visible otherwise', async () => {
    const res = await t.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on CohortSummary { count } } }', {
      r: [{ __typename: 'CohortSummary', projectId: 'proj_other', loinc: '4548-4', memberIds: patientIds }],
    }, PROJECT_RESEARCHER);
    expect(codes(res)).toEqual(['FORBIDDEN']);
  });

  test('bad input gets typed errors', async () => {
    expect(codes(await t.gql(LABS, { r: [rep(patientIds[0]!)], code: '4548-5' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(LABS, { r: [rep(patientIds[0]!)], code: 'HbA1c' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(LABS, { r: [rep(patientIds[0]!)], since: '2026-13-45' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql(LABS, { r: [rep(patientIds[0]!)], first: 500 }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql('{ labResult(id: "lab_nope") { id } }'))).toEqual(['NOT_FOUND']);
  });
});
