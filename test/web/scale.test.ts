/**
 * The charts' shared scale (web/public/js/scale.js), the exact file the browser loads:
 * whatever the data — none, one value, all equal, NaN or Infinity among them — every
 * domain, position and tick is a finite number, so no axis reads "∞" or "NaN".
 */
import { loadBrowserModule } from './browser-module';

type Domain = [number, number];
const scale = loadBrowserModule<{
  finite(values: unknown[]): number[];
  domainOf(values: unknown[], options?: { include?: unknown[]; pad?: number }): Domain;
  scaleLinear(domain: number[], range: number[]): (v: number) => number;
  ticks(lo: number, hi: number, count?: number): number[];
  timeDomain(times: unknown[]): Domain;
}>('scale.js');

const allFinite = (xs: number[]) => xs.every((x) => Number.isFinite(x));

describe('domainOf', () => {
  test('covers the values (and what must stay in view)', () => {
    expect(scale.domainOf([3, 1, 2])).toEqual([1, 3]);
    expect(scale.domainOf([5, 6], { include: [4, 9] })).toEqual([4, 9]);
    expect(scale.domainOf([0, 10], { pad: 0.1 })).toEqual([-1, 11]);
  });

  test.each<[string, unknown[], unknown[]]>([
    ['no values', [], []],
    ['only nulls and NaN', [null, undefined, NaN], []],
    ['Infinity', [Infinity, -Infinity], []],
    ['one value', [7], []],
    ['all equal', [4.2, 4.2, 4.2], []],
    ['zero only', [0, 0], []],
    ['an empty include', [], [null]],
    ['values beyond a double’s span', [-Number.MAX_VALUE, Number.MAX_VALUE], []],
  ])('%s: a finite, non-empty interval', (_, values, include) => {
    const [lo, hi] = scale.domainOf(values, { include });
    expect(allFinite([lo, hi])).toBe(true);
    expect(hi).toBeGreaterThan(lo);
  });

  test('one value sits in the middle of its domain', () => {
    const [lo, hi] = scale.domainOf([50]);
    expect((lo + hi) / 2).toBeCloseTo(50, 9);
    expect(scale.domainOf([0])).toEqual([-0.5, 0.5]);
  });
});

describe('scaleLinear', () => {
  test('maps the domain onto the range, either way round', () => {
    const x = scale.scaleLinear([0, 10], [100, 200]);
    expect([x(0), x(5), x(10)]).toEqual([100, 150, 200]);
    const y = scale.scaleLinear([0, 10], [200, 100]); // SVG y grows downwards
    expect([y(0), y(10)]).toEqual([200, 100]);
  });

  test('never answers NaN or Infinity: degenerate domains and inputs', () => {
    for (const domain of [[5, 5], [NaN, 3], [Infinity, -Infinity], [0, 0]]) {
      const x = scale.scaleLinear(domain, [0, 640]);
      expect(allFinite([x(5), x(0), x(NaN), x(Infinity), x(-1e300)])).toBe(true);
    }
    const flat = scale.scaleLinear([1, 2], [NaN, Infinity]);
    expect(allFinite([flat(1.5)])).toBe(true);
  });
});

describe('ticks', () => {
  test('round values inside the domain', () => {
    expect(scale.ticks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(scale.ticks(0.1, 0.9, 4)).toEqual([0.2, 0.4, 0.6, 0.8]);
    expect(scale.ticks(3.7, 12.2, 4)).toEqual([5, 10]);
    expect(scale.ticks(3.7, 12.2, 8)).toEqual([4, 6, 8, 10, 12]);
  });

  test.each<[string, number, number]>([
    ['an empty domain', Infinity, -Infinity],
    ['one value', 7, 7],
    ['NaN', NaN, NaN],
    ['a huge span', -1e308, 1e308],
  ])('%s: at least one finite tick, not too many', (_, lo, hi) => {
    const t = scale.ticks(lo, hi, 5);
    expect(t.length).toBeGreaterThan(0);
    expect(t.length).toBeLessThanOrEqual(50);
    expect(allFinite(t)).toBe(true);
  });
});

test('timeDomain: none gives an hour, one instant gets an hour on each side', () => {
  expect(scale.timeDomain([])).toEqual([0, 3_600_000]);
  const t = Date.parse('2026-11-01T00:00:00Z');
  expect(scale.timeDomain([t])).toEqual([t - 3_600_000, t + 3_600_000]);
  expect(scale.timeDomain([t + 5, NaN, t])).toEqual([t, t + 5]);
});
