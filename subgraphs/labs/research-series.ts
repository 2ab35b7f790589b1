/**
 * A research subject's lab results over time (ResearchSubject.labResults).
 *
 * The subject comes from the research subgraph as (project, pseudonym, patient id). The
 * gate has already decided LABS for that patient in THAT project (rules.ts, `scope`);
 * here the pair is checked — the pseudonym must be the patient's in the project — and the
 * consent's exceptions, decided in the same scope, become SQL (LAB_RESULT_ROWS), so pages
 * and totalCount never count a hidden row. Rows leave without their id or patient, and
 * the cursors are sealed: nothing in the answer leads back to the patient.
 */
import { badInput } from '../../common/errors';
import { isValidLoinc, LOINC_SYSTEM } from '../../common/loinc';
import type { SortColumn } from '../../common/pagination';
import { sealedChildPage } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import { periodFilters, requirePairing, type ResearchSecrets, type SeriesArgs, type SubjectRef } from '../kit/research-series';
import { rowFilters } from '../kit/rows';
import { LabResult } from './entities';
import { LAB_RESULT_ROWS } from './rules';

type Ctx = SubgraphContext;

const OLDEST_FIRST: SortColumn[] = [
  { column: 'effective_at', direction: 'ASC' },
  { column: 'id', direction: 'ASC' },
];

const secrets = (ctx: Ctx) => (ctx.resources as { research: ResearchSecrets }).research;

export async function subjectLabResults(subject: SubjectRef, args: SeriesArgs & { code?: string | null }, ctx: Ctx) {
  requirePairing(secrets(ctx), subject);
  const filters = periodFilters(args, 'effective_at');
  if (args.code != null) {
    if (!isValidLoinc(args.code)) throw badInput(`${JSON.stringify(args.code)} is not a valid LOINC code (e.g. 4548-4)`, 'code');
    filters.push({ sql: 'loinc_code = :seriesCode', params: { seriesCode: args.code } });
  }
  filters.push(...(await rowFilters(ctx, LAB_RESULT_ROWS, subject.patientId, { project: subject.projectId })));
  return sealedChildPage(
    ctx,
    {
      name: 'ResearchSubject.labResults',
      entity: LabResult,
      table: 'lab_result',
      parentColumn: 'patient_id',
      sort: OLDEST_FIRST,
      sortKey: (r) => [r.effectiveAt.toISOString(), r.id],
      parentOf: (r) => r.patientId,
      filters,
    },
    args,
    secrets(ctx).cursors,
    subject.patientId,
  );
}

/** A series row as clients see it: no id, no patient. */
export const researchLabResult = {
  code: (r: LabResult) => ({ system: LOINC_SYSTEM, code: r.loincCode, display: r.loincDisplay }),
  referenceRange: (r: LabResult) => (r.referenceLow == null && r.referenceHigh == null ? null : { low: r.referenceLow, high: r.referenceHigh, unit: r.unit }),
  issuer: (r: LabResult) => ({ __typename: 'Institution', id: r.issuerId }),
};
