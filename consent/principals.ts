/**
 * Who a requester is, in the words policies use:
 *
 *   personal   user:<id>, role:<role>@*, role:<role>@<institution>, practitioner:<id>,
 *              patient:<id> (a patient acting for themself)
 *   projects   project:<id> for each research project the requester works on
 *
 * Project principals are kept apart because a research consent opens only its own
 * project: in the context of project P (its enrolments, its cohorts) the only project
 * principal that counts is P's (see ConsentEngine.decideInProject).
 */
import type { DataSource } from 'typeorm';
import type { Identity } from '../common/signed-identity';
import { sqlQuery } from '../common/database';

export interface Principals {
  personal: readonly string[];
  /** Ids of the projects the requester is a member of. */
  projects: readonly string[];
}

/** Which principals a decision is made with. */
export type PrincipalScope =
  /** personal and every project of the requester (reading a patient by id) */
  | 'all'
  /** personal only (what a requester may see outside any project) */
  | 'personal'
  /** personal and project P, if the requester is a member of it */
  | { project: string };

export async function principalsOf(db: DataSource, identity: Identity): Promise<Principals> {
  const personal = [`user:${identity.subject}`, `role:${identity.role}@*`];
  if (identity.practitionerId) personal.push(`practitioner:${identity.practitionerId}`);
  if (identity.institutionId) personal.push(`role:${identity.role}@${identity.institutionId}`);
  if (identity.role === 'patient' && identity.patientId) personal.push(`patient:${identity.patientId}`);
  const projects = identity.practitionerId
    ? (await sqlQuery<{ project_id: string }>(db, 'SELECT project_id FROM project_member WHERE practitioner_id = :id', { id: identity.practitionerId })).map((m) => m.project_id)
    : [];
  return { personal, projects };
}

export const projectPrincipal = (projectId: string) => `project:${projectId}`;

/** The principals of `scope`, as the matcher takes them ("|"-joined). */
export function principalString(p: Principals, scope: PrincipalScope = 'all'): string {
  if (scope === 'personal') return p.personal.join('|');
  if (scope === 'all') return [...p.personal, ...p.projects.map(projectPrincipal)].join('|');
  return p.projects.includes(scope.project) ? [...p.personal, projectPrincipal(scope.project)].join('|') : p.personal.join('|');
}

/** Every principal of the requester, one by one (to find the consents that name them). */
export function allPrincipals(p: Principals): string[] {
  return [...p.personal, ...p.projects.map(projectPrincipal)];
}
