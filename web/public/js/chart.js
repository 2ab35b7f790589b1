// @ts-check
/**
 * The portal's charts, drawn as SVG by hand (no chart library, nothing from a network).
 * Each is a <figure>: a title (figcaption), the picture (an SVG with role img and a
 * summary as its name), and a table of the same numbers — the figure is focusable, so a
 * keyboard reaches every chart. Positions come from scale.js only, so no data (none, one
 * value, all equal) can put Infinity or NaN on an axis.
 */
import { h, uid } from './dom.js';
import { day, num } from './format.js';
import { domainOf, scaleLinear, ticks, timeDomain } from './scale.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 640;
const M = { left: 56, right: 16, top: 24, bottom: 40 };

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {string} [text]
 */
function s(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * A chart as a focusable figure: title, picture, and the table of its numbers.
 * @param {{ title: string, summary: string, svg: SVGElement, table: HTMLElement, kind: string, tableOpen?: boolean }} parts
 */
export function figure(parts) {
  const id = uid('chart');
  parts.svg.setAttribute('role', 'img');
  parts.svg.setAttribute('aria-label', `${parts.title}. ${parts.summary}`);
  const table = h('div', { class: 'table-wrap' }, parts.table);
  return h(
    'figure',
    { class: `chart-figure chart-${parts.kind}`, tabindex: 0, 'aria-labelledby': id },
    h('figcaption', { id }, parts.title),
    parts.svg,
    h('p', { class: 'hint chart-summary' }, parts.summary),
    parts.tableOpen === false ? h('details', {}, h('summary', {}, 'The numbers, as a table'), table) : table,
  );
}

/**
 * @param {string[]} columns
 * @param {Array<Array<import('./dom.js').Children>>} rows
 * @param {string} caption
 */
export function dataTable(columns, rows, caption) {
  return h(
    'table',
    { class: 'chart-table' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell, i) => h('td', { 'data-label': columns[i] }, cell))))),
  );
}

/**
 * A y axis with round ticks and grid lines.
 * @param {SVGElement} svg
 * @param {[number, number]} domain
 * @param {(v: number) => number} y
 * @param {number} height
 * @param {string} unit
 * @param {boolean} [integers] counts: whole ticks only
 */
function yAxis(svg, domain, y, height, unit, integers = false) {
  const values = ticks(domain[0], domain[1], 5).filter((t) => !integers || Number.isInteger(t));
  for (const t of values) {
    svg.append(s('line', { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t), class: 'chart-grid' }));
    svg.append(s('text', { x: M.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'chart-tick' }, num(t)));
  }
  svg.append(s('text', { x: 4, y: M.top - 10, class: 'chart-tick' }, unit));
  svg.append(s('line', { x1: M.left, x2: M.left, y1: M.top, y2: height - M.bottom, class: 'chart-axis' }));
  svg.append(s('line', { x1: M.left, x2: W - M.right, y1: height - M.bottom, y2: height - M.bottom, class: 'chart-axis' }));
}

/** @typedef {{ t: number, v: number, abnormal?: boolean, row?: import('./dom.js').Children[] }} Point */

/**
 * A time series: a line through the points, an optional band (a reference range), and
 * abnormal points marked by shape (a diamond) as well as colour.
 * @param {{ title: string, unit: string, points: Point[], band?: { low: number | null, high: number | null } | null, timeLabel?: (t: number) => string, columns?: string[], rowOf?: (p: Point) => import('./dom.js').Children[], tableOpen?: boolean, empty?: string }} spec
 */
export function timeSeries(spec) {
  const height = 240;
  const pts = spec.points.filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v)).sort((a, b) => a.t - b.t);
  const label = spec.timeLabel ?? ((/** @type {number} */ t) => day(new Date(t).toISOString()));
  const band = spec.band && (spec.band.low !== null || spec.band.high !== null) ? spec.band : null;
  const yDomain = domainOf(pts.map((p) => p.v), { include: band ? [band.low, band.high] : [], pad: 0.08 });
  const xDomain = timeDomain(pts.map((p) => p.t));
  const x = scaleLinear(xDomain, [M.left + 8, W - M.right - 8]);
  const y = scaleLinear(yDomain, [height - M.bottom, M.top]);
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart' });
  if (band) {
    const top = y(band.high ?? yDomain[1]);
    const bottom = y(band.low ?? yDomain[0]);
    svg.append(s('rect', { x: M.left, y: Math.min(top, bottom), width: W - M.left - M.right, height: Math.abs(bottom - top), class: 'chart-band' }));
  }
  yAxis(svg, yDomain, y, height, spec.unit);
  if (pts.length) {
    svg.append(s('text', { x: x(pts[0].t), y: height - M.bottom + 18, 'text-anchor': pts.length > 1 ? 'start' : 'middle', class: 'chart-tick' }, label(pts[0].t)));
    if (pts.length > 1) svg.append(s('text', { x: x(pts[pts.length - 1].t), y: height - M.bottom + 18, 'text-anchor': 'end', class: 'chart-tick' }, label(pts[pts.length - 1].t)));
    if (pts.length > 1) svg.append(s('path', { d: pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(''), class: 'chart-line' }));
    // Markers while they can be told apart; abnormal ones always.
    for (const p of pts) {
      if (p.abnormal) svg.append(s('path', { d: `M${x(p.t)},${y(p.v) - 7}l7,7l-7,7l-7,-7z`, class: 'chart-point abnormal' }));
      else if (pts.length <= 120) svg.append(s('circle', { cx: x(p.t), cy: y(p.v), r: 4, class: 'chart-point' }));
    }
  } else {
    svg.append(s('text', { x: W / 2, y: height / 2, 'text-anchor': 'middle', class: 'chart-hidden' }, spec.empty ?? 'No data'));
  }
  const values = pts.map((p) => p.v);
  const abnormal = pts.filter((p) => p.abnormal).length;
  const summary = pts.length
    ? `${pts.length} value${pts.length === 1 ? '' : 's'} from ${label(pts[0].t)} to ${label(pts[pts.length - 1].t)}, lowest ${num(Math.min(...values))}, highest ${num(Math.max(...values))} ${spec.unit}` +
      (band ? `; reference range ${band.low === null ? 'up to' : num(band.low)}${band.low !== null && band.high !== null ? '–' : ' '}${band.high === null ? 'and above' : num(band.high)} ${spec.unit}` : '') +
      (band ? `; ${abnormal} outside it (marked ◆)` : '') + '.'
    : spec.empty ?? 'No data.';
  const columns = spec.columns ?? ['When', `Value (${spec.unit})`];
  const rowOf = spec.rowOf ?? ((/** @type {Point} */ p) => p.row ?? [label(p.t), num(p.v)]);
  return figure({ title: spec.title, summary, svg, kind: 'series', table: dataTable(columns, pts.map(rowOf), spec.title), tableOpen: spec.tableOpen });
}

/** @typedef {{ low: number, high: number, count: number | null, suppressed: boolean }} Bucket */

/**
 * A histogram: one bar per bucket; a withheld bucket is drawn as a dashed, hatched box
 * labelled "withheld", never as a bar of some height.
 * @param {{ title: string, unit: string, buckets: Bucket[], minSize?: string }} spec
 */
export function histogram(spec) {
  const height = 220;
  const buckets = spec.buckets;
  const counts = buckets.map((b) => b.count ?? 0);
  // Counts: from 0 to at least 1 (a histogram of withheld buckets only has no height).
  const yDomain = /** @type {[number, number]} */ ([0, Math.max(1, domainOf(counts, { include: [0] })[1] * 1.15)]);
  const y = scaleLinear(yDomain, [height - M.bottom, M.top]);
  const n = Math.max(1, buckets.length);
  const slot = (W - M.left - M.right) / n;
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart' });
  yAxis(svg, yDomain, y, height, 'patients', true);
  buckets.forEach((b, i) => {
    const x0 = M.left + i * slot + 3;
    if (b.suppressed || b.count === null) {
      svg.append(s('rect', { x: x0, y: M.top, width: slot - 6, height: height - M.bottom - M.top, class: 'chart-withheld' }));
      svg.append(s('text', { x: x0 + (slot - 6) / 2, y: height / 2, 'text-anchor': 'middle', class: 'chart-hidden' }, 'withheld'));
    } else {
      const top = y(b.count);
      svg.append(s('rect', { x: x0, y: top, width: slot - 6, height: Math.max(0, height - M.bottom - top), class: 'chart-bar' }));
      svg.append(s('text', { x: x0 + (slot - 6) / 2, y: Math.max(M.top + 12, top - 4), 'text-anchor': 'middle', class: 'chart-value' }, String(b.count)));
    }
    // Each bucket's lower bound under its left edge; the last bucket's upper bound at the right.
    svg.append(s('text', { x: x0 - 3, y: height - M.bottom + 16, 'text-anchor': i === 0 ? 'start' : 'middle', class: 'chart-tick' }, num(b.low)));
  });
  if (buckets.length) svg.append(s('text', { x: W - M.right, y: height - M.bottom + 16, 'text-anchor': 'end', class: 'chart-tick' }, num(buckets[buckets.length - 1].high)));
  if (buckets.length) svg.append(s('text', { x: W - M.right, y: height - M.bottom + 34, 'text-anchor': 'end', class: 'chart-tick' }, spec.unit));
  const withheld = buckets.filter((b) => b.suppressed).length;
  const why = spec.minSize ?? 'fewer than the minimum number of patients (COHORT_MIN_SIZE), or withheld so that such a bucket cannot be worked out';
  const summary = buckets.length
    ? `${buckets.length} range${buckets.length === 1 ? '' : 's'} of ${spec.unit}: ` + buckets.map((b) => `${num(b.low)}–${num(b.high)}: ${b.suppressed ? 'withheld' : b.count}`).join('; ') + '.' + (withheld ? ` ${withheld} withheld: ${why}.` : '')
    : 'No distribution to show.';
  const rows = buckets.map((b) => [`${num(b.low)}–${num(b.high)} ${spec.unit}`, b.suppressed ? h('span', { class: 'hidden-data' }, 'withheld') : String(b.count)]);
  return figure({ title: spec.title, summary, svg, kind: 'histogram', table: dataTable(['Range', 'Patients'], rows, spec.title) });
}

/**
 * @typedef {{ label: string, count: number, mean: number | null, min: number | null, max: number | null, unit: string | null, hidden?: string }} CohortRow
 */

/**
 * The cohort summary chart: one row per cohort, a bar from min to max of the lab value with
 * the mean marked, on a shared scale. (Its table is the research view's cohort table.)
 * @param {CohortRow[]} rows
 * @param {string} title
 */
export function rangeChart(rows, title) {
  const shown = rows.filter((r) => !r.hidden && r.min !== null && r.max !== null && r.count > 0);
  const [lo, hi] = domainOf(shown.flatMap((r) => [r.min, r.max]));
  const rowHeight = 64;
  const pad = 16;
  const height = pad * 2 + Math.max(1, rows.length) * rowHeight + 20;
  const x = scaleLinear([lo, hi], [pad, W - pad]);
  const unit = shown.find((r) => r.unit)?.unit ?? '';
  const summary = rows.length
    ? rows
        .map((r) =>
          r.hidden ? `${r.label}: hidden (${r.hidden})` : r.count === 0 ? `${r.label}: no results` : `${r.label}: ${r.count} patients, from ${num(r.min)} to ${num(r.max)}, mean ${num(r.mean)} ${r.unit ?? ''}`,
        )
        .join('; ')
    : 'no cohorts';
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-label': `${title}. ${summary}`, class: 'chart chart-cohorts' });
  rows.forEach((r, i) => {
    const top = pad + i * rowHeight;
    svg.append(s('text', { x: pad, y: top + 14, class: 'chart-label' }, r.label));
    if (r.hidden || r.min === null || r.max === null || r.count === 0) {
      svg.append(s('text', { x: pad, y: top + 36, class: 'chart-hidden' }, r.hidden ? `hidden — ${r.hidden}` : 'no results'));
      return;
    }
    const y = top + 30;
    svg.append(s('rect', { x: x(r.min), y: y - 6, width: Math.max(2, x(r.max) - x(r.min)), height: 12, rx: 3, class: 'chart-range' }));
    if (r.mean !== null) svg.append(s('rect', { x: x(r.mean) - 2, y: y - 11, width: 4, height: 22, class: 'chart-mean' }));
    svg.append(s('text', { x: x(r.min), y: y + 22, class: 'chart-value' }, `n=${r.count} · ${num(r.min)}–${num(r.max)}, mean ${num(r.mean)} ${r.unit ?? ''}`));
  });
  const axis = pad + Math.max(1, rows.length) * rowHeight + 12;
  if (shown.length) {
    svg.append(s('line', { x1: x(lo), x2: x(hi), y1: axis - 8, y2: axis - 8, class: 'chart-axis' }));
    svg.append(s('text', { x: x(lo), y: axis + 6, class: 'chart-tick' }, `${num(lo)} ${unit}`));
    svg.append(s('text', { x: x(hi), y: axis + 6, 'text-anchor': 'end', class: 'chart-tick' }, `${num(hi)} ${unit}`));
  } else {
    svg.append(s('text', { x: pad, y: axis, class: 'chart-hidden' }, rows.length ? 'Nothing to draw: every cohort is hidden, withheld or empty.' : 'No cohorts to draw.'));
  }
  return svg;
}

