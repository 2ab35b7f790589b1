/**
 * A consent as a FHIR R4 Consent resource — the ONE mapping, used by the patients
 * subgraph for `Consent.fhir` (consent-resolvers.ts) and by the FHIR API for its Consent
 * resource (fhir/resources/consent.ts). Both hand it the consent as GraphQL shows it
 * (`ConsentView`: the subgraph before serialising, the FHIR API after a query), so the two
 * cannot drift. Pure: no database, no process state.
 *
 * Valid R4 (checked with @medplum/core's validateResource in test/fhir/consent.test.ts):
 * scope (research for a project grantee, patient-privacy otherwise), category LOINC
 * 59284-0, a policyRule (OPTIN for a permit, OPTOUT for a denial: invariant ppc-1 wants a
 * policy or policyRule), and one provision with the grantee (actor), actions, purposes,
 * period and data classes. The consent's exceptions — data a permit does not cover after
 * all — are nested `deny` provisions (a LOINC class as code, a period of the data as
 * dataPeriod). Ids are FHIR ids (`cns-…`, common/fhir-id.ts); people are named by opaque
 * ids only.
 */
import { toFhirId } from '../common/fhir-id';
import type { Purpose } from './vocabulary';

/** A consent as the GraphQL type `Consent` shows it (dates as Date in the subgraph, ISO strings after a query). */
export interface ConsentView {
  id: string;
  patientId: string;
  grantee: { kind: 'PRACTITIONER' | 'ROLE' | 'PROJECT' | string; id: string };
  categories: string[];
  actions: string[];
  purposes: string[];
  effect: 'PERMIT' | 'DENY' | string;
  validFrom: Date | string;
  validUntil: Date | string | null;
  identified: boolean;
  status: 'ACTIVE' | 'REVOKED' | string;
  createdAt: Date | string;
  exceptions: { categories: string[]; loincClass: string | null; dataFrom: Date | string | null; dataUntil: Date | string | null }[];
}

const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const OBSERVATION_VALUE = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';
/** The hub's own data categories (consent/vocabulary.ts), as a code system of ours. */
export const DATA_CATEGORY = 'urn:custodian:data-category';
/** Each purpose of use as its HL7 v3 ActReason code (typed by the vocabulary, so a new purpose must name its code). */
export const PURPOSE_CODES: Record<Purpose, string> = { TREATMENT: 'TREAT', RESEARCH: 'HRESCH', EMERGENCY: 'ETREAT', OPERATIONS: 'HOPERAT' };

const iso = (d: Date | string | null | undefined): string | null => (d == null ? null : typeof d === 'string' ? new Date(d).toISOString() : d.toISOString());
const classes = (categories: string[]) => categories.map((code) => ({ system: DATA_CATEGORY, code }));
function period(start: Date | string | null, end: Date | string | null) {
  const s = iso(start);
  const e = iso(end);
  return s || e ? { ...(s ? { start: s } : {}), ...(e ? { end: e } : {}) } : undefined;
}

function actor(g: ConsentView['grantee']) {
  const role = { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] };
  if (g.kind === 'PRACTITIONER') return { role, reference: { reference: `Practitioner/${toFhirId(g.id)}` } };
  if (g.kind === 'PROJECT') return { role, reference: { reference: `ResearchStudy/${toFhirId(g.id)}` } };
  // A role at an institution (`clinician@inst_…`): everyone in that role there.
  const [roleName, institution] = g.id.split('@');
  return { role, reference: { reference: `Organization/${toFhirId(institution!)}`, display: `every ${roleName} of the institution` } };
}

export function toFhirConsent(c: ConsentView): Record<string, unknown> & { resourceType: 'Consent'; id: string } {
  const permit = c.effect === 'PERMIT';
  return {
    resourceType: 'Consent',
    id: toFhirId(c.id),
    status: c.status === 'ACTIVE' ? 'active' : 'inactive',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: c.grantee.kind === 'PROJECT' ? 'research' : 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: `Patient/${toFhirId(c.patientId)}` },
    dateTime: iso(c.createdAt),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: permit ? 'OPTIN' : 'OPTOUT' }] },
    provision: {
      type: permit ? 'permit' : 'deny',
      period: period(c.validFrom, c.validUntil),
      actor: [actor(c.grantee)],
      action: c.actions.map((a) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: a === 'READ' ? 'access' : 'correct' }] })),
      // A project sees a pseudonym unless the consent is identified.
      ...(c.grantee.kind === 'PROJECT' && !c.identified ? { securityLabel: [{ system: OBSERVATION_VALUE, code: 'PSEUDED', display: 'pseudonymized' }] } : {}),
      purpose: c.purposes.map((p) => ({ system: ACT_REASON, code: PURPOSE_CODES[p as Purpose] ?? p })),
      class: classes(c.categories),
      ...(c.exceptions.length
        ? {
            provision: c.exceptions.map((e) => {
              const dataPeriod = period(e.dataFrom, e.dataUntil);
              return {
                type: 'deny',
                class: classes(e.categories),
                ...(e.loincClass ? { code: [{ coding: [{ system: 'urn:custodian:loinc-class', code: e.loincClass }], text: `LOINC class ${e.loincClass}` }] } : {}),
                ...(dataPeriod ? { dataPeriod } : {}),
              };
            }),
          }
        : {}),
    },
  };
}
