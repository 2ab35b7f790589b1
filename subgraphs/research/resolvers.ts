import type { ResolverMap } from '../../common/resolver-map';
import { badInput, notFound, userError } from '../../common/errors';
import { isValidLoinc } from '../../common/loinc';
import { pageQuery, parsePage, toConnection, type PageArgs, type SortColumn } from '../../common/pagination';
import { DateTime } from '../../common/scalars';
import { ProjectMember } from '../../consent/entities';
import { childPage } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import { byId, groupedBy } from '../kit/loaders';
import type { ResearchResources } from './definition';
import { enrolmentView, visibleEnrolments, type EnrolmentView } from './enrolment-rule';
import { Enrolment, ResearchProject, type ProjectStatus } from './entities';
import { subjectByPseudonym, subjectPseudonym, subjectsOf, type Subject } from './subjects';

type Ctx = SubgraphContext;
type VisibleEnrolment = Enrolment & { view?: EnrolmentView };

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

async function requireMember(ctx: Ctx, projectId: string, what: string): Promise<void> {
  if (!(await ctx.access.memberOf(projectId))) throw userError('FORBIDDEN', `${what} is for the members of the project`, { projectId });
}

/**
 * The cohort: patients actively enrolled in the project whose consent opens this
 * project to this member (enrolment-rule.ts). Only members ask for cohorts.
 */
async function cohort(ctx: Ctx, projectId: string, loinc: string) {
  if (!isValidLoinc(loinc)) throw badInput(`${JSON.stringify(loinc)} is not a valid LOINC code (e.g. 4548-4)`, 'loinc');
  await loadProject(ctx, projectId);
  await requireMember(ctx, projectId, 'A cohort summary');
  const enrolled = await ctx.db
    .getRepository(Enrolment)
    .find({ select: { patientId: true }, where: { projectId, status: 'ACTIVE' }, order: { patientId: 'ASC' } });
  const memberIds = await ctx.access.allowed(enrolled.map((m) => m.patientId), 'RESEARCH', 'read', { project: projectId });
  return { projectId, loinc, memberIds };
}

/** A project's enrolled patients this request may see (the enrolment rule, for one project). */
async function visiblePatientsOf(ctx: Ctx, projectId: string): Promise<string[]> {
  const all = await ctx.db.getRepository(Enrolment).find({ select: { patientId: true, projectId: true }, where: { projectId } });
  return (await visibleEnrolments(ctx, all)).map((e) => e.patientId);
}

const resources = (ctx: Ctx) => ctx.resources as unknown as ResearchResources;

async function seesPseudonym(ctx: Ctx, e: VisibleEnrolment): Promise<boolean> {
  const view = e.view ?? (await enrolmentView(ctx, e));
  return view === 'self' || view === 'member';
}

export const resolvers: ResolverMap<Ctx> = {
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
      const rows = await pageQuery(base(), BY_ID, page).getMany();
      return { ...toConnection(rows, page, (p) => [p.id]), totalCount: () => base().getCount() };
    },

    cohortSummary: (_: unknown, args: { projectId: string; loinc: string }, ctx: Ctx) => cohort(ctx, args.projectId, args.loinc),
    researchSubject: (_: unknown, args: { projectId: string; pseudonym: string }, ctx: Ctx) => subjectByPseudonym(ctx, args.projectId, args.pseudonym),
  },

  ResearchProject: {
    __resolveReference: (ref: { id: string }, ctx: Ctx) => loadProject(ctx, ref.id),
    subjects: (p: ResearchProject, args: PageArgs, ctx: Ctx) => subjectsOf(ctx, p.id, args),
    institution: (p: ResearchProject) => ({ __typename: 'Institution', id: p.institutionId }),
    principalInvestigator: (p: ResearchProject) => ({ __typename: 'Practitioner', id: p.principalInvestigatorId }),
    viewerIsMember: (p: ResearchProject, _: unknown, ctx: Ctx) => ctx.access.memberOf(p.id),
    async members(p: ResearchProject, _: unknown, ctx: Ctx) {
      await requireMember(ctx, p.id, 'Who works on a project');
      const rows = await ctx.consent.engine.db.getRepository(ProjectMember).find({ where: { projectId: p.id }, order: { practitionerId: 'ASC' } });
      return rows.map((m) => ({ __typename: 'Practitioner', id: m.practitionerId }));
    },
    async enrolments(p: ResearchProject, args: PageArgs, ctx: Ctx) {
      const page = parsePage(args, ENROLMENT_ORDER.length);
      // Only enrolments this request may see (enrolment-rule.ts): filtered in the query,
      // so totalCount and pages never reveal anyone else.
      const visible = await visiblePatientsOf(ctx, p.id);
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

  ResearchSubject: {
    // By reference the subject is looked up again by pseudonym, under the same rule.
    __resolveReference: (ref: { projectId: string; pseudonym: string }, ctx: Ctx) => subjectByPseudonym(ctx, ref.projectId, ref.pseudonym),
    pseudonym: (s: Subject, _: unknown, ctx: Ctx) => subjectPseudonym(ctx, s),
    project: (s: Subject, _: unknown, ctx: Ctx) => loadProject(ctx, s.projectId),
  },

  Enrolment: {
    project: (e: Enrolment, _: unknown, ctx: Ctx) => loadProject(ctx, e.projectId),
    // Only the patient and the project's members see how the project names them.
    async pseudonym(e: VisibleEnrolment, _: unknown, ctx: Ctx) {
      return (await seesPseudonym(ctx, e)) ? resources(ctx).pseudonym(e.projectId, e.patientId) : null;
    },
    async previousPseudonym(e: VisibleEnrolment, _: unknown, ctx: Ctx) {
      const previous = resources(ctx).previousPseudonym;
      return previous && (await seesPseudonym(ctx, e)) ? previous(e.projectId, e.patientId) : null;
    },
    async patient(e: VisibleEnrolment, _: unknown, ctx: Ctx) {
      const view = e.view ?? (await enrolmentView(ctx, e));
      if (view === 'self') return { __typename: 'Patient', id: e.patientId };
      if (view === 'member' && ctx.access.known(e.patientId, 'RESEARCH', 'read', { project: e.projectId })?.identified) return { __typename: 'Patient', id: e.patientId };
      if (view === 'hidden') return null;
      return (await ctx.access.check(e.patientId, 'DEMOGRAPHICS')).allowed ? { __typename: 'Patient', id: e.patientId } : null;
    },
  },

  Patient: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    // The patient's enrolments this request may see, each by the enrolment rule: a
    // researcher sees only those of their own projects.
    researchProjects: async (patient: { id: string }, _: unknown, ctx: Ctx) =>
      visibleEnrolments(ctx, await groupedBy(ctx, Enrolment, 'patientId', 'enrolment', { enrolledAt: 'ASC' }).load(patient.id)),
  },

  CohortSummary: {
    __resolveReference: (ref: { projectId: string; loinc: string }, ctx: Ctx) => cohort(ctx, ref.projectId, ref.loinc),
    project: (c: { projectId: string }, _: unknown, ctx: Ctx) => loadProject(ctx, c.projectId),
  },
};

