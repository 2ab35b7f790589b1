import type { AccessRules } from '../kit/gate';

/** What each research field is, for the consent gate (subgraphs/kit/gate.ts). */
export const access: AccessRules = {
  Query: {
    // Projects are public facts; who is in them is filtered by consent inside the resolvers.
    // researchSubject: members only, and only a subject whose consent opens the project
    // (resolver, subjects.ts); everything else is the same NOT_FOUND.
    fields: { researchProject: 'PUBLIC', researchProjects: 'PUBLIC', cohortSummary: 'PUBLIC', researchSubject: 'PUBLIC' },
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
      // Filtered row by row by the enrolment rule (enrolment-rule.ts).
      enrolments: 'PUBLIC',
      // The caller's own membership; the member list is for members only (resolver).
      viewerIsMember: 'PUBLIC',
      members: 'PUBLIC',
      // Members only; filtered in the query by each patient's consent to THIS project (subjects.ts).
      subjects: 'PUBLIC',
    },
  },
  // A subject exists only once the subject rule admitted it (subjects.ts): by the list, by
  // researchSubject, or by reference (which looks it up again by pseudonym).
  ResearchSubject: {
    reference: 'PUBLIC',
    fields: { projectId: 'VIA_PARENT', pseudonym: 'VIA_PARENT', project: 'VIA_PARENT', enrolledAt: 'VIA_PARENT', status: 'VIA_PARENT', patientId: 'VIA_PARENT' },
  },
  ResearchSubjectConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  ResearchSubjectEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  // Enrolments are reached only through the two lists that apply the enrolment rule
  // (ResearchProject.enrolments, Patient.researchProjects); pseudonym and patient apply
  // its views again in their resolvers.
  Enrolment: {
    fields: { project: 'VIA_PARENT', pseudonym: 'VIA_PARENT', previousPseudonym: 'VIA_PARENT', patient: 'VIA_PARENT', enrolledAt: 'VIA_PARENT', status: 'VIA_PARENT' },
  },
  Patient: { patientOf: (p: { id: string }) => p.id, reference: 'PUBLIC', fields: { id: 'PUBLIC', researchProjects: 'RESEARCH' } },
  Institution: { fields: { id: 'PUBLIC' } },
  Practitioner: { fields: { id: 'PUBLIC' } },
  CohortSummary: { reference: 'PUBLIC', fields: { projectId: 'PUBLIC', loinc: 'PUBLIC', memberIds: 'PUBLIC', project: 'PUBLIC' } },
  ResearchProjectConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  ResearchProjectEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  EnrolmentConnection: { fields: { edges: 'VIA_PARENT', nodes: 'VIA_PARENT', pageInfo: 'VIA_PARENT', totalCount: 'VIA_PARENT' } },
  EnrolmentEdge: { fields: { cursor: 'VIA_PARENT', node: 'VIA_PARENT' } },
  PageInfo: { fields: { hasNextPage: 'VIA_PARENT', hasPreviousPage: 'VIA_PARENT', startCursor: 'VIA_PARENT', endCursor: 'VIA_PARENT' } },
};
