/** Search results as a FHIR Bundle of type searchset, with `self` and `next` links. */
import type { Resource, SearchPage } from './resource';
import { CURSOR_PARAM, encodeCursor } from './search';

export function searchset(base: string, type: string, given: URLSearchParams, page: SearchPage): Resource {
  const link = (params: URLSearchParams) => `${base}/${type}${params.size ? `?${params}` : ''}`;
  const links = [{ relation: 'self', url: link(given) }];
  if (page.next) {
    const next = new URLSearchParams(given);
    next.set(CURSOR_PARAM, encodeCursor(page.next));
    links.push({ relation: 'next', url: link(next) });
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total === undefined ? {} : { total: page.total }),
    link: links,
    // FHIR JSON has no empty arrays: a searchset that matched nothing has no `entry`.
    ...(page.resources.length
      ? { entry: page.resources.map((resource) => ({ fullUrl: `${base}/${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' } })) }
      : {}),
  };
}
