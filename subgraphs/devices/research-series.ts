/**
 * A research subject's device readings over time (ResearchSubject.readings): the readings
 * of every device the patient owns, oldest first, from the view research_reading.
 *
 * As for lab results (labs/research-series.ts): the gate has decided DEVICES for the
 * patient in THAT project; the pseudonym must be the patient's; the consent's exceptions
 * by date (READING_ROWS, decided in the same scope) are SQL, so pages and totalCount
 * agree; rows carry no reading or device id, and the cursors are sealed.
 */
import { badInput } from '../../common/errors';
import type { SortColumn } from '../../common/pagination';
import { sealedChildPage } from '../kit/child-pages';
import type { SubgraphContext } from '../kit/context';
import { rowFilters } from '../kit/rows';
import { periodFilters, requirePairing, type ResearchSecrets, type SeriesArgs, type SubjectRef } from '../kit/research-series';
import { ResearchReadingRow } from './entities';
import { METRICS, type Metric } from './metrics';
import { READING_ROWS } from './rules';

type Ctx = SubgraphContext;

const OLDEST_FIRST: SortColumn[] = [
  { column: 'recorded_at', direction: 'ASC' },
  { column: 'id', direction: 'ASC' },
];

const READINGS_PAGE = 50;

export async function subjectReadings(subject: SubjectRef, args: SeriesArgs & { kind?: string | null }, ctx: Ctx) {
  const secrets = (ctx.resources as { research: ResearchSecrets }).research;
  requirePairing(secrets, subject);
  const filters = periodFilters(args, 'recorded_at');
  if (args.kind != null) {
    if (!(args.kind in METRICS)) throw badInput(`${JSON.stringify(args.kind)} is not a metric: one of ${Object.keys(METRICS).join(', ')}`, 'kind');
    filters.push({ sql: 'metric = :seriesKind', params: { seriesKind: args.kind as Metric } });
  }
  // READING_ROWS' facts are columns of the view too (recorded_at).
  filters.push(...(await rowFilters(ctx, READING_ROWS, subject.patientId, { project: subject.projectId })));
  return sealedChildPage(
    ctx,
    {
      name: 'ResearchSubject.readings',
      entity: ResearchReadingRow,
      table: 'research_reading',
      parentColumn: 'owner_patient_id',
      sort: OLDEST_FIRST,
      sortKey: (r) => [r.recordedAt.toISOString(), r.id],
      parentOf: (r) => r.ownerPatientId,
      filters,
    },
    args,
    secrets.cursors,
    subject.patientId,
    READINGS_PAGE,
  );
}
