/**
 * Research subjects: the consenting enrolled patients of a project, as its members see
 * them — by pseudonym, never by patient id (which travels on only to the labs and devices
 * subgraphs, as the @inaccessible `ResearchSubject.patientId`).
 *
 * The subject rule: the caller is a member of the project; the enrolment is not
 * WITHDRAWN; the patient's consents open THIS project to the caller
 * (ConsentEngine.decideInProject, RESEARCH) — the member view of enrolment-rule.ts,
 * minus withdrawn patients. The list applies it in the query (so totalCount counts no one
 * else); a lookup by pseudonym applies it after finding the enrolment, and answers every
 * failure with the same NOT_FOUND.
 */
import DataLoader from 'dataloader';
import { In, Not } from 'typeorm';
import { notFound, userError } from '../../common/errors';
import type { PageArgs, SortColumn } from '../../common/pagination';
import { sealedChildPage } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import type { ResearchResources } from './definition';
import { Enrolment } from './entities';

type Ctx = SubgraphContext;

/** A subject as resolved here: its enrolment row (whose fields ResearchSubject reads). */
export type Subject = Enrolment;

const ORDER: SortColumn[] = [
  { column: 'enrolled_at', direction: 'ASC' },
  { column: 'id', direction: 'ASC' },
];

const resources = (ctx: Ctx) => ctx.resources as unknown as ResearchResources;

export const subjectPseudonym = (ctx: Ctx, s: Subject): string => resources(ctx).pseudonym(s.projectId, s.patientId);

/** The patients of `projectId` the caller may see as subjects (the caller is a member). */
async function subjectPatients(ctx: Ctx, projectId: string): Promise<string[]> {
  const enrolled = await ctx.db.getRepository(Enrolment).find({ select: { patientId: true }, where: { projectId, status: Not('WITHDRAWN') } });
  return ctx.access.allowed(enrolled.map((e) => e.patientId), 'RESEARCH', 'read', { project: projectId });
}

export async function subjectsOf(ctx: Ctx, projectId: string, args: PageArgs) {
  if (!(await ctx.access.memberOf(projectId))) throw userError('FORBIDDEN', "A project's subjects are for the members of the project", { projectId });
  const visible = await subjectPatients(ctx, projectId);
  return sealedChildPage(
    ctx,
    {
      name: 'ResearchProject.subjects',
      entity: Enrolment,
      table: 'enrolment',
      parentColumn: 'project_id',
      sort: ORDER,
      sortKey: (e) => [e.enrolledAt.toISOString(), e.id],
      parentOf: (e) => e.projectId,
      filters: [
        { sql: "status <> 'WITHDRAWN'", params: {} },
        { sql: 'patient_id IN (:...subjects)', params: { subjects: visible.length ? visible : ['-'] } },
      ],
    },
    args,
    resources(ctx).cursors,
    projectId,
  );
}

/**
 * Per request: each project's not-withdrawn enrolments by pseudonym (current, and
 * previous while a rotation is under way). The hub keeps no table of pseudonyms, so they
 * are recomputed — one query for all the projects asked about in a tick.
 */
function byPseudonym(ctx: Ctx): DataLoader<string, Map<string, Enrolment>> {
  return ctx.loader('subjectsByPseudonym', () =>
    new DataLoader<string, Map<string, Enrolment>>(async (projectIds) => {
      const rows = await ctx.db.getRepository(Enrolment).find({ where: { projectId: In([...projectIds]), status: Not('WITHDRAWN') } });
      const { pseudonym, previousPseudonym } = resources(ctx);
      const maps = new Map(projectIds.map((id) => [id, new Map<string, Enrolment>()]));
      for (const e of rows) {
        const map = maps.get(e.projectId)!;
        if (previousPseudonym) map.set(previousPseudonym(e.projectId, e.patientId), e);
        map.set(pseudonym(e.projectId, e.patientId), e);
      }
      return projectIds.map((id) => maps.get(id)!);
    }),
  );
}

/** The subject named `pseudonym` in `projectId`, under the subject rule; NOT_FOUND for every failure alike. */
export async function subjectByPseudonym(ctx: Ctx, projectId: string, pseudonym: string): Promise<Subject> {
  const hidden = () => notFound('ResearchSubject', pseudonym);
  if (!(await ctx.access.memberOf(projectId))) throw hidden();
  const enrolment = (await byPseudonym(ctx).load(projectId)).get(pseudonym);
  if (!enrolment || !(await ctx.access.check(enrolment.patientId, 'RESEARCH', 'read', { project: projectId })).allowed) throw hidden();
  return enrolment;
}
