import { codes, ok } from '../support/graphql';
import { queriesSent } from '../support/metrics';
import { startSeededSubgraph, type SubgraphUnderTest } from '../support/subgraph';
import { Patient } from '../../subgraphs/patients/entities';

let t: SubgraphUnderTest;
beforeAll(async () => {
  t = await startSeededSubgraph('patients', 45);
});
afterAll(() => t?.close());

const PAGE = `query($first: Int, $after: String, $inst: ID) {
  patients(first: $first, after: $after, institutionId: $inst) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id }
  }
}`;

describe('patients subgraph', () => {
  test('pages through every patient exactly once, in id order, and totals agree', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let total = -1;
    for (let pages = 0; pages < 20; pages++) {
      const page: any = ok(await t.gql(PAGE, { first: 7, after })).patients;
      total = page.totalCount;
      seen.push(...page.nodes.map((n: { id: string }) => n.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(total).toBe(45);
    expect(seen).toHaveLength(45);
    expect(new Set(seen).size).toBe(45);
    expect([...seen].sort()).toEqual(seen);
  });

  test('filters by institution, and the count matches the rows', async () => {
    const { institutions } = ok(await t.gql('{ institutions { id kind } }'));
    const hospital = institutions.find((i: { kind: string }) => i.kind === 'HOSPITAL');
    const page: any = ok(await t.gql(PAGE, { first: 100, inst: hospital.id })).patients;
    expect(page.totalCount).toBe(page.nodes.length);
    const ids = page.nodes.map((n: { id: string }) => n.id);
    const rows = await t.subgraph.db.getRepository(Patient).findBy({ institutionId: hospital.id });
    expect(ids.sort()).toEqual(rows.map((r) => r.id).sort());
  });

  test('demographics, identifiers and institution of one patient', async () => {
    const row = (await t.subgraph.db.getRepository(Patient).find({ order: { id: 'ASC' }, take: 1 }))[0]!;
    const { patient } = ok(
      await t.gql('query($id: ID!) { patient(id: $id) { id birthDate sex name { given family text } identifiers { system value } institution { id name } } }', {
        id: row.id,
      }),
    );
    expect(patient.name.family).toBe(row.familyName);
    expect(patient.name.text).toBe(`${row.givenName} ${row.familyName}`);
    expect(patient.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(patient.identifiers[0].system).toBe(`urn:custodian:mrn:${row.institutionId}`);
    expect(patient.institution.id).toBe(row.institutionId);
  });

  test('_entities resolves a batch of patients with one query, not one per patient', async () => {
    const rows = await t.subgraph.db.getRepository(Patient).find({ take: 25 });
    const representations = rows.map((r) => ({ __typename: 'Patient', id: r.id }));
    const before = await queriesSent('patients');
    const res = ok(
      await t.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { id name { family } } } }', {
        r: representations,
      }),
    );
    const after = await queriesSent('patients');
    expect(res._entities.map((e: { id: string }) => e.id)).toEqual(rows.map((r) => r.id));
    // The patients, then the request's consent decisions written to the outbox.
    expect(after - before).toBe(2);
  });

  test('bad input gets typed errors, never a stack trace', async () => {
    // An unknown id and someone else's patient look the same: existence is not revealed.
    const unknown = await t.gql('{ patient(id: "pat_nope") { id } }');
    expect(codes(unknown)).toEqual(['FORBIDDEN']);
    const tooMany = await t.gql(PAGE, { first: 101 });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    const negative = await t.gql(PAGE, { first: -1 });
    expect(codes(negative)).toEqual(['BAD_USER_INPUT']);
    for (const cursor of ['not a cursor', 'WzJd', Buffer.from('[1,"a","b"]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      const res = await t.gql(PAGE, { first: 5, after: cursor });
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    }
    const wrongType = await t.gql(PAGE, { first: 'ten' });
    expect(codes(wrongType)).toEqual(['BAD_USER_INPUT']);
    for (const res of [unknown, tooMany, wrongType]) expect(JSON.stringify(res)).not.toMatch(/stacktrace|at \w+ \(/);
  });
});
