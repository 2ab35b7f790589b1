// @ts-check
/** Words and formats shared by the views. */
import { CATEGORY_LABEL } from './vocabulary.js';

export const PURPOSE_LABEL = /** @type {Record<string, string>} */ ({
  TREATMENT: 'Treatment',
  RESEARCH: 'Research',
  EMERGENCY: 'Emergency',
  OPERATIONS: 'Operations (compliance)',
});

/** The lab codes of the hub's catalogue (LOINC). */
export const LAB_CODES = /** @type {Array<[string, string]>} */ ([
  ['4548-4', 'HbA1c (4548-4)'],
  ['2345-7', 'Glucose (2345-7)'],
  ['13457-7', 'LDL cholesterol (13457-7)'],
  ['2160-0', 'Creatinine (2160-0)'],
  ['718-7', 'Hemoglobin (718-7)'],
]);

/** @param {string} category */
export const categoryLabel = (category) => CATEGORY_LABEL[category] ?? category;
/** @param {string} purpose */
export const purposeLabel = (purpose) => PURPOSE_LABEL[purpose] ?? purpose;

/**
 * An instant as local date and time.
 * @param {string | null | undefined} iso
 */
export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * A date only.
 * @param {string | null | undefined} iso
 */
export function day(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/**
 * A number with at most `digits` decimals.
 * @param {number | null | undefined} n
 * @param {number} [digits]
 */
export function num(n, digits = 2) {
  return n === null || n === undefined ? '—' : Number(n.toFixed(digits)).toLocaleString();
}
