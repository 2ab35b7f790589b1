/**
 * Who sees an enrolment, and how much of it: the one rule for enrolment rows, applied by
 * both lists that reach them (ResearchProject.enrolments and Patient.researchProjects;
 * an enrolment is not an entity, so there is no other path).
 *
 *   self     the patient themself: all of it, their own pseudonym included
 *   member   a member of the enrolment's project, where the patient's consent opens THAT
 *            project (ConsentEngine.decideInProject): the pseudonym, and the patient
 *            only if the consent allows identified data (or demographics are visible)
 *   outline  anyone else whom the patient's RESEARCH category is open to outside any
 *            project (a treating clinician): project, status and date, never a pseudonym
 *   hidden   everyone else — and a researcher always, outside their own projects
 */
import type { SubgraphContext } from '../kit/context';

export type EnrolmentView = 'self' | 'member' | 'outline' | 'hidden';

export async function enrolmentView(ctx: SubgraphContext, e: { patientId: string; projectId: string }): Promise<EnrolmentView> {
  const { identity, access } = ctx;
  if (identity.role === 'patient' && identity.patientId === e.patientId) {
    return (await access.check(e.patientId, 'RESEARCH')).allowed ? 'self' : 'hidden';
  }
  if ((await access.memberOf(e.projectId)) && (await access.check(e.patientId, 'RESEARCH', 'read', { project: e.projectId })).allowed) return 'member';
  if (identity.role === 'researcher') return 'hidden';
  return (await access.check(e.patientId, 'RESEARCH', 'read', 'personal')).allowed ? 'outline' : 'hidden';
}

/** The rows of `rows` this request may see, each with its view. */
export async function visibleEnrolments<T extends { patientId: string; projectId: string }>(ctx: SubgraphContext, rows: T[]): Promise<(T & { view: EnrolmentView })[]> {
  const views = await Promise.all(rows.map((r) => enrolmentView(ctx, r)));
  return rows.map((r, i) => ({ ...r, view: views[i]! })).filter((r) => r.view !== 'hidden');
}
