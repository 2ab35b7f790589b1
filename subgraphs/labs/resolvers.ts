import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput, notFound } from '../../common/errors';
import { parsePage, type SortColumn, type PageArgs } from '../../common/pagination';
import { DateTime } from '../../common/scalars';
import { childPage, type Filter } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import { byId } from '../kit/loaders';
import { cohortStats } from './cohort-stats';
import { LabResult } from './entities';
import { codesOfClass, isValidLoinc, LOINC_BY_CODE, LOINC_SYSTEM } from '../../common/loinc';
import type { Exclusion } from '../../policies/engine';

type Ctx = SubgraphContext;

const NEWEST_FIRST: SortColumn[] = [
  { column: 'effective_at', direction: 'DESC' },
  { column: 'id', direction: 'DESC' },
];

function requireLoinc(code: string, field: string): string {
  if (!isValidLoinc(code)) throw badInput(`${JSON.stringify(code)} is not a valid LOINC code (e.g. 4548-4)`, field);
  return code;
}

interface LabResultsArgs extends PageArgs {
  code?: string | null;
  since?: Date | null;
}

/**
 * A consent's exceptions as SQL: results of an excluded LOINC class and/or effective in
 * an excluded period are left out of the query itself, so pages and counts agree.
 */
export function exclusionFilters(exclusions: Exclusion[]): Filter[] {
  return exclusions.map((e, i) => {
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    if (e.loincClass) {
      parts.push(`loinc_code IN (:...xcodes${i})`);
      params[`xcodes${i}`] = codesOfClass(e.loincClass).length ? codesOfClass(e.loincClass) : ['-'];
    }
    if (e.from) {
      parts.push(`effective_at >= :xfrom${i}`);
      params[`xfrom${i}`] = e.from.toISOString();
    }
    if (e.until) {
      parts.push(`effective_at < :xuntil${i}`);
      params[`xuntil${i}`] = e.until.toISOString();
    }
    return { sql: `NOT (${parts.join(' AND ')})`, params };
  });
}

interface CohortRef {
  projectId: string;
  loinc: string;
  memberIds?: string[];
}

export const resolvers: GraphQLResolverMap<Ctx> = {
  DateTime,

  Query: {
    async labResult(_: unknown, { id }: { id: string }, ctx: Ctx) {
      const row = await byId(ctx, LabResult, 'lab').load(id);
      if (!row) throw notFound('LabResult', id);
      return row;
    },
  },

  Patient: {
    // Labs does not own patients: any id is a valid reference to attach results to.
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    labResults(patient: { id: string }, args: LabResultsArgs, ctx: Ctx) {
      const page = parsePage(args, NEWEST_FIRST.length);
      const filters: Filter[] = [];
      if (args.code != null) filters.push({ sql: 'loinc_code = :code', params: { code: requireLoinc(args.code, 'code') } });
      if (args.since) filters.push({ sql: 'effective_at >= :since', params: { since: args.since.toISOString() } });
      // The gate has decided already; the decision says which rows its consent excludes.
      filters.push(...exclusionFilters(ctx.access.known(patient.id, 'LABS')?.exclusions ?? []));
      return childPage(
        ctx,
        {
          name: 'Patient.labResults',
          entity: LabResult,
          table: 'lab_result',
          parentColumn: 'patient_id',
          sort: NEWEST_FIRST,
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
    async __resolveReference(ref: { id: string }, ctx: Ctx) {
      const row = await byId(ctx, LabResult, 'lab').load(ref.id);
      if (!row) throw notFound('LabResult', ref.id);
      return row;
    },
    patient: (r: LabResult) => ({ __typename: 'Patient', id: r.patientId }),
    code: (r: LabResult) => ({ system: LOINC_SYSTEM, code: r.loincCode, display: r.loincDisplay }),
    referenceRange: (r: LabResult) =>
      r.referenceLow == null && r.referenceHigh == null ? null : { low: r.referenceLow, high: r.referenceHigh, unit: r.unit },
    issuer: (r: LabResult) => ({ __typename: 'Institution', id: r.issuerId }),
  },

  CohortSummary: {
    async __resolveReference(ref: CohortRef, ctx: Ctx) {
      requireLoinc(ref.loinc, 'loinc');
      // Counted only over members whose consent covers their labs for this caller and
      // purpose, re-checked here rather than trusted from the research subgraph.
      // A member whose consent excludes this code's class (for any period) is left out
      // entirely: failing closed beats splitting their history by date in an aggregate.
      const loincClass = LOINC_BY_CODE.get(ref.loinc)?.loincClass;
      const allowed = await ctx.access.allowed(ref.memberIds ?? [], 'LABS');
      const members = allowed.filter(
        (id) => !ctx.access.known(id, 'LABS')!.exclusions.some((e) => !e.loincClass || e.loincClass === loincClass),
      );
      const stats = await cohortStats(ctx.db, ref.loinc, members);
      return { projectId: ref.projectId, loinc: ref.loinc, ...stats };
    },
  },
};
