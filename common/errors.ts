/**
 * Every error a client sees carries a machine-readable `extensions.code`. Anything that
 * is not one of ours (a bug, a driver failure) is masked as INTERNAL_SERVER_ERROR with a
 * generic message: stack traces and SQL never leave the process.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from './logger';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'CONFLICT'
  | 'INTERNAL_SERVER_ERROR'
  // Refusals of hostile or oversized traffic (gateway/runtime/limits/):
  | 'QUERY_TOO_COMPLEX'
  | 'OPERATION_NOT_SUPPORTED'
  | 'RATE_LIMITED'
  | 'REQUEST_TIMEOUT'
  | 'SUBGRAPH_TIMEOUT'
  | 'RESPONSE_TOO_LARGE'
  | 'INVALID_REQUEST_ID';

export function userError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export const badInput = (message: string, field?: string) =>
  userError('BAD_USER_INPUT', message, field ? { field } : {});

export const notFound = (kind: string, id: string) =>
  userError('NOT_FOUND', `${kind} ${JSON.stringify(id)} does not exist`, { kind, id });

/** Codes produced by graphql-js and Apollo itself for malformed requests; safe to show. */
const PASS_THROUGH = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'CONFLICT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'QUERY_TOO_COMPLEX',
  'OPERATION_NOT_SUPPORTED',
  'RATE_LIMITED',
  'REQUEST_TIMEOUT',
  'SUBGRAPH_TIMEOUT',
  'RESPONSE_TOO_LARGE',
  'INVALID_REQUEST_ID',
]);

interface SubgraphResponse {
  status?: number;
  body?: { errors?: GraphQLFormattedError[] };
}

/**
 * A subgraph that refuses a request outright (HTTP 4xx, e.g. a DateTime literal its
 * scalar rejects) reaches the gateway as a bare "400: Bad Request". The subgraph's own
 * typed error is inside the response body: surface that one instead of masking it.
 */
function refusedBySubgraph(formatted: GraphQLFormattedError): GraphQLFormattedError | undefined {
  const response = formatted.extensions?.response as SubgraphResponse | undefined;
  const inner = response?.body?.errors?.[0];
  const code = inner?.extensions?.code;
  if (!inner || typeof code !== 'string' || !PASS_THROUGH.has(code)) return undefined;
  return {
    message: inner.message,
    path: formatted.path,
    extensions: { code: code === 'GRAPHQL_VALIDATION_FAILED' ? 'BAD_USER_INPUT' : code, serviceName: formatted.extensions?.serviceName },
  };
}

/** Apollo Server `formatError`: keep typed errors, mask the rest, never leak a stack. */
export function makeFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const refused = refusedBySubgraph(formatted);
    if (refused) return refused;
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && PASS_THROUGH.has(code)) {
      const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error({ err: error }, 'unexpected error while resolving a request');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
