/**
 * ResearchStudy ← `researchProject(id)` and `researchProjects` (projects are public; who
 * is enrolled is not, and is not here: that is ResearchSubject, for members only).
 */
import { toFhirId, toHubId } from '../ids';
import { notFound } from '../outcome';
import type { FhirContext, Resource, ResourceModule, SearchPage } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';
import { ref } from '../terminology';

export const PROJECT_PREFIXES = ['proj'];

const FIELDS = 'id title purpose status institution { id } principalInvestigator { id }';

interface ProjectNode {
  id: string;
  title: string;
  purpose: string;
  status: 'PLANNED' | 'RECRUITING' | 'ACTIVE' | 'CLOSED';
  institution: { id: string };
  principalInvestigator: { id: string };
}

/** The hub's project states as R4 research-study-status codes. */
const STATUS: Record<ProjectNode['status'], string> = { PLANNED: 'approved', RECRUITING: 'active', ACTIVE: 'active', CLOSED: 'completed' };

export function toResearchStudy(p: ProjectNode): Resource {
  return {
    resourceType: 'ResearchStudy',
    id: toFhirId(p.id),
    title: p.title,
    status: STATUS[p.status] ?? 'active',
    description: p.purpose,
    principalInvestigator: ref('Practitioner', toFhirId(p.principalInvestigator.id)),
    sponsor: ref('Organization', toFhirId(p.institution.id)),
    site: [ref('Organization', toFhirId(p.institution.id))],
  };
}

async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const id = toHubId(fhirId, PROJECT_PREFIXES);
  const denied = () => notFound('ResearchStudy', fhirId);
  if (!id) throw denied();
  const data = await fetchData<{ researchProject: ProjectNode | null }>(ctx.run, `query FhirResearchStudy($id: ID!) { researchProject(id: $id) { ${FIELDS} } }`, { id }, { denied });
  if (!data.researchProject) throw denied();
  return toResearchStudy(data.researchProject);
}

async function search(ctx: FhirContext, q: SearchQuery): Promise<SearchPage> {
  const after = typeof q.cursor?.after === 'string' ? q.cursor.after : null;
  const data = await fetchData<{ researchProjects: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: ProjectNode[] } | null }>(
    ctx.run,
    `query FhirResearchStudies($first: Int, $after: String) { researchProjects(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${FIELDS} } } }`,
    { first: q.count, after },
    { denied: () => notFound('ResearchStudy', 'search') },
  );
  const c = data.researchProjects;
  if (!c) return { resources: [], total: 0 };
  return { resources: c.nodes.map(toResearchStudy), total: c.totalCount, next: c.pageInfo.hasNextPage && c.pageInfo.endCursor ? { after: c.pageInfo.endCursor } : undefined };
}

export const researchStudy: ResourceModule = {
  type: 'ResearchStudy',
  documentation: 'Research projects (public): title, purpose, status, institution, principal investigator. Who is enrolled is ResearchSubject, for members of the project only.',
  params: [],
  sortsByDate: false,
  read,
  search,
};
