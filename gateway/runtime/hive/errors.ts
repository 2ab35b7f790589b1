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

/** Yoga's `maskError`: common/errors.ts's rules over each error of a result. */
export function maskErrors(log: Logger): (error: unknown) => Error {
  const format = makeFormatError(log);
  return (error) => {
    const graphqlError = error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error), { originalError: error instanceof Error ? error : undefined });
    const formatted: GraphQLFormattedError = graphqlError.toJSON();
    const out = format(formatted, graphqlError);
    if (out.extensions?.code === formatted.extensions?.code && out.message === formatted.message) return graphqlError;
    return new GraphQLError(out.message, { path: out.path, extensions: out.extensions });
  };
}
