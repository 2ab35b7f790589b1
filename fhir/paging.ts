/**
 * Paging over a short list the supergraph answers whole (a patient's devices and
 * consents, the institutions, an institution's practitioners): the `next` link carries
 * the offset of the next page. The lists are bounded by what they are (a handful to a few
 * hundred rows), and the GraphQL fields have no paging of their own; the long series
 * (observations, patients, subjects, audit events) page in SQL through their cursors.
 */
import { invalid } from './outcome';
import type { Resource, SearchPage } from './resource';
import type { SearchQuery } from './search';

export function pageOfList(all: readonly Resource[], q: SearchQuery): SearchPage {
  const raw = q.cursor?.offset ?? 0;
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) throw invalid('Malformed _cursor: follow a next link exactly as it was returned');
  const end = raw + q.count;
  return { resources: all.slice(raw, end), total: all.length, next: end < all.length ? { offset: end } : undefined };
}
