/**
 * How the gateway refuses an operation that is too big, and how those refusals keep
 * their code on the way out.
 *
 * A refusal names the limit, the value measured and the setting that raises it, e.g.
 * `{code: "QUERY_TOO_COMPLEX", limit: "cost", measured: 1010201, max: 50000,
 * setting: "MAX_QUERY_COST"}`, with HTTP 400. Apollo Server re-labels every validation
 * error GRAPHQL_VALIDATION_FAILED and every parse error GRAPHQL_PARSE_FAILED;
 * `limitRefusal` (used by the gateway's formatError) restores ours.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export type LimitName = 'depth' | 'aliases' | 'rootFields' | 'tokens' | 'directives' | 'fields' | 'cost';

/** The setting (environment variable) behind each limit. */
export const LIMIT_SETTINGS = {
  depth: 'MAX_QUERY_DEPTH',
  aliases: 'MAX_QUERY_ALIASES',
  rootFields: 'MAX_QUERY_ROOT_FIELDS',
  tokens: 'MAX_QUERY_TOKENS',
  directives: 'MAX_QUERY_DIRECTIVES',
  fields: 'MAX_QUERY_FIELDS',
  cost: 'MAX_QUERY_COST',
} as const satisfies Record<LimitName, string>;

const WHAT: Record<LimitName, string> = {
  depth: 'depth',
  aliases: 'number of aliases',
  rootFields: 'number of root fields',
  tokens: 'number of tokens',
  directives: 'number of directives',
  fields: 'number of fields with its fragments expanded',
  cost: 'estimated cost (rows read)',
};

/** Codes our own validation rules raise (Apollo would re-label them). */
const OWN_VALIDATION_CODES = new Set(['QUERY_TOO_COMPLEX', 'OPERATION_NOT_SUPPORTED']);

/** `measured` is null when counting stopped at the limit (tokens: the parser stops). */
export function tooComplex(limit: LimitName, measured: number | null, max: number): GraphQLError {
  const value = measured === null ? `more than ${max}` : String(measured);
  return new GraphQLError(
    `Operation refused before planning: its ${WHAT[limit]} is ${value}, over the limit of ${max} (${LIMIT_SETTINGS[limit]}). Ask for less, or raise ${LIMIT_SETTINGS[limit]}.`,
    { extensions: { code: 'QUERY_TOO_COMPLEX', limit, measured, max, setting: LIMIT_SETTINGS[limit], http: { status: 400 } } },
  );
}

export function subscriptionsNotServed(): GraphQLError {
  return new GraphQLError('Subscriptions are not served: send queries and mutations as HTTP POST requests', {
    extensions: { code: 'OPERATION_NOT_SUPPORTED', operation: 'subscription', http: { status: 400 } },
  });
}

/** graphql-js's own message when `parseOptions.maxTokens` stops the parser ("more that" is theirs). */
const TOKEN_LIMIT = /^Syntax Error: Document contains more (?:than|that) (\d+) tokens/;

function formatted(error: GraphQLError, locations: GraphQLFormattedError['locations']): GraphQLFormattedError {
  const { http: _http, ...extensions } = error.extensions;
  return { message: error.message, ...(locations ? { locations } : {}), extensions };
}

/** Our refusal behind an error Apollo re-labelled, formatted; undefined for any other error. */
export function limitRefusal(formattedError: GraphQLFormattedError, error: unknown): GraphQLFormattedError | undefined {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  if (original instanceof GraphQLError && OWN_VALIDATION_CODES.has(String(original.extensions.code))) {
    return formatted(original, formattedError.locations);
  }
  const tokens = formattedError.extensions?.code === 'GRAPHQL_PARSE_FAILED' ? TOKEN_LIMIT.exec(formattedError.message) : null;
  if (tokens) return formatted(tooComplex('tokens', null, Number(tokens[1])), undefined);
  return undefined;
}
