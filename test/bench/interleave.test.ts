/** The benchmark's interleaved slices must merge exactly: requests over time, latencies exactly. */
import { mergeRuns, percentile, type LoadResult } from '../../bench/load';

test('interleaved slices merge: requests over time, latencies exactly', () => {
  const run = (rps: number, seconds: number): LoadResult => ({
    name: 's', url: 'u', connections: 16, seconds, requests: rps * seconds, rps, p50: 0, p90: 0, p99: 0, errors: 0, non2xx: 1, graphqlErrors: 2,
  });
  const merged = mergeRuns('m', [run(100, 5), run(200, 5)], [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
  expect(merged).toMatchObject({ seconds: 10, requests: 1500, rps: 150, p50: 5, p90: 9, p99: 10, non2xx: 2, graphqlErrors: 4 });
  expect(percentile([], 50)).toBe(0);
  expect(percentile([7], 99)).toBe(7);
});
