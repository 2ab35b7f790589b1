/** Practitioner ← `practitioner(id)` and an institution's `practitioners`. */
import { toFhirId, toHubId } from '../ids';
import { invalid, notFound } from '../outcome';
import { pageOfList } from '../paging';
import type { FhirContext, Resource, ResourceModule } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';

const FIELDS = 'id name { given family text } role';

interface PractitionerNode {
  id: string;
  name: { given: string[]; family: string; text: string };
  role: string;
}

export function toPractitioner(p: PractitionerNode): Resource {
  return {
    resourceType: 'Practitioner',
    id: toFhirId(p.id),
    active: true,
    name: [{ text: p.name.text, family: p.name.family, given: p.name.given }],
  };
}

async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const id = toHubId(fhirId, ['prac']);
  const denied = () => notFound('Practitioner', fhirId);
  if (!id) throw denied();
  const data = await fetchData<{ practitioner: PractitionerNode | null }>(ctx.run, `query FhirPractitioner($id: ID!) { practitioner(id: $id) { ${FIELDS} } }`, { id }, { denied });
  if (!data.practitioner) throw denied();
  return toPractitioner(data.practitioner);
}

async function search(ctx: FhirContext, q: SearchQuery) {
  const org = q.get('organization');
  if (org === undefined) throw invalid('Practitioner searches need organization (Organization/inst-…)');
  const id = toHubId(org.replace(/^.*Organization\//, ''), ['inst']) ?? 'inst_unknown';
  const data = await fetchData<{ institution: { practitioners: PractitionerNode[] } | null }>(
    ctx.run,
    `query FhirPractitioners($id: ID!) { institution(id: $id) { practitioners { ${FIELDS} } } }`,
    { id },
    { denied: () => notFound('Organization', org) },
  );
  const all = data.institution?.practitioners ?? [];
  return pageOfList(all.map(toPractitioner), q);
}

export const practitioner: ResourceModule = {
  type: 'Practitioner',
  documentation: 'Clinicians, researchers and compliance officers of the institutions.',
  params: [{ name: 'organization', type: 'reference', documentation: 'Their institution (Organization/inst-…); required.' }],
  sortsByDate: false,
  read,
  search,
};
