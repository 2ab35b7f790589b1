/**
 * What a resource module (resources/<type>.ts) provides: its search parameters, and read
 * and search as GraphQL operations through the caller's own supergraph execution. The
 * router (router.ts) and the CapabilityStatement (capability.ts) are built from these
 * declarations alone, so the statement lists exactly what is served.
 */
import type { Principal } from '../gateway/identity/authenticate';
import type { SearchParamDef, SearchQuery } from './search';
import type { RunOperation } from './supergraph';

/** A FHIR resource as JSON (the mappings build them field by field; tests validate them). */
export type Resource = { resourceType: string; id?: string } & Record<string, unknown>;

export interface FhirContext {
  run: RunOperation;
  principal: Principal;
  /** Absolute base of this API as the client called it, e.g. http://host:4000/fhir/R4. */
  base: string;
  /** Absolute origin of the gateway (for pointers to /ledger). */
  origin: string;
}

export interface SearchPage {
  resources: Resource[];
  /** Matches in all pages; left out where the supergraph does not count them. */
  total?: number;
  /** The continuation for the next page, if there is one (encoded into the `next` link). */
  next?: Record<string, unknown>;
}

export interface ResourceModule {
  type: string;
  /** What the resource holds and how consent applies, for the CapabilityStatement. */
  documentation: string;
  params: readonly SearchParamDef[];
  sortsByDate: boolean;
  /** One resource by its FHIR id (ids.ts); unknown and hidden are the same 404 (outcome.ts notFound). */
  read(ctx: FhirContext, fhirId: string): Promise<Resource>;
  search(ctx: FhirContext, query: SearchQuery): Promise<SearchPage>;
}
