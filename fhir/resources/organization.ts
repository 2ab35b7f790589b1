/** Organization ← `institution(id)` and `institutions` (public directory data). */
import { toFhirId, toHubId } from '../ids';
import { notFound } from '../outcome';
import { pageOfList } from '../paging';
import type { FhirContext, Resource, ResourceModule } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';

const FIELDS = 'id name kind country';
const TYPE: Record<string, { code: string; display: string }> = {
  HOSPITAL: { code: 'prov', display: 'Healthcare Provider' },
  LABORATORY: { code: 'prov', display: 'Healthcare Provider' },
  RESEARCH_INSTITUTE: { code: 'edu', display: 'Educational Institute' },
};

interface InstitutionNode {
  id: string;
  name: string;
  kind: string;
  country: string;
}

export function toOrganization(i: InstitutionNode): Resource {
  const type = TYPE[i.kind] ?? { code: 'other', display: 'Other' };
  return {
    resourceType: 'Organization',
    id: toFhirId(i.id),
    active: true,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', ...type }], text: i.kind.toLowerCase().replace('_', ' ') }],
    name: i.name,
    address: [{ country: i.country }],
  };
}

async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const id = toHubId(fhirId, ['inst']);
  const denied = () => notFound('Organization', fhirId);
  if (!id) throw denied();
  const data = await fetchData<{ institution: InstitutionNode | null }>(ctx.run, `query FhirOrganization($id: ID!) { institution(id: $id) { ${FIELDS} } }`, { id }, { denied });
  if (!data.institution) throw denied();
  return toOrganization(data.institution);
}

async function search(ctx: FhirContext, q: SearchQuery) {
  const data = await fetchData<{ institutions: InstitutionNode[] }>(ctx.run, `query FhirOrganizations { institutions { ${FIELDS} } }`, {}, { denied: () => notFound('Organization', 'search') });
  // The directory is small (one row per member institution): paged by offset (../paging.ts).
  return pageOfList(data.institutions.map(toOrganization), q);
}

export const organization: ResourceModule = {
  type: 'Organization',
  documentation: 'The institutions of the hub: hospitals, laboratories, research institutes.',
  params: [],
  sortsByDate: false,
  read,
  search,
};
