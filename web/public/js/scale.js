// @ts-check
/**
 * The one place charts turn numbers into positions. Every chart goes through it, so no
 * chart draws an infinite or NaN axis, whatever the data: no values (Math.min() of nothing
 * is Infinity), one value, all values equal (a span of 0 divides by zero), or values that
 * are not finite numbers at all. Pure functions, no DOM: test/web/scale.test.ts runs them
 * under plain Jest.
 */

/** @typedef {[number, number]} Domain a finite [lo, hi] with lo < hi */

/** Beyond this no chart value makes sense; clamping keeps every span finite. */
const LIMIT = 1e300;

/**
 * The finite numbers among `values` (null, undefined, NaN and ±Infinity are left out).
 * @param {ReadonlyArray<number | null | undefined>} values
 * @returns {number[]}
 */
export function finite(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).map(Number);
}

/**
 * A domain covering every finite value (and every finite `include`, e.g. a reference
 * range that should stay in view), always finite and never empty: no values gives [0, 1];
 * one value or all equal gives a span around it. `pad` widens it by that fraction of the
 * span on each side.
 * @param {ReadonlyArray<number | null | undefined>} values
 * @param {{ include?: ReadonlyArray<number | null | undefined>, pad?: number }} [options]
 * @returns {Domain}
 */
export function domainOf(values, options = {}) {
  const all = finite([...values, ...(options.include ?? [])]);
  if (all.length === 0) return [0, 1];
  // Clamped so that hi - lo (and the padding below) stays a finite double.
  let lo = Math.max(-LIMIT, all.reduce((a, b) => (b < a ? b : a)));
  let hi = Math.min(LIMIT, all.reduce((a, b) => (b > a ? b : a)));
  if (hi === lo) {
    // One value, or all equal: a span of 10 % of it on each side, or 0.5 around 0.
    const half = Math.abs(lo) * 0.1 || 0.5;
    lo -= half;
    hi += half;
  }
  const pad = Number.isFinite(options.pad) ? Math.min(1, Math.max(0, /** @type {number} */ (options.pad))) : 0;
  const extra = (hi - lo) * pad;
  return [lo - extra, hi + extra];
}

/**
 * A linear map from `domain` to `range`; values outside the domain map outside the range,
 * non-finite inputs map to the range's start (never NaN). A domain that is not a finite
 * interval is treated as [0, 1].
 * @param {ReadonlyArray<number>} domain
 * @param {ReadonlyArray<number>} range
 * @returns {(v: number) => number}
 */
export function scaleLinear(domain, range) {
  let [d0, d1] = [Number(domain[0]), Number(domain[1])];
  if (!Number.isFinite(d0) || !Number.isFinite(d1) || d0 === d1) [d0, d1] = domainOf([d0, d1]);
  const r0 = Number.isFinite(range[0]) ? Number(range[0]) : 0;
  const r1 = Number.isFinite(range[1]) ? Number(range[1]) : 0;
  const k = (r1 - r0) / (d1 - d0);
  return (v) => (Number.isFinite(v) ? r0 + (v - d0) * k : r0);
}

/**
 * About `count` round tick values (1, 2 or 5 × 10^n apart) inside [lo, hi]; always at
 * least one, always finite.
 * @param {number} lo
 * @param {number} hi
 * @param {number} [count]
 * @returns {number[]}
 */
export function ticks(lo, hi, count = 5) {
  [lo, hi] = domainOf([lo, hi]);
  const n = Math.max(1, Math.min(20, Math.floor(Number.isFinite(count) ? count : 5)));
  const raw = (hi - lo) / n;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => raw <= s) ?? 10 * power;
  const out = [];
  // Rounded through toPrecision so 0.1 + 0.2 style drift does not print as 0.30000000000000004.
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9 && out.length < 50; v += step) out.push(Number(v.toPrecision(12)));
  return out.length ? out : [Number(((lo + hi) / 2).toPrecision(12))];
}

/**
 * A time domain in milliseconds; like domainOf, but one instant gets an hour on either side.
 * @param {ReadonlyArray<number | null | undefined>} times
 * @returns {Domain}
 */
export function timeDomain(times) {
  const all = finite(times);
  if (all.length === 0) return [0, 3_600_000];
  const lo = all.reduce((a, b) => (b < a ? b : a));
  const hi = all.reduce((a, b) => (b > a ? b : a));
  return hi > lo ? [lo, hi] : [lo - 3_600_000, hi + 3_600_000];
}
