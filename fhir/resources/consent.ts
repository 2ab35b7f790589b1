/**
 * Consent ← a patient's `consents` (CONSENT of the patient: the patient themself). The
 * mapping to R4 is consent/fhir.ts, the same one `Consent.fhir` of the GraphQL API uses.
 *
 * The supergraph has no consent-by-id: a read looks in the caller's own consents, the
 * only ones anybody may see, so any other id is the same 404 as an unknown one. A patient
 * has a handful of consents: the search pages through the one list (offset paging,
 * ../paging.ts).
 */
import { toFhirConsent, type ConsentView } from '../../consent/fhir';
import { referencedHubId, toHubId } from '../ids';
import { forbiddenSearch, invalid, notFound } from '../outcome';
import { pageOfList } from '../paging';
import type { FhirContext, Resource, ResourceModule } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';
import { PATIENT_PREFIXES } from './patient';

const FIELDS =
  'id patientId grantee { kind id } categories actions purposes effect validFrom validUntil identified status createdAt exceptions { categories loincClass dataFrom dataUntil }';

type ConsentNode = ConsentView;
export const toConsent = (c: ConsentNode): Resource => toFhirConsent(c);

async function consentsOf(ctx: FhirContext, patientId: string, denied: () => Error): Promise<ConsentNode[]> {
  const data = await fetchData<{ patient: { consents: ConsentNode[] | null } | null }>(
    ctx.run,
    `query FhirConsents($id: ID!) { patient(id: $id) { consents { ${FIELDS} } } }`,
    { id: patientId },
    { denied: denied as () => never },
  );
  if (!data.patient?.consents) throw denied();
  return data.patient.consents;
}

async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const id = toHubId(fhirId, ['cns']);
  const denied = () => notFound('Consent', fhirId);
  const own = ctx.principal.user.patientId;
  if (!id || !own) throw denied();
  const found = (await consentsOf(ctx, own, denied)).find((c) => c.id === id);
  if (!found) throw denied();
  return toConsent(found);
}

async function search(ctx: FhirContext, q: SearchQuery) {
  const patient = q.get('patient');
  if (patient === undefined) throw invalid('Consent searches need patient (Patient/pat-…)');
  const all = await consentsOf(ctx, referencedHubId(patient, 'Patient', PATIENT_PREFIXES), () => forbiddenSearch(`this patient's consents`));
  const status = q.get('status');
  const kept = status === undefined ? all : all.filter((c) => (c.status === 'ACTIVE' ? 'active' : 'inactive') === status);
  return pageOfList(kept.map(toConsent), q);
}

export const consent: ResourceModule = {
  type: 'Consent',
  documentation: "A patient's consents, active and revoked (inactive): for the patient only. Exceptions are nested deny provisions.",
  params: [
    { name: 'patient', type: 'reference', documentation: 'The patient (Patient/pat-…); required.' },
    { name: 'status', type: 'token', documentation: 'active or inactive (revoked).' },
  ],
  sortsByDate: false,
  read,
  search,
};
