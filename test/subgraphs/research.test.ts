import { Enrolment, ResearchProject } from '../../subgraphs/research/entities';
import { codes, ok } from '../support/graphql';
import { PROJECT_RESEARCHER, projectConsent, startSeededSubgraph, type SubgraphUnderTest } from '../support/subgraph';

let t: SubgraphUnderTest;
let projects: ResearchProject[];
let enrolments: Enrolment[];
beforeAll(async () => {
  t = await startSeededSubgraph('research', 300);
  projects = await t.subgraph.db.getRepository(ResearchProject).find({ order: { id: 'ASC' } });
  enrolments = await t.subgraph.db.getRepository(Enrolment).find();
});
afterAll(() => t?.close());

describe('research subgraph', () => {
  test('lists projects with status filter and pagination', async () => {
    const all: any = ok(await t.gql('{ researchProjects(first: 100) { totalCount nodes { id title purpose status } } }')).researchProjects;
    expect(all.totalCount).toBe(projects.length);
    expect(all.nodes.map((p: any) => p.id)).toEqual(projects.map((p) => p.id));
    const active: any = ok(await t.gql('{ researchProjects(status: ACTIVE) { totalCount nodes { status } } }')).researchProjects;
    expect(active.totalCount).toBe(projects.filter((p) => p.status === 'ACTIVE').length);
    expect(active.nodes.every((p: any) => p.status === 'ACTIVE')).toBe(true);
    const first: any = ok(await t.gql('{ researchProjects(first: 1) { pageInfo { endCursor } nodes { id } } }')).researchProjects;
    const second: any = ok(
      await t.gql('query($a: String) { researchProjects(first: 1, after: $a) { nodes { id } } }', { a: first.pageInfo.endCursor }),
    ).researchProjects;
    expect(second.nodes[0].id).toBe(projects[1]!.id);
  });

  test('the cohort handed to the labs subgraph is the actively enrolled patients', async () => {
    const project = projects.find((p) => enrolments.some((e) => e.projectId === p.id && e.status !== 'ACTIVE')) ?? projects[0]!;
    // Every enrolled patient consents to this project, and the caller works on it.
    await projectConsent(t.database.env, project.id, [...new Set(enrolments.filter((e) => e.projectId === project.id).map((e) => e.patientId))]);
    const res: any = ok(
      await t.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on CohortSummary { projectId loinc memberIds project { id } } } }', {
        r: [{ __typename: 'CohortSummary', projectId: project.id, loinc: '2160-0' }],
      }, PROJECT_RESEARCHER),
    );
    const expected = enrolments.filter((e) => e.projectId === project.id && e.status === 'ACTIVE').map((e) => e.patientId).sort();
    expect(res._entities[0].memberIds).toEqual(expected);
    expect(res._entities[0].project.id).toBe(project.id);
  });

  test("a project's enrolments page through, and a patient lists their projects", async () => {
    const project = projects.find((p) => enrolments.filter((e) => e.projectId === p.id).length > 3)!;
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 100; i++) {
      const page: any = ok(
        await t.gql('query($id: ID!, $a: String) { researchProject(id: $id) { enrolments(first: 3, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { patient { id } enrolledAt } } } }', {
          id: project.id,
          a: after,
        }),
      ).researchProject.enrolments;
      seen.push(...page.nodes.map((n: any) => n.patient.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual(enrolments.filter((e) => e.projectId === project.id).map((e) => e.patientId).sort());

    const enrolled = enrolments[0]!;
    const res: any = ok(
      await t.gql('query($r: [_Any!]!) { _entities(representations: $r) { ... on Patient { researchProjects { status project { id title } } } } }', {
        r: [{ __typename: 'Patient', id: enrolled.patientId }],
      }),
    );
    expect(res._entities[0].researchProjects.map((e: any) => e.project.id)).toContain(enrolled.projectId);
  });

  test('unknown projects and malformed LOINC codes are refused', async () => {
    expect(codes(await t.gql('{ cohortSummary(projectId: "proj_nope", loinc: "4548-4") { projectId } }'))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql(`{ cohortSummary(projectId: "${projects[0]!.id}", loinc: "4548") { projectId } }`))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await t.gql('{ researchProject(id: "proj_nope") { id } }'))).toEqual(['NOT_FOUND']);
    expect(codes(await t.gql('{ researchProjects(status: DONE) { totalCount } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});
