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
      ['projectId', 'loinc', 'memberIds', 'count', 'mean', 'min', 'max', 'unit', 'suppressed', 'suppressedReason', 'distribution'].map((f) => [f, 'PUBLIC']),
    ),
  },
  // Buckets of an answered summary, small ones withheld (cohort-distribution.ts).
  CohortBucket: { fields: { low: 'VIA_PARENT', high: 'VIA_PARENT', count: 'VIA_PARENT', suppressed: 'VIA_PARENT' } },
  // A subject arrives from the research subgraph's plan step; every series field decides
  // again, here, for that patient in THAT project (defence in depth), and the resolver
  // checks that the pseudonym is the patient's (research-series.ts).
  ResearchSubject: {
    patientOf: (s: { patientId: string }) => s.patientId,
    reference: 'PUBLIC',
    fields: {
      projectId: 'PUBLIC',
      pseudonym: 'PUBLIC',
      patientId: 'VIA_PARENT',
      labResults: { category: 'LABS', scope: (s: { projectId: string }) => ({ project: s.projectId }) },
    },
  },
  // Rows of a series the gate and LAB_RESULT_ROWS (as SQL) already admitted.
  ResearchLabResult: {
    fields: Object.fromEntries(['code', 'value', 'unit', 'referenceRange', 'interpretation', 'status', 'effectiveAt', 'issuer'].map((f) => [f, 'VIA_PARENT'])),
  },
  ResearchLabResultConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  ResearchLabResultEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  LabResultConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  LabResultEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  PageInfo: { fields: { hasNextPage: 'VIA_PARENT', hasPreviousPage: 'VIA_PARENT', startCursor: 'VIA_PARENT', endCursor: 'VIA_PARENT' } },
};
