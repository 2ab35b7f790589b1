/**
 * Hive Gateway's errors made to look like Apollo's, which are the contract
 * (ARCHITECTURE.md: every error carries `extensions.code`): graphql-js parse and
 * validation errors get Apollo's GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED and a
 * 400, and everything goes through common/errors.ts's formatError, which keeps typed
 * errors and masks the rest.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { makeFormatError } from '../../../common/errors';
import type { Logger } from '../../../common/logger';

/** `error` with a code (and a 400) when graphql-js left it without one. */
export function withCode(error: GraphQLError, code: 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED'): GraphQLError {
  if (error.extensions.code) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code, http: { status: 400 } } });
}

const copy = (error: GraphQLError, extensions: GraphQLError['extensions']) =>
  new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions });

/**
 * Yoga marks parse and validation errors as the GraphQL-over-HTTP spec's and answers them
 * 200 to an `application/json` client; Apollo answers 400, whatever the client accepts.
 */
export function httpStatusKept(error: GraphQLError): GraphQLError {
  const http = error.extensions.http as { status?: number; spec?: boolean } | undefined;
  if (!http?.spec) return error;
  return copy(error, { ...error.extensions, http: { status: http.status } });
}

/**
 * A subgraph's own validation refusal (a literal its scalar rejects) reaches a client of
 * Apollo Gateway as BAD_USER_INPUT (common/errors.ts `refusedBySubgraph`): the same here.
 * The gateway's own validation errors never reach execution, so any there is a subgraph's.
 */
export function asApolloSubgraphError(error: GraphQLError): GraphQLError {
  return error.extensions.code === 'GRAPHQL_VALIDATION_FAILED' ? copy(error, { ...error.extensions, code: 'BAD_USER_INPUT' }) : error;
}

/** Yoga's `maskError`: common/errors.ts's rules over each error of a result. */
export function maskErrors(log: Logger): (error: unknown) => Error {
  const format = makeFormatError(log);
  return (error) => {
    let graphqlError = error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error), { originalError: error instanceof Error ? error : undefined });
    // graphql-js's request errors (a variable of the wrong type) come with a 400 and no
    // code; Apollo calls them BAD_USER_INPUT.
    // The Rust planner's executor (router-runtime) coerces variables itself and throws
    // graphql-js's error bare, without the 400: recognised by graphql-js's own wording.
    const http = graphqlError.extensions.http as { status?: number } | undefined;
    if (!graphqlError.extensions.code && (http?.status === 400 || isVariableCoercionError(graphqlError))) {
      graphqlError = copy(graphqlError, { ...graphqlError.extensions, code: 'BAD_USER_INPUT', http: { status: 400 } });
    }
    const formatted: GraphQLFormattedError = graphqlError.toJSON();
    const out = format(formatted, graphqlError);
    if (out.extensions?.code === formatted.extensions?.code && out.message === formatted.message) return graphqlError;
    return new GraphQLError(out.message, { path: out.path, extensions: out.extensions });
  };
}

/** graphql-js's coerceVariableValues messages: a variable missing, null where it may not be, or of the wrong value. */
const VARIABLE_COERCION = /^Variable "\$[^"]+" (got invalid value|of required type|of non-null type)/;

function isVariableCoercionError(error: GraphQLError): boolean {
  return VARIABLE_COERCION.test(error.message);
}
