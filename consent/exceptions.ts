/**
 * Exceptions inside a consent ("LABS, except chemistry", "DEVICES, but nothing before
 * March") narrow what a permitted category shows, row by row. They are stated here once
 * and compiled two ways, like the base policies:
 *
 *   - `excludes(exclusion, row)` for a row already in hand (a lab result read by id, an
 *     entity reference, a mutation's payload);
 *   - `exclusionPredicates(exclusions, columns)` as SQL for lists, so pages and totals
 *     never count a hidden row.
 *
 * What an exception can name depends on the category: a category whose rows carry no
 * such fact cannot enforce it (its `exceptions` traits in vocabulary.ts), and a grant
 * asking for it is refused (consents.ts) rather than stored and silently ignored.
 */
import { codesOfClass, LOINC_BY_CODE } from '../common/loinc';

/** A row filter from a consent's exception: results matching ALL its set parts are hidden. */
export interface Exclusion {
  consentId: string;
  loincClass: string | null;
  from: Date | null;
  until: Date | null;
}

/** What an exception can name about a row. */
export interface RowFacts {
  /** When the data was measured (a result's effective time, a reading's recorded time). */
  at: Date;
  /** The LOINC code of a lab result. */
  loincCode?: string;
}

/** The SQL columns holding a row's facts. */
export interface FactColumns {
  at: string;
  loincCode?: string;
}

export function excludes(e: Exclusion, row: RowFacts): boolean {
  if (e.loincClass && (!row.loincCode || LOINC_BY_CODE.get(row.loincCode)?.loincClass !== e.loincClass)) return false;
  if (e.from && row.at < e.from) return false;
  if (e.until && row.at >= e.until) return false;
  return true;
}

/** Is a row with these facts hidden by any of the exclusions? */
export function excluded(exclusions: readonly Exclusion[], row: RowFacts): boolean {
  return exclusions.some((e) => excludes(e, row));
}

export interface Predicate {
  sql: string;
  params: Record<string, unknown>;
}

/** The exclusions as SQL predicates (each `NOT (...)`), over `columns`; parameter names are unique per call site `tag`. */
export function exclusionPredicates(exclusions: readonly Exclusion[], columns: FactColumns, tag = 'x'): Predicate[] {
  return exclusions.map((e, i) => {
    const parts: string[] = [];
    const params: Record<string, unknown> = {};
    if (e.loincClass) {
      // A class no known code belongs to excludes nothing by code; `-` keeps the IN list valid.
      if (!columns.loincCode) throw new Error('a LOINC-class exclusion needs a loincCode column');
      parts.push(`${columns.loincCode} IN (:...${tag}codes${i})`);
      params[`${tag}codes${i}`] = codesOfClass(e.loincClass).length ? codesOfClass(e.loincClass) : ['-'];
    }
    if (e.from) {
      parts.push(`${columns.at} >= :${tag}from${i}`);
      params[`${tag}from${i}`] = e.from.toISOString();
    }
    if (e.until) {
      parts.push(`${columns.at} < :${tag}until${i}`);
      params[`${tag}until${i}`] = e.until.toISOString();
    }
    return { sql: `NOT (${parts.join(' AND ')})`, params };
  });
}
