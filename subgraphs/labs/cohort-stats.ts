/**
 * Cohort statistics: over the latest FINAL (or AMENDED) result of one LOINC code per
 * patient, computed in the database so that a 10,000-patient cohort moves four numbers,
 * not 10,000 rows. Chunks (bind-parameter limits) are merged exactly: counts and sums
 * add, minima and maxima compare.
 */
import type { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { num } from '../../common/database';
import { chunk } from '../kit/loaders';

export interface CohortStats {
  count: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
  unit: string | null;
  /** Withheld because fewer than the minimum cell size contributed. */
  suppressed: boolean;
  suppressedReason: string | null;
}

/**
 * Small cells are withheld: a statistic over fewer than `minSize` patients (`count: 1`
 * is one person's value; 2 or 3 give every value away) is not answered — not even the
 * count, which would tell two neighbouring answers apart. The reason names the rule,
 * never the number.
 */
export function suppressSmallCells(stats: Omit<CohortStats, 'suppressed' | 'suppressedReason'>, minSize: number): CohortStats {
  if ((stats.count ?? 0) >= minSize) return { ...stats, suppressed: false, suppressedReason: null };
  return {
    count: null,
    mean: null,
    min: null,
    max: null,
    unit: stats.unit,
    suppressed: true,
    suppressedReason: `Fewer than ${minSize} patients contribute (COHORT_MIN_SIZE): statistics over so few could reveal individuals.`,
  };
}

/**
 * Each patient's results of `loinc` that count (FINAL or AMENDED), newest first, ranked
 * (`rn` 1 is the latest): the rows a cohort's statistics and its distribution
 * (cohort-distribution.ts) are both taken over, so the two can never disagree on whose
 * value counts. Select from it with `latest.rn = 1`.
 */
export const latestValues =
  (loinc: string, ids: readonly string[]) =>
  (sub: SelectQueryBuilder<ObjectLiteral>): SelectQueryBuilder<ObjectLiteral> =>
    sub
      .select('r.value', 'value')
      .addSelect('r.unit', 'unit')
      .addSelect('ROW_NUMBER() OVER (PARTITION BY r.patient_id ORDER BY r.effective_at DESC, r.id DESC)', 'rn')
      .from('lab_result', 'r')
      .where('r.loinc_code = :loinc', { loinc })
      .andWhere("r.status IN ('FINAL', 'AMENDED')")
      .andWhere('r.patient_id IN (:...ids)', { ids });

export async function cohortStats(db: DataSource, loinc: string, patientIds: readonly string[]): Promise<Omit<CohortStats, 'suppressed' | 'suppressedReason'>> {
  let count = 0;
  let sum = 0;
  let min: number | null = null;
  let max: number | null = null;
  let unit: string | null = null;
  for (const ids of chunk([...new Set(patientIds)])) {
    const row: Record<string, unknown> | undefined = await db
      .createQueryBuilder()
      .select('COUNT(*)', 'n')
      .addSelect('SUM(latest.value)', 'total')
      .addSelect('MIN(latest.value)', 'lo')
      .addSelect('MAX(latest.value)', 'hi')
      .addSelect('MIN(latest.unit)', 'unit')
      .from(latestValues(loinc, ids), 'latest')
      .where('latest.rn = 1')
      .getRawOne();
    const n = num(row?.n) ?? 0;
    if (n === 0) continue;
    count += n;
    sum += num(row?.total) ?? 0;
    const lo = num(row?.lo);
    const hi = num(row?.hi);
    if (lo != null) min = min == null ? lo : Math.min(min, lo);
    if (hi != null) max = max == null ? hi : Math.max(max, hi);
    unit ??= (row?.unit as string | null) ?? null;
  }
  return { count, mean: count ? sum / count : null, min, max, unit };
}
