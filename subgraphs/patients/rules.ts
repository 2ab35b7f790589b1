import type { AccessRules } from '../kit/gate';
import type { RowRule } from '../kit/rows';
import type { Consent } from '../../consent/entities';
import { consentNotFound, patientOfConsent } from './consent-resolvers';

const VIA = 'VIA_PARENT' as const;

/** A consent is the patient's CONSENT data: the patient reads and changes it (base policy patient-self). */
export const CONSENT_ROWS: RowRule<Pick<Consent, 'patientId'>> = { kind: 'Consent', category: 'CONSENT', patientOf: (c) => c.patientId };

/** What each patients field is, for the consent gate (subgraphs/kit/gate.ts). */
export const access: AccessRules = {
  Query: {
    fields: {
      // Reachable with consent to any category (checked in the resolver); each field has its own.
      patient: 'PUBLIC',
      // Filtered inside the query to the patients this requester may see (consent/patient-filter.ts).
      patients: 'PUBLIC',
      institution: 'PUBLIC',
      institutions: 'PUBLIC',
      practitioner: 'PUBLIC',
      practitioners: 'PUBLIC',
      // Explains only the caller's own access.
      explainAccess: 'PUBLIC',
    },
  },
  Mutation: {
    fields: {
      grantConsent: { category: 'CONSENT', action: 'write', patient: (_: unknown, args: { input: { patientId: string } }) => args.input.patientId },
      // Unknown, and not yours to change, answer the same NOT_FOUND.
      revokeConsent: {
        category: 'CONSENT',
        action: 'write',
        patient: (_: unknown, args: { id: string }, ctx) => patientOfConsent(ctx, args.id),
        hidden: (args: { id: string }) => consentNotFound(args.id),
      },
      // Its own rules (clinician, EMERGENCY, justification) are checked by the resolver;
      // it answers an unknown patient exactly as a hidden one.
      breakTheGlass: 'PUBLIC',
    },
  },
  Patient: {
    patientOf: (p: { id: string }) => p.id,
    reference: { category: 'DEMOGRAPHICS', patient: (ref: { id: string }) => ref.id },
    fields: {
      // Every way to a Patient is gated (patient, patients, the reference): its id is no news.
      id: 'VIA_PARENT',
      institution: 'DEMOGRAPHICS',
      name: 'DEMOGRAPHICS',
      birthDate: 'DEMOGRAPHICS',
      sex: 'DEMOGRAPHICS',
      identifiers: 'DEMOGRAPHICS',
      consents: 'CONSENT',
    },
  },
  HumanName: { fields: { given: VIA, family: VIA, text: VIA } },
  Identifier: { fields: { system: VIA, value: VIA } },
  Institution: { reference: 'PUBLIC', fields: { id: 'PUBLIC', name: 'PUBLIC', kind: 'PUBLIC', country: 'PUBLIC', practitioners: 'PUBLIC' } },
  Practitioner: { reference: 'PUBLIC', fields: { id: 'PUBLIC', name: 'PUBLIC', role: 'PUBLIC', institution: 'PUBLIC' } },
  PatientConnection: { fields: { edges: VIA, nodes: VIA, pageInfo: VIA, totalCount: VIA } },
  PatientEdge: { fields: { cursor: VIA, node: VIA } },
  PageInfo: { fields: { hasNextPage: VIA, hasPreviousPage: VIA, startCursor: VIA, endCursor: VIA } },
  // What a consent says is the patient's to read (a mutation's payload included); its id
  // is what the caller named or was just given.
  Consent: {
    patientOf: (c: { patientId: string }) => c.patientId,
    row: CONSENT_ROWS,
    fields: {
      id: VIA,
      ...Object.fromEntries(
        ['patientId', 'grantee', 'categories', 'actions', 'purposes', 'effect', 'validFrom', 'validUntil', 'identified', 'status', 'createdAt', 'revokedAt', 'exceptions', 'fhir'].map(
          (f) => [f, 'CONSENT' as const],
        ),
      ),
    },
  },
  Grantee: { fields: { kind: VIA, id: VIA } },
  ConsentException: { fields: { categories: VIA, loincClass: VIA, dataFrom: VIA, dataUntil: VIA } },
  AccessExplanation: { fields: { allowed: VIA, decidedBy: VIA, reason: VIA, consent: VIA, consentVersion: VIA, exclusions: VIA } },
  // Only its id here: the audit subgraph serves (and guards) the rest.
  BreakGlassAccess: { fields: { id: VIA } },
};
