/**
 * The FHIR API's only way to data: GraphQL operations through the gateway's own executor,
 * as the caller (gateway/runtime/executor.ts `execute`). GraphQL errors become FHIR
 * statuses here, once, for every resource module:
 *
 *   UNAUTHENTICATED 401 · RATE_LIMITED 429 · FORBIDDEN / NOT_FOUND: 404 on a read, 403 on
 *   a search (unknown and hidden alike) · BAD_USER_INPUT and refused operations 400 ·
 *   timeouts and oversize answers the status the executor chose · anything else 500.
 */
import type { ExecutedOperation } from '../gateway/runtime/executor';
import { FhirError, type IssueType } from './outcome';

export type RunOperation = (query: string, variables: Record<string, unknown>) => Promise<ExecutedOperation>;

type GraphqlError = NonNullable<ExecutedOperation['result']['errors']>[number];

export interface Denied {
  /** What a FORBIDDEN or NOT_FOUND means for this interaction. */
  denied: () => FhirError;
  /**
   * Errors at these paths leave the rest of the answer usable (a field consent withholds,
   * e.g. a patient's demographics): the resource module marks the gap; none is an error.
   */
  tolerate?: (path: readonly (string | number)[], code: string) => boolean;
}

const BY_CODE: Record<string, [number, IssueType]> = {
  UNAUTHENTICATED: [401, 'login'],
  RATE_LIMITED: [429, 'throttled'],
  BAD_USER_INPUT: [400, 'invalid'],
  GRAPHQL_VALIDATION_FAILED: [400, 'invalid'],
  QUERY_TOO_COMPLEX: [400, 'too-costly'],
  REQUEST_TIMEOUT: [504, 'timeout'],
  SUBGRAPH_TIMEOUT: [504, 'timeout'],
  RESPONSE_TOO_LARGE: [400, 'too-costly'],
};

function asFhirError(error: GraphqlError, status: number, denied: () => FhirError): FhirError {
  const code = String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  if (code === 'FORBIDDEN' || code === 'NOT_FOUND') return denied();
  const known = BY_CODE[code];
  if (known) return new FhirError(status >= 400 ? status : known[0], known[1], error.message);
  // Not described: the executor's formatError already masked anything internal.
  return new FhirError(500, 'exception', 'The request could not be completed');
}

/** Runs one operation and answers its data, or throws the FhirError its first blocking error means. */
export async function fetchData<T>(run: RunOperation, query: string, variables: Record<string, unknown>, how: Denied): Promise<T> {
  const { status, result } = await run(query, variables);
  const blocking = (result.errors ?? []).filter((e) => !(e.path && how.tolerate?.(e.path, String(e.extensions?.code ?? ''))));
  if (blocking.length) throw asFhirError(blocking[0]!, status, how.denied);
  if (!result.data) throw new FhirError(500, 'exception', 'The request could not be completed');
  return result.data as T;
}
