/**
 * A cohort's histogram: the same latest FINAL (or AMENDED) value per patient as the
 * statistics (cohort-stats.ts), counted into equal-width buckets between the cohort's
 * min and max (about one bucket per COHORT_MIN_SIZE patients, at most 8) — in the database, bucket by bucket in one statement, chunk counts added.
 *
 * Small cells are withheld per bucket, by the rule the summary follows: a bucket of 1 to
 * COHORT_MIN_SIZE − 1 patients is not answered. Because the cohort's count is answered,
 * the withheld buckets' total is the count minus the shown ones: when that total is itself
 * under the threshold (one small bucket alone, say), one more bucket — the smallest shown
 * non-empty one — is withheld too, so that no count under the threshold can be worked out
 * by subtraction. Empty buckets say 0 (nobody's value is there; no one is revealed).
 *
 * The server chooses the buckets (no arguments): two histograms of one cohort with
 * overlapping buckets of the client's choosing could be subtracted to isolate a patient.
 */
import type { DataSource } from 'typeorm';
import { num } from '../../common/database';
import { chunk } from '../kit/loaders';
import { latestValues } from './cohort-stats';

export interface CohortBucket {
  low: number;
  high: number;
  count: number | null;
  suppressed: boolean;
}

/** At most this many buckets: enough to see a shape, few enough to stay above the threshold. */
export const MAX_BUCKETS = 8;

/**
 * How many buckets a cohort of `count` patients gets: about one per `minSize` patients
 * (1 to MAX_BUCKETS). More buckets than that could not all be filled above the threshold
 * and would only be withheld; the count it depends on is itself answered.
 */
export function bucketsFor(count: number, minSize: number): number {
  return Math.max(1, Math.min(MAX_BUCKETS, Math.floor(count / Math.max(1, minSize))));
}

/**
 * Equal-width edges from below `min` to above `max`, the width a round number (1, 2, 2.5
 * or 5 × 10^n), at most `maxBuckets` buckets; one bucket [min, max] when they are equal
 * or only one is wanted.
 */
export function bucketEdges(min: number, max: number, maxBuckets = MAX_BUCKETS): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  // One bucket (a small cohort) or one value: exactly [min, max], no rounding outwards.
  if (max === min || maxBuckets <= 1) return [min, max];
  const raw = (max - min) / maxBuckets;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 2.5, 5, 10, 20].map((m) => m * power)) {
    const start = Math.floor(min / step) * step;
    const n = Math.max(1, Math.ceil((max - start) / step - 1e-9));
    if (n <= maxBuckets) {
      const edges = Array.from({ length: n + 1 }, (_, i) => Number((start + i * step).toPrecision(12)));
      // Rounding must not leave the extremes outside (counting is open-ended anyway: below).
      edges[0] = Math.min(edges[0]!, min);
      edges[n] = Math.max(edges[n]!, max);
      return edges;
    }
  }
  return [min, max];
}

/**
 * Withholds small buckets (primary) and, when the withheld ones add up to fewer than
 * `minSize`, the smallest shown non-empty bucket as well (secondary). Pure: tested alone.
 */
export function suppressSmallBuckets(buckets: ReadonlyArray<{ low: number; high: number; count: number }>, minSize: number): CohortBucket[] {
  const withheld = buckets.map((b) => b.count > 0 && b.count < minSize);
  const hiddenTotal = () => buckets.reduce((sum, b, i) => sum + (withheld[i] ? b.count : 0), 0);
  while (hiddenTotal() > 0 && hiddenTotal() < minSize) {
    let pick = -1;
    buckets.forEach((b, i) => {
      if (!withheld[i] && b.count > 0 && (pick < 0 || b.count < buckets[pick]!.count)) pick = i;
    });
    if (pick < 0) break; // nothing left to withhold: every non-empty bucket already is
    withheld[pick] = true;
  }
  return buckets.map((b, i) => (withheld[i] ? { low: b.low, high: b.high, count: null, suppressed: true } : { low: b.low, high: b.high, count: b.count, suppressed: false }));
}

/**
 * Counts the latest value per patient into the buckets between `edges`. The first bucket
 * is open below and the last open above, so every value lands in exactly one bucket
 * whatever the floating-point rounding of the edges.
 */
export async function bucketCounts(db: DataSource, loinc: string, patientIds: readonly string[], edges: readonly number[]): Promise<number[]> {
  const n = edges.length - 1;
  const counts = new Array<number>(Math.max(0, n)).fill(0);
  if (n < 1) return counts;
  for (const ids of chunk([...new Set(patientIds)])) {
    const q = db.createQueryBuilder();
    for (let i = 0; i < n; i++) {
      const conditions = [i > 0 ? `latest.value >= :e${i}` : null, i < n - 1 ? `latest.value < :e${i + 1}` : null].filter(Boolean);
      const when = conditions.length ? conditions.join(' AND ') : '1 = 1';
      q.addSelect(`SUM(CASE WHEN ${when} THEN 1 ELSE 0 END)`, `b${i}`);
    }
    const params = Object.fromEntries(edges.map((e, i) => [`e${i}`, e]));
    const row: Record<string, unknown> | undefined = await q
      .from(latestValues(loinc, ids), 'latest')
      .where('latest.rn = 1')
      .setParameters(params)
      .getRawOne();
    for (let i = 0; i < n; i++) counts[i] += num(row?.[`b${i}`]) ?? 0;
  }
  return counts;
}

/** The histogram of a cohort whose summary is answered (count ≥ minSize, min and max known). */
export async function cohortDistribution(
  db: DataSource,
  loinc: string,
  patientIds: readonly string[],
  summary: { count: number; min: number; max: number },
  minSize: number,
): Promise<CohortBucket[]> {
  const edges = bucketEdges(summary.min, summary.max, bucketsFor(summary.count, minSize));
  const counts = await bucketCounts(db, loinc, patientIds, edges);
  return suppressSmallBuckets(counts.map((count, i) => ({ low: edges[i]!, high: edges[i + 1]!, count })), minSize);
}
