// @ts-check
/**
 * A cohort summary chart: one row per cohort, a bar from min to max of the lab value with
 * the mean marked, on a shared scale. An SVG for the eye, described for screen readers,
 * and always next to a table with the same numbers.
 */
import { num } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

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
 * @typedef {{ label: string, count: number, mean: number | null, min: number | null, max: number | null, unit: string | null, hidden?: string }} CohortRow
 */

/**
 * @param {CohortRow[]} rows
 * @param {string} title
 */
export function rangeChart(rows, title) {
  const shown = rows.filter((r) => !r.hidden && r.min !== null && r.max !== null);
  const lo = Math.min(...shown.map((r) => /** @type {number} */ (r.min)));
  const hi = Math.max(...shown.map((r) => /** @type {number} */ (r.max)));
  const span = hi - lo || 1;
  const width = 640;
  const labelWidth = 0;
  const rowHeight = 64;
  const pad = 16;
  const height = pad * 2 + rows.length * rowHeight + 20;
  const x = (/** @type {number} */ v) => pad + labelWidth + ((v - lo) / span) * (width - 2 * pad - labelWidth);
  const unit = shown.find((r) => r.unit)?.unit ?? '';
  const summary = rows
    .map((r) =>
      r.hidden ? `${r.label}: hidden (${r.hidden})` : r.count === 0 ? `${r.label}: no results` : `${r.label}: ${r.count} patients, from ${num(r.min)} to ${num(r.max)}, mean ${num(r.mean)} ${r.unit ?? ''}`,
    )
    .join('; ');
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}. ${summary}`, class: 'chart' });
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
  const axis = pad + rows.length * rowHeight + 12;
  svg.append(s('line', { x1: x(lo), x2: x(hi), y1: axis - 8, y2: axis - 8, class: 'chart-axis' }));
  svg.append(s('text', { x: x(lo), y: axis + 6, class: 'chart-tick' }, `${num(lo)} ${unit}`));
  svg.append(s('text', { x: x(hi), y: axis + 6, 'text-anchor': 'end', class: 'chart-tick' }, `${num(hi)} ${unit}`));
  return svg;
}
