/**
 * ResearchSubject ← `ResearchProject.subjects` and `researchSubject(projectId,
 * pseudonym)`: one consenting, enrolled (not withdrawn) patient of a project, for the
 * project's members only, named by the project's pseudonym — never by patient id or name.
 *
 * R4 requires `individual` (Reference(Patient)): it is a logical reference, an
 * identifier holding the pseudonym in a system of the project, with no `reference` a
 * client could resolve to a Patient. The GraphQL `ResearchSubject` has no patient field
 * at all (the patient id is @inaccessible), so an identified consent changes nothing
 * here: who the patient is stays with `Enrolment.patient`, under its own rule.
 *
 * The FHIR id is `rs-<project hex>-<pseudonym>` (the pseudonym's `psn_` dropped and `_`
 * written `.`, which base64url never uses): stable, reversible to the (project,
 * pseudonym) the supergraph looks up, and nothing in it leads to the patient — the
 * pseudonym is an HMAC under a server secret (subgraphs/research/pseudonyms.ts). It
 * changes when PSEUDONYM_KEY is rotated, as the pseudonym does.
 */
import { toFhirId, toHubId } from '../ids';
import { forbiddenSearch, invalid, notFound } from '../outcome';
import type { FhirContext, Resource, ResourceModule, SearchPage } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';
import { ref } from '../terminology';
import { PROJECT_PREFIXES } from './research-study';

const FIELDS = 'pseudonym enrolledAt status project { id }';
const OBSERVATION_VALUE = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';

export interface SubjectNode {
  pseudonym: string;
  enrolledAt: string;
  status: 'ACTIVE' | 'WITHDRAWN' | 'COMPLETED';
  project: { id: string };
}

export interface SubjectKey {
  projectId: string;
  pseudonym: string;
}

const PSEUDONYM = /^psn_([A-Za-z0-9_-]{22})$/;
const SUBJECT_ID = /^rs-([0-9a-f]{1,40})-([A-Za-z0-9\-.]{22})$/;

export function researchSubjectId(projectId: string, pseudonym: string): string {
  const m = PSEUDONYM.exec(pseudonym);
  const project = toFhirId(projectId);
  if (!m || !project.startsWith('proj-')) throw new Error('Not a project pseudonym');
  return `rs-${project.slice('proj-'.length)}-${m[1]!.replace(/_/g, '.')}`;
}

/** The (project, pseudonym) a ResearchSubject id names; null for any other id. */
export function subjectKey(fhirId: string): SubjectKey | null {
  const m = SUBJECT_ID.exec(fhirId);
  if (!m) return null;
  return { projectId: `proj_${m[1]}`, pseudonym: `psn_${m[2]!.replace(/\./g, '_')}` };
}

/** The pseudonym as an identifier: its system is the project's, so it means nothing elsewhere. */
export const pseudonymIdentifier = (projectId: string, pseudonym: string) => ({
  system: `urn:custodian:research-pseudonym:${toFhirId(projectId)}`,
  value: pseudonym,
});

/** A ResearchSubject's patient, as a logical reference by pseudonym (no resolvable Patient). */
export const pseudonymousPatient = (projectId: string, pseudonym: string) => ({
  type: 'Patient',
  identifier: pseudonymIdentifier(projectId, pseudonym),
  display: 'pseudonymous research subject',
});

/** Marks a resource as pseudonymised (HL7 v3 ObservationValue PSEUDED). */
export const PSEUDONYMISED = { security: [{ system: OBSERVATION_VALUE, code: 'PSEUDED', display: 'pseudonymized' }] };

const STATUS: Record<SubjectNode['status'], string> = { ACTIVE: 'on-study', COMPLETED: 'off-study', WITHDRAWN: 'withdrawn' };

export function toResearchSubject(s: SubjectNode): Resource {
  return {
    resourceType: 'ResearchSubject',
    id: researchSubjectId(s.project.id, s.pseudonym),
    meta: PSEUDONYMISED,
    identifier: [pseudonymIdentifier(s.project.id, s.pseudonym)],
    status: STATUS[s.status] ?? 'on-study',
    period: { start: s.enrolledAt },
    study: ref('ResearchStudy', toFhirId(s.project.id)),
    individual: pseudonymousPatient(s.project.id, s.pseudonym),
  };
}

async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const key = subjectKey(fhirId);
  const denied = () => notFound('ResearchSubject', fhirId);
  if (!key) throw denied();
  const data = await fetchData<{ researchSubject: SubjectNode | null }>(
    ctx.run,
    `query FhirResearchSubject($projectId: ID!, $pseudonym: String!) { researchSubject(projectId: $projectId, pseudonym: $pseudonym) { ${FIELDS} } }`,
    { ...key },
    { denied },
  );
  if (!data.researchSubject) throw denied();
  return toResearchSubject(data.researchSubject);
}

async function search(ctx: FhirContext, q: SearchQuery): Promise<SearchPage> {
  const study = q.get('study');
  if (study === undefined) throw invalid('ResearchSubject searches need study (ResearchStudy/proj-…): subjects are listed per project, for its members');
  const m = /(?:^|\/)(?:ResearchStudy\/)?([A-Za-z0-9\-.]{1,64})$/.exec(study);
  if (!m || (/(^|\/)[A-Z][A-Za-z]+\/[^/]+$/.test(study) && !/(^|\/)ResearchStudy\/[^/]+$/.test(study))) throw invalid('Expected a reference to a ResearchStudy, e.g. ResearchStudy/proj-…');
  const projectId = toHubId(m[1]!, PROJECT_PREFIXES) ?? 'proj_unknown';
  const after = typeof q.cursor?.after === 'string' ? q.cursor.after : null;
  const denied = () => forbiddenSearch("this study's subjects");
  const data = await fetchData<{ researchProject: { subjects: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: SubjectNode[] } | null } | null }>(
    ctx.run,
    `query FhirResearchSubjects($id: ID!, $first: Int, $after: String) { researchProject(id: $id) { subjects(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${FIELDS} } } } }`,
    { id: projectId, first: q.count, after },
    { denied },
  );
  const c = data.researchProject?.subjects;
  // An unknown project and one the caller is not a member of answer the same.
  if (!c) throw denied();
  return { resources: c.nodes.map(toResearchSubject), total: c.totalCount, next: c.pageInfo.hasNextPage && c.pageInfo.endCursor ? { after: c.pageInfo.endCursor } : undefined };
}

export const researchSubject: ResourceModule = {
  type: 'ResearchSubject',
  documentation:
    "A project's consenting, enrolled subjects, for the project's members only, by the project's pseudonym (individual is a logical reference by pseudonym, never a Patient id). Their lab results and readings: Observation?subject=ResearchSubject/<id>.",
  params: [{ name: 'study', type: 'reference', documentation: 'The project (ResearchStudy/proj-…); required.' }],
  sortsByDate: false,
  read,
  search,
};
