/**
 * A consent as a FHIR R4 Consent resource: scope patient-privacy, category LOINC
 * 59284-0 (consent document), a provision tree whose top is the grant and whose nested
 * provisions are its exceptions. Grantees and the patient are named by opaque ids only.
 */
import type { Consent } from './entities';
import type { Purpose } from './vocabulary';

/** Each purpose of use as its HL7 v3 ActReason code (typed by the vocabulary, so a new purpose must name its code). */
const PURPOSE_CODES: Record<Purpose, string> = { TREATMENT: 'TREAT', RESEARCH: 'HRESCH', EMERGENCY: 'ETREAT', OPERATIONS: 'HOPERAT' };
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

function actor(c: Consent) {
  const reference =
    c.granteeKind === 'practitioner'
      ? { reference: `Practitioner/${c.granteeId}` }
      : c.granteeKind === 'project'
        ? { reference: `ResearchStudy/${c.granteeId}` }
        : { reference: `PractitionerRole?role=${c.granteeId.split('@')[0]}&organization=Organization/${c.granteeId.split('@')[1]}` };
  return [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference }];
}

const period = (from: Date | null, until: Date | null) =>
  from || until ? { ...(from ? { start: from.toISOString() } : {}), ...(until ? { end: until.toISOString() } : {}) } : undefined;

export function toFhirConsent(c: Consent, exceptions: Consent[]): Record<string, unknown> {
  return {
    resourceType: 'Consent',
    id: c.id,
    status: c.status === 'active' ? 'active' : 'inactive',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: c.granteeKind === 'project' ? 'research' : 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: `Patient/${c.patientId}` },
    dateTime: c.createdAt.toISOString(),
    provision: {
      type: c.effect,
      period: period(c.validFrom, c.validUntil),
      actor: actor(c),
      action: c.actions.split('|').map((a) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentaction', code: a === 'read' ? 'access' : 'correct' }] })),
      purpose: c.purposes.split('|').map((p) => ({ system: ACT_REASON, code: PURPOSE_CODES[p as Purpose] ?? p })),
      class: c.categories.split('|').map((k) => ({ system: 'urn:custodian:data-category', code: k })),
      ...(c.identified ? { securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'IDENTIFIED' }] } : {}),
      provision: exceptions.map((e) => ({
        type: e.effect,
        class: e.categories.split('|').map((k) => ({ system: 'urn:custodian:data-category', code: k })),
        ...(e.dataLoincClass ? { code: [{ coding: [{ system: 'http://loinc.org/class', code: e.dataLoincClass }] }] } : {}),
        ...(period(e.dataFrom, e.dataUntil) ? { dataPeriod: period(e.dataFrom, e.dataUntil) } : {}),
      })),
    },
  };
}
