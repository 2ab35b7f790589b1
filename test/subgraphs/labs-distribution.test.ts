/**
 * CohortSummary.distribution (subgraphs/labs/cohort-distribution.ts): a cohort's histogram
 * over real SQLite, with small cells withheld per bucket — and withheld again where the
 * cohort's count minus the shown buckets would give a small cell away.
 */
import { LabResult } from '../../subgraphs/labs/entities';
import { bucketEdges, bucketsFor, suppressSmallBuckets } from '../../subgraphs/labs/cohort-distribution';
import { LOINC_BY_CODE } from '../../common/loinc';
import { ok } from '../support/graphql';
import { PROJECT_RESEARCHER, projectConsent, startSeededSubgraph, type SubgraphUnderTest } from '../support/subgraph';

// Total cholesterol: in the catalogue, not in the seeded panel, so these are the only results.
const CODE = '2093-3';
const PROJECT = 'proj_hist';
let t: SubgraphUnderTest;
let minSize: number;
let patients: string[];

const SUMMARY = `query($r: [_Any!]!) { _entities(representations: $r) { ... on CohortSummary {
  count min max suppressed distribution { low high count suppressed } } } }`;
const summary = async (memberIds: string[]) =>
  ok(await t.gql(SUMMARY, { r: [{ __typename: 'CohortSummary', projectId: PROJECT, loinc: CODE, memberIds }] }, PROJECT_RESEARCHER))._entities[0];

/** One FINAL result per patient with these values; an older result of a different value for the first (only the latest counts). */
async function results(values: number[]) {
  const test = LOINC_BY_CODE.get(CODE)!;
  const rows = values.map((value, i) => ({
    id: `lab_hist_${i}`,
    patientId: patients[i]!,
    loincCode: CODE,
    loincDisplay: test.display,
    value,
    unit: test.unit,
    referenceLow: test.low,
    referenceHigh: test.high,
    interpretation: 'NORMAL' as const,
    status: 'FINAL' as const,
    effectiveAt: new Date('2026-10-01T08:00:00Z'),
    issuerId: 'ins_test',
  }));
  rows.push({ ...rows[0]!, id: 'lab_hist_old', value: 999, effectiveAt: new Date('2025-01-01T08:00:00Z') });
  await t.subgraph.db.getRepository(LabResult).insert(rows);
}

beforeAll(async () => {
  t = await startSeededSubgraph('labs', 40);
  minSize = t.database.env.COHORT_MIN_SIZE;
  const ids = (await t.subgraph.db.getRepository(LabResult).find()).map((r) => r.patientId);
  patients = [...new Set(ids)].sort().slice(0, 3 * minSize + 1);
  await projectConsent(t.database.env, PROJECT, patients);
  // Two crowded buckets and one patient far above everyone else: three buckets of 100.
  await results([...Array(minSize + 5).fill(90), ...Array(minSize + 5).fill(110), 300]);
});
afterAll(() => t?.close());

describe('CohortSummary.distribution', () => {
  test('a bucket of one patient is not revealed, nor can it be worked out from the count', async () => {
    const s = await summary(patients);
    expect([s.count, s.suppressed, s.min, s.max]).toEqual([3 * minSize + 1, false, 90, 300]);
    const buckets: { low: number; high: number; count: number | null; suppressed: boolean }[] = s.distribution;
    // About one bucket per COHORT_MIN_SIZE patients; contiguous, covering min to max.
    expect(buckets.map((b) => [b.low, b.high])).toEqual([[0, 100], [100, 200], [200, 300]]);
    // The outlier's bucket is withheld, and so is one crowded bucket (else 31 − 15 − 15 = 1);
    // the other is shown, true to the latest values (the older 999 is not counted).
    expect(buckets.map((b) => [b.count, b.suppressed])).toEqual([[null, true], [minSize + 5, false], [null, true]]);
    // No shown count is a small cell, and the withheld total (count minus the shown) is not one either.
    for (const b of buckets) if (b.count !== null) expect(b.count === 0 || b.count >= minSize).toBe(true);
    const shown = buckets.reduce((sum, b) => sum + (b.count ?? 0), 0);
    expect(s.count - shown).toBeGreaterThanOrEqual(minSize);
  });

  test('a suppressed summary has no distribution at all', async () => {
    const s = await summary(patients.slice(0, minSize - 1));
    expect(s).toEqual({ count: null, min: null, max: null, suppressed: true, distribution: null });
  });

  test('all values equal: one bucket, shown (it is the whole cohort)', async () => {
    const s = await summary(patients.slice(1, minSize + 1)); // ten patients at 90
    expect(s.distribution).toEqual([{ low: 90, high: 90, count: minSize, suppressed: false }]);
  });
});

describe('the rules, alone', () => {
  test('suppressSmallBuckets: primary, then secondary until the withheld total reaches the threshold', () => {
    const b = (...counts: number[]) => counts.map((count, i) => ({ low: i, high: i + 1, count }));
    const counts = (xs: { count: number | null }[]) => xs.map((x) => x.count);
    expect(counts(suppressSmallBuckets(b(12, 0, 15), 10))).toEqual([12, 0, 15]);
    expect(counts(suppressSmallBuckets(b(12, 3), 10))).toEqual([null, null]);
    expect(counts(suppressSmallBuckets(b(14, 1, 12, 20), 10))).toEqual([14, null, null, 20]);
    expect(counts(suppressSmallBuckets(b(4, 4, 4, 20), 10))).toEqual([null, null, null, 20]);
    // Exhaustively, for small cohorts: never a shown small cell, never a derivable one.
    for (let a = 0; a < 14; a++) for (let c = 0; c < 14; c++) for (let d = 0; d < 14; d++) {
      const total = a + c + d;
      if (total < 10) continue;
      const out = suppressSmallBuckets(b(a, c, d), 10);
      const shown = out.reduce((s, x) => s + (x.count ?? 0), 0);
      for (const x of out) if (x.count !== null) expect(x.count === 0 || x.count >= 10).toBe(true);
      expect(total - shown === 0 || total - shown >= 10).toBe(true);
    }
  });

  test('bucketsFor: about one bucket per COHORT_MIN_SIZE patients, 1 to 8', () => {
    expect([9, 10, 19, 20, 31, 80, 5000].map((n) => bucketsFor(n, 10))).toEqual([1, 1, 1, 2, 3, 8, 8]);
  });

  test('bucketEdges: round widths, at most 8 buckets, covering min and max', () => {
    expect(bucketEdges(90, 300)).toEqual([50, 100, 150, 200, 250, 300]);
    expect(bucketEdges(4.1, 9.7)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(bucketEdges(5, 5)).toEqual([5, 5]);
    expect(bucketEdges(4.9, 9.9, 1)).toEqual([4.9, 9.9]);
    expect(bucketEdges(NaN, 1)).toEqual([]);
    for (const [lo, hi] of [[0.59, 3.2], [-3, 7], [1e-6, 2e-6], [0, 1e9]] as const) {
      const e = bucketEdges(lo, hi);
      expect(e.length - 1).toBeLessThanOrEqual(8);
      expect(e[0]).toBeLessThanOrEqual(lo);
      expect(e.at(-1)).toBeGreaterThanOrEqual(hi);
    }
  });
});
