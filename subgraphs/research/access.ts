import type { AccessRules } from '../kit/gate';

/** What each research field is, for the consent gate (subgraphs/kit/gate.ts). */
export const access: AccessRules = {
  Query: {
    // Projects are public facts; who is in them is filtered by consent inside the resolvers.
    fields: { researchProject: 'PUBLIC', researchProjects: 'PUBLIC', cohortSummary: 'PUBLIC' },
  },
  ResearchProject: {
    reference: 'PUBLIC',
    fields: {
      id: 'PUBLIC',
      title: 'PUBLIC',
      purpose: 'PUBLIC',
      status: 'PUBLIC',
      institution: 'PUBLIC',
      principalInvestigator: 'PUBLIC',
      enrolments: 'PUBLIC',
    },
  },
  Enrolment: {
    patientOf: (e: { patientId: string }) => e.patientId,
    fields: { project: 'RESEARCH', pseudonym: 'RESEARCH', patient: 'RESEARCH', enrolledAt: 'RESEARCH', status: 'RESEARCH' },
  },
  Patient: { patientOf: (p: { id: string }) => p.id, reference: 'PUBLIC', fields: { id: 'PUBLIC', researchProjects: 'RESEARCH' } },
  Institution: { fields: { id: 'PUBLIC' } },
  Practitioner: { fields: { id: 'PUBLIC' } },
  CohortSummary: { reference: 'PUBLIC', fields: { projectId: 'PUBLIC', loinc: 'PUBLIC', memberIds: 'PUBLIC', project: 'PUBLIC' } },
  ResearchProjectConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  ResearchProjectEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  EnrolmentConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  EnrolmentEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  PageInfo: { fields: { hasNextPage: 'VIA_PARENT', endCursor: 'VIA_PARENT' } },
};
