import type { AccessRules } from '../kit/gate';

/**
 * What each audit field is, for the consent gate (subgraphs/kit/gate.ts). An audit
 * trail about a patient is that patient's AUDIT data: the patient may read it (base
 * policy patient-self), compliance officers may for OPERATIONS (base compliance-audit),
 * nobody else. The cross-patient trail checks the role in its resolver and AUDIT per
 * patient on every row it returns.
 */
const byArgument = { category: 'AUDIT', patient: (_: unknown, args: { patientId: string }) => args.patientId } as const;

export const access: AccessRules = {
  // auditTrail admits the compliance role (OPERATIONS) only; auditEvent checks AUDIT of its patient.
  Query: { fields: { auditTrail: 'PUBLIC', auditEvent: 'PUBLIC', disclosures: byArgument, ledgerCheckpoint: 'PUBLIC', breakGlassReviews: 'PUBLIC', breakGlassAccess: 'PUBLIC' } },
  Mutation: { fields: { reviewBreakGlass: 'PUBLIC' } },
  // By reference: compliance, or the clinician who opened it (checked in break-glass.ts).
  BreakGlassAccess: {
    reference: 'PUBLIC',
    fields: Object.fromEntries(
      ['id', 'patientId', 'userId', 'justification', 'startedAt', 'expiresAt', 'reviewedAt', 'reviewedBy', 'reviewNote', 'openedBy', 'accesses'].map((f) => [f, 'VIA_PARENT']),
    ),
  },
  Patient: { patientOf: (p: { id: string }) => p.id, reference: 'PUBLIC', fields: { id: 'PUBLIC', accessLog: 'AUDIT' } },
  AuditEventConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  AuditEventEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  AuditEvent: {
    fields: {
      id: 'VIA_PARENT',
      kind: 'VIA_PARENT',
      at: 'VIA_PARENT',
      patientId: 'VIA_PARENT',
      actor: 'VIA_PARENT',
      category: 'VIA_PARENT',
      action: 'VIA_PARENT',
      purpose: 'VIA_PARENT',
      decision: 'VIA_PARENT',
      decidedBy: 'VIA_PARENT',
      service: 'VIA_PARENT',
      requestId: 'VIA_PARENT',
      ledger: 'VIA_PARENT',
    },
  },
  AuditActor: {
    fields: { userId: 'VIA_PARENT', role: 'VIA_PARENT', institutionId: 'VIA_PARENT', practitionerId: 'VIA_PARENT', practitioner: 'VIA_PARENT', institution: 'VIA_PARENT' },
  },
  Practitioner: { fields: { id: 'PUBLIC' } },
  Institution: { fields: { id: 'PUBLIC' } },
  LedgerPosition: { fields: { index: 'VIA_PARENT', leafData: 'VIA_PARENT', leafHash: 'VIA_PARENT', inclusion: 'VIA_PARENT' } },
  // Proofs and checkpoints are public (GET /ledger/...): they reveal hashes only.
  InclusionProof: { fields: { treeSize: 'PUBLIC', hashes: 'PUBLIC', checkpoint: 'PUBLIC' } },
  LedgerCheckpoint: { fields: { size: 'PUBLIC', root: 'PUBLIC', note: 'PUBLIC', publishedAt: 'PUBLIC' } },
  DisclosureReport: { fields: { patientId: 'VIA_PARENT', from: 'VIA_PARENT', to: 'VIA_PARENT', lines: 'VIA_PARENT', csv: 'VIA_PARENT' } },
  Disclosure: {
    fields: { recipient: 'VIA_PARENT', category: 'VIA_PARENT', purpose: 'VIA_PARENT', service: 'VIA_PARENT', accesses: 'VIA_PARENT', firstAt: 'VIA_PARENT', lastAt: 'VIA_PARENT' },
  },
  PageInfo: { fields: { hasNextPage: 'VIA_PARENT', hasPreviousPage: 'VIA_PARENT', startCursor: 'VIA_PARENT', endCursor: 'VIA_PARENT' } },
};
