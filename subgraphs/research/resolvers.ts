import { createHmac } from 'node:crypto';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput, notFound } from '../../common/errors';
import { isValidLoinc } from '../../common/loinc';
import { keysetPredicate, parsePage, toConnection, type PageArgs, type SortColumn } from '../../common/pagination';
import { DateTime } from '../../common/scalars';
import { childPage } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import { byId, groupedBy } from '../kit/loaders';
import { Enrolment, ResearchProject, type ProjectStatus } from './entities';

type Ctx = SubgraphContext;

const BY_ID: SortColumn[] = [{ column: 'p.id', direction: 'ASC' }];
const ENROLMENT_ORDER: SortColumn[] = [
  { column: 'enrolled_at', direction: 'ASC' },
  { column: 'id', direction: 'ASC' },
];

async function loadProject(ctx: Ctx, id: string): Promise<ResearchProject> {
  const project = await byId(ctx, ResearchProject, 'project').load(id);
  if (!project) throw notFound('ResearchProject', id);
  return project;
}

/** The cohort: patients actively enrolled in the project whose consent covers this request. */
async function cohort(ctx: Ctx, projectId: string, loinc: string) {
  if (!isValidLoinc(loinc)) throw badInput(`${JSON.stringify(loinc)} is not a valid LOINC code (e.g. 4548-4)`, 'loinc');
  await loadProject(ctx, projectId);
  const members = await ctx.db
    .getRepository(Enrolment)
    .find({ select: { patientId: true }, where: { projectId, status: 'ACTIVE' }, order: { patientId: 'ASC' } });
  return { projectId, loinc, memberIds: await ctx.access.allowed(members.map((m) => m.patientId), 'RESEARCH') };
}

/** Enrolled patients of a project this request may see as research subjects. */
async function visibleMembers(ctx: Ctx, projectId: string): Promise<string[]> {
  const all = await ctx.db.getRepository(Enrolment).find({ select: { patientId: true }, where: { projectId } });
  return ctx.access.allowed(all.map((e) => e.patientId), 'RESEARCH');
}

/** HMAC of the patient id keyed by the project: stable within a project, unlinkable across projects. */
export function pseudonym(projectId: string, patientId: string): string {
  return 'psn_' + createHmac('sha256', `custodian-pseudonym:${projectId}`).update(patientId).digest('base64url').slice(0, 22);
}

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime,

  Query: {
    researchProject: (_: unknown, { id }: { id: string }, ctx: Ctx) => loadProject(ctx, id),

    async researchProjects(_: unknown, args: PageArgs & { status?: ProjectStatus | null }, ctx: Ctx) {
      const page = parsePage(args, BY_ID.length);
      const base = () => {
        const qb = ctx.db.getRepository(ResearchProject).createQueryBuilder('p');
        if (args.status) qb.where('p.status = :status', { status: args.status });
        return qb;
      };
      const qb = base().orderBy('p.id', 'ASC').limit(page.limit + 1);
      if (page.after) {
        const seek = keysetPredicate(BY_ID, page.after);
        qb.andWhere(seek.sql, seek.params);
      }
      const rows = await qb.getMany();
      return { ...toConnection(rows, page.limit, (p) => [p.id]), totalCount: () => base().getCount() };
    },

    cohortSummary: (_: unknown, args: { projectId: string; loinc: string }, ctx: Ctx) => cohort(ctx, args.projectId, args.loinc),
  },

  ResearchProject: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => loadProject(ctx, ref.id),
    institution: (p: ResearchProject) => ({ __typename: 'Institution', id: p.institutionId }),
    principalInvestigator: (p: ResearchProject) => ({ __typename: 'Practitioner', id: p.principalInvestigatorId }),
    async enrolments(p: ResearchProject, args: PageArgs, ctx: Ctx) {
      const page = parsePage(args, ENROLMENT_ORDER.length);
      // Only enrolments whose patient's consent covers this request: filtered in the
      // query, so totalCount and pages never reveal anyone else.
      const visible = await visibleMembers(ctx, p.id);
      return childPage(
        ctx,
        {
          name: 'ResearchProject.enrolments',
          entity: Enrolment,
          table: 'enrolment',
          parentColumn: 'project_id',
          sort: ENROLMENT_ORDER,
          sortKey: (e) => [e.enrolledAt.toISOString(), e.id],
          parentOf: (e) => e.projectId,
          filters: [{ sql: 'patient_id IN (:...visible)', params: { visible: visible.length ? visible : ['-'] } }],
        },
        page,
        p.id,
      );
    },
  },

  Enrolment: {
    project: (e: Enrolment, _: unknown, ctx: Ctx) => loadProject(ctx, e.projectId),
    pseudonym: (e: Enrolment) => pseudonym(e.projectId, e.patientId),
    async patient(e: Enrolment, _: unknown, ctx: Ctx) {
      const research = await ctx.access.check(e.patientId, 'RESEARCH');
      const demographics = research.identified ? research : await ctx.access.check(e.patientId, 'DEMOGRAPHICS');
      return research.identified || demographics.allowed ? { __typename: 'Patient', id: e.patientId } : null;
    },
  },

  Patient: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    researchProjects: (patient: { id: string }, _: unknown, ctx: Ctx) =>
      groupedBy(ctx, Enrolment, 'patientId', 'enrolment', { enrolledAt: 'ASC' }).load(patient.id),
  },

  CohortSummary: {
    __resolveReference: (ref: { projectId: string; loinc: string }, ctx: Ctx) => cohort(ctx, ref.projectId, ref.loinc),
    project: (c: { projectId: string }, _: unknown, ctx: Ctx) => loadProject(ctx, c.projectId),
  },
};
