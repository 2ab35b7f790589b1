import type { AccessRules } from '../kit/gate';
import type { RowRule } from '../kit/rows';
import type { LabResult } from './entities';

/** A lab result is LABS of its patient; exceptions can name its LOINC class and when it was taken. */
export const LAB_RESULT_ROWS: RowRule<LabResult> = {
  kind: 'LabResult',
  category: 'LABS',
  patientOf: (r) => r.patientId,
  facts: (r) => ({ at: r.effectiveAt, loincCode: r.loincCode }),
  columns: { at: 'effective_at', loincCode: 'loinc_code' },
};

/** What each labs field is, for the consent gate (subgraphs/kit/gate.ts). */
export const access: AccessRules = {
  Query: {
    // Looked up, then served only if visible (LAB_RESULT_ROWS): unknown and hidden alike NOT_FOUND.
    fields: { labResult: 'PUBLIC' },
  },
  Patient: {
    patientOf: (p: { id: string }) => p.id,
    reference: 'PUBLIC',
    fields: { id: 'PUBLIC', labResults: 'LABS' },
  },
  LabResult: {
    patientOf: (r: { patientId: string }) => r.patientId,
    row: LAB_RESULT_ROWS,
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
  // Aggregates over the members whose consent covers the project (filtered before counting,
  // small cells withheld: cohort-stats.ts).
  CohortSummary: {
    reference: 'PUBLIC',
    fields: Object.fromEntries(
      ['projectId', 'loinc', 'memberIds', 'count', 'mean', 'min', 'max', 'unit', 'suppressed', 'suppressedReason'].map((f) => [f, 'PUBLIC']),
    ),
  },
  LabResultConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  LabResultEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  PageInfo: { fields: { hasNextPage: 'VIA_PARENT', endCursor: 'VIA_PARENT' } },
};
