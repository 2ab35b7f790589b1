/**
 * Patient ← `patient(id)` and `patients`. Demographics are DEMOGRAPHICS: a caller whose
 * consent covers other data of the patient but not that gets the Patient with its id only,
 * marked REDACTED (the GraphQL answer has FORBIDDEN at those fields, which is tolerated).
 */
import { toFhirId, toHubId } from '../ids';
import { notFound } from '../outcome';
import type { FhirContext, Resource, ResourceModule } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';
import { ref } from '../terminology';

export const PATIENT_PREFIXES = ['pat'];

const FIELDS = 'id institution { id } name { given family text } birthDate sex identifiers { system value }';
const DEMOGRAPHICS = new Set(['name', 'birthDate', 'sex', 'identifiers', 'institution']);

interface PatientNode {
  id: string;
  institution?: { id: string } | null;
  name?: { given: string[]; family: string; text: string } | null;
  birthDate?: string | null;
  sex?: string | null;
  identifiers?: { system: string; value: string }[] | null;
}

export function toPatient(p: PatientNode): Resource {
  const redacted = !p.name && !p.birthDate && !p.sex;
  return {
    resourceType: 'Patient',
    id: toFhirId(p.id),
    ...(redacted ? { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' }] } } : {}),
    ...(p.identifiers?.length ? { identifier: p.identifiers.map((i) => ({ system: i.system, value: i.value })) } : {}),
    ...(p.name ? { name: [{ text: p.name.text, family: p.name.family, given: p.name.given }] } : {}),
    ...(p.sex ? { gender: p.sex.toLowerCase() } : {}),
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    ...(p.institution ? { managingOrganization: ref('Organization', toFhirId(p.institution.id)) } : {}),
  };
}

const demographicPath = (path: readonly (string | number)[]) => DEMOGRAPHICS.has(String(path[path.length - 1]));

async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const id = toHubId(fhirId, PATIENT_PREFIXES);
  const denied = () => notFound('Patient', fhirId);
  if (!id) throw denied();
  const data = await fetchData<{ patient: PatientNode | null }>(ctx.run, `query FhirPatient($id: ID!) { patient(id: $id) { ${FIELDS} } }`, { id }, { denied, tolerate: demographicPath });
  if (!data.patient) throw denied();
  return toPatient(data.patient);
}

async function search(ctx: FhirContext, q: SearchQuery) {
  const org = q.get('organization');
  const institutionId = org === undefined ? null : (toHubId(org.replace(/^.*Organization\//, ''), ['inst']) ?? 'inst_unknown');
  const after = typeof q.cursor?.after === 'string' ? q.cursor.after : null;
  const data = await fetchData<{ patients: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: PatientNode[] } }>(
    ctx.run,
    `query FhirPatients($institutionId: ID, $first: Int, $after: String) { patients(institutionId: $institutionId, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${FIELDS} } } }`,
    { institutionId, first: q.count, after },
    { denied: () => notFound('Patient', 'search'), tolerate: demographicPath },
  );
  const { nodes, totalCount, pageInfo } = data.patients;
  return { resources: nodes.map(toPatient), total: totalCount, next: pageInfo.hasNextPage && pageInfo.endCursor ? { after: pageInfo.endCursor } : undefined };
}

export const patient: ResourceModule = {
  type: 'Patient',
  documentation: 'Patients the caller may reach (lists are filtered by consent in SQL). Demographics need DEMOGRAPHICS consent; without it the Patient carries its id only, marked REDACTED.',
  params: [
    { name: 'organization', type: 'reference', documentation: 'The managing institution (Organization/inst-…).' },
  ],
  sortsByDate: false,
  read,
  search,
};
