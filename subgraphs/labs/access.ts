import type { AccessRules } from '../kit/gate';

/** What each labs field is, for the consent gate (subgraphs/kit/gate.ts). */
export const access: AccessRules = {
  Query: {
    // The row's own fields are gated as LABS of its patient once it is loaded.
    fields: { labResult: 'PUBLIC' },
  },
  Patient: {
    patientOf: (p: { id: string }) => p.id,
    reference: 'PUBLIC',
    fields: { id: 'PUBLIC', labResults: 'LABS' },
  },
  LabResult: {
    patientOf: (r: { patientId: string }) => r.patientId,
    reference: 'PUBLIC',
    fields: {
      id: 'LABS',
      patient: 'LABS',
      code: 'LABS',
      value: 'LABS',
      unit: 'LABS',
      referenceRange: 'LABS',
      interpretation: 'LABS',
      status: 'LABS',
      effectiveAt: 'LABS',
      issuer: 'LABS',
    },
  },
  Coding: { fields: { system: 'VIA_PARENT', code: 'VIA_PARENT', display: 'VIA_PARENT' } },
  ReferenceRange: { fields: { low: 'VIA_PARENT', high: 'VIA_PARENT', unit: 'VIA_PARENT' } },
  Institution: { fields: { id: 'PUBLIC' } },
  // Aggregates over the members whose consent covers the project (filtered before counting).
  CohortSummary: {
    reference: 'PUBLIC',
    fields: { projectId: 'PUBLIC', loinc: 'PUBLIC', memberIds: 'PUBLIC', count: 'PUBLIC', mean: 'PUBLIC', min: 'PUBLIC', max: 'PUBLIC', unit: 'PUBLIC' },
  },
  LabResultConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  LabResultEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  PageInfo: { fields: { hasNextPage: 'VIA_PARENT', endCursor: 'VIA_PARENT' } },
};
