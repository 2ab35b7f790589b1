/**
 * The hub's ids (`pat_<hex>`, common/ids.ts) as FHIR ids, reversibly: FHIR allows
 * [A-Za-z0-9\-.]{1,64}, not `_`, so the prefix's `_` becomes `-` (`pat-<hex>`). A FHIR id
 * that does not map back to a hub id of the expected prefix is "not found", like any
 * other unknown id, without asking the supergraph.
 */
import { FhirError } from './outcome';

const FHIR_ID = /^([a-z]{2,8})-([0-9a-f]{1,56})$/;

export { toFhirId } from '../common/fhir-id';

/** The hub id of a FHIR id, if it has one of the `prefixes`; null otherwise. */
export function toHubId(fhirId: string, prefixes: readonly string[]): string | null {
  const m = FHIR_ID.exec(fhirId);
  if (!m || !prefixes.includes(m[1]!)) return null;
  return `${m[1]}_${m[2]}`;
}

/** A reference search value (`Patient/pat-1`, `pat-1`, or an absolute URL ending so) as a hub id. */
export function referencedHubId(value: string, type: string, prefixes: readonly string[]): string {
  const m = new RegExp(`(?:^|/)(?:${type}/)?([A-Za-z0-9\\-.]{1,64})$`).exec(value);
  const typed = /(^|\/)([A-Z][A-Za-z]+)\/[^/]+$/.exec(value);
  if (!m || (typed && typed[2] !== type)) throw new FhirError(400, 'invalid', `Expected a reference to a ${type}, e.g. ${type}/${prefixes[0]}-…`);
  const id = toHubId(m[1]!, prefixes);
  // An id of the wrong shape cannot name anything: the same answer as a hidden one.
  return id ?? `${prefixes[0]}_unknown`;
}
