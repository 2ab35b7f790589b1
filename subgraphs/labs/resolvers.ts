import type { ResolverMap } from '../../common/resolver-map';
import { badInput, userError } from '../../common/errors';
import { parsePage, type SortColumn, type PageArgs } from '../../common/pagination';
import { DateTime } from '../../common/scalars';
import { childPage, type Filter } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import { byId } from '../kit/loaders';
import { rowFilters, visibleById } from '../kit/rows';
import { LAB_RESULT_ROWS } from './rules';
import { cohortStats, suppressSmallCells, type CohortStats } from './cohort-stats';
import { cohortDistribution } from './cohort-distribution';
import { LabResult } from './entities';
import { isValidLoinc, LOINC_BY_CODE, LOINC_SYSTEM } from '../../common/loinc';
import type { LabsResources } from './definition';
import type { SeriesArgs, SubjectRef } from '../kit/research-series';
import { researchLabResult, subjectLabResults } from './research-series';

type Ctx = SubgraphContext;

const NEWEST_FIRST: SortColumn[] = [
  { column: 'effective_at', direction: 'DESC' },
  { column: 'id', direction: 'DESC' },
];

const OLDEST_FIRST: SortColumn[] = NEWEST_FIRST.map((c) => ({ ...c, direction: 'ASC' }));

function requireLoinc(code: string, field: string): string {
  if (!isValidLoinc(code)) throw badInput(`${JSON.stringify(code)} is not a valid LOINC code (e.g. 4548-4)`, field);
  return code;
}

interface LabResultsArgs extends PageArgs {
  code?: string | null;
  since?: Date | null;
  until?: Date | null;
  oldestFirst?: boolean | null;
}

/** A resolved summary, with the members it was computed over (not a schema field). */
type ResolvedCohort = CohortStats & { projectId: string; loinc: string; members: string[] };

const minSize = (ctx: Ctx) => (ctx.resources as unknown as LabsResources).cohortMinSize;

interface CohortRef {
  projectId: string;
  loinc: string;
  memberIds?: string[];
}

export const resolvers: ResolverMap<Ctx> = {
  DateTime,

  Query: {
    labResult: async (_: unknown, { id }: { id: string }, ctx: Ctx) => visibleById(ctx, LAB_RESULT_ROWS, await byId(ctx, LabResult, 'lab').load(id), id),
  },

  Patient: {
    // Labs does not own patients: any id is a valid reference to attach results to.
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    async labResults(patient: { id: string }, args: LabResultsArgs, ctx: Ctx) {
      const page = parsePage(args, NEWEST_FIRST.length);
      const filters: Filter[] = [];
      if (args.code != null) filters.push({ sql: 'loinc_code = :code', params: { code: requireLoinc(args.code, 'code') } });
      if (args.since) filters.push({ sql: 'effective_at >= :since', params: { since: args.since.toISOString() } });
      if (args.until) filters.push({ sql: 'effective_at < :until', params: { until: args.until.toISOString() } });
      if (args.since && args.until && args.since >= args.until) throw badInput('`since` must be before `until`', 'until');
      // The row rule as SQL: what the patient's consent excludes is left out of the query.
      filters.push(...(await rowFilters(ctx, LAB_RESULT_ROWS, patient.id)));
      return childPage(
        ctx,
        {
          // The order is part of the name: the page loader is shared by equal names and filters.
          name: args.oldestFirst ? 'Patient.labResults:oldest' : 'Patient.labResults',
          entity: LabResult,
          table: 'lab_result',
          parentColumn: 'patient_id',
          sort: args.oldestFirst ? OLDEST_FIRST : NEWEST_FIRST,
          sortKey: (r) => [r.effectiveAt.toISOString(), r.id],
          parentOf: (r) => r.patientId,
          filters,
        },
        page,
        patient.id,
      );
    },
  },

  LabResult: {
    // The gate answers an unknown or hidden row NOT_FOUND (LAB_RESULT_ROWS).
    __resolveReference: (ref: { id: string }, ctx: Ctx) => byId(ctx, LabResult, 'lab').load(ref.id),
    patient: (r: LabResult) => ({ __typename: 'Patient', id: r.patientId }),
    code: (r: LabResult) => ({ system: LOINC_SYSTEM, code: r.loincCode, display: r.loincDisplay }),
    referenceRange: (r: LabResult) =>
      r.referenceLow == null && r.referenceHigh == null ? null : { low: r.referenceLow, high: r.referenceHigh, unit: r.unit },
    issuer: (r: LabResult) => ({ __typename: 'Institution', id: r.issuerId }),
  },

  ResearchSubject: {
    labResults: (s: SubjectRef, args: SeriesArgs & { code?: string | null }, ctx: Ctx) => subjectLabResults(s, args, ctx),
  },

  ResearchLabResult: researchLabResult,

  CohortSummary: {
    async __resolveReference(ref: CohortRef, ctx: Ctx) {
      requireLoinc(ref.loinc, 'loinc');
      // Re-checked here rather than trusted from the research subgraph: the caller works
      // on the project, and each member's LABS are decided in the project's context (a
      // research consent opens only its own project). A member whose consent excludes
      // this code's class, or any period, is left out entirely: failing closed beats
      // splitting their history by date in an aggregate.
      if (!(await ctx.access.memberOf(ref.projectId))) throw userError('FORBIDDEN', 'Cohorts are for the members of the project', { projectId: ref.projectId });
      const project = { project: ref.projectId };
      const loincClass = LOINC_BY_CODE.get(ref.loinc)?.loincClass;
      const allowed = await ctx.access.allowed(ref.memberIds ?? [], 'LABS', 'read', project);
      const members = allowed.filter(
        (id) => !ctx.access.known(id, 'LABS', 'read', project)!.exclusions.some((e) => !e.loincClass || e.loincClass === loincClass),
      );
      const stats = await cohortStats(ctx.db, ref.loinc, members);
      const summary: ResolvedCohort = { projectId: ref.projectId, loinc: ref.loinc, ...suppressSmallCells(stats, minSize(ctx)), members };
      return summary;
    },
    // Counted only when asked for, over exactly the members the statistics counted; none
    // when the summary itself is withheld.
    distribution: (s: ResolvedCohort, _: unknown, ctx: Ctx) =>
      s.suppressed || s.count == null || s.min == null || s.max == null
        ? null
        : cohortDistribution(ctx.db, s.loinc, s.members, { count: s.count, min: s.min, max: s.max }, minSize(ctx)),
  },
};
