/**
 * The operation limits as one set of pieces each executor wires in its own way
 * (apollo/plugins.ts, hive/plugin.ts):
 *
 *  - validation rules (static-rules.ts): depth, aliases, root fields, directives, no
 *    subscriptions — run while the executor validates a document, before planning;
 *  - a token limit for the parser (graphql-js's `maxTokens`, which stops at the limit);
 *  - the cost and expanded-field estimate (cost.ts), checked once the operation is
 *    resolved and its variables are known, still before planning;
 *  - the one error a request cut short by its budget answers with (budget.ts).
 */
import { GraphQLError, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type ValidationRule } from 'graphql';
import type { Env } from '../../../common/config';
import type { RequestBudget } from './budget';
import { estimateCost } from './cost';
import { tooComplex } from './errors';
import type { Ownership } from './ownership';
import { staticRules } from './static-rules';

export type LimitSettings = Pick<
  Env,
  'MAX_QUERY_DEPTH' | 'MAX_QUERY_ALIASES' | 'MAX_QUERY_ROOT_FIELDS' | 'MAX_QUERY_TOKENS' | 'MAX_QUERY_DIRECTIVES' | 'MAX_QUERY_FIELDS' | 'MAX_QUERY_COST'
>;

export interface ResolvedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables?: Record<string, unknown> | null;
}

export interface OperationLimits {
  validationRules: ValidationRule[];
  maxTokens: number;
  /** QUERY_TOO_COMPLEX when the operation's expanded fields or estimated cost are over the limit. */
  costRefusal(resolved: ResolvedOperation): GraphQLError | undefined;
}

export function operationLimits(settings: LimitSettings, ownership: Ownership): OperationLimits {
  return {
    validationRules: staticRules({
      depth: settings.MAX_QUERY_DEPTH,
      aliases: settings.MAX_QUERY_ALIASES,
      rootFields: settings.MAX_QUERY_ROOT_FIELDS,
      directives: settings.MAX_QUERY_DIRECTIVES,
    }),
    maxTokens: settings.MAX_QUERY_TOKENS,
    costRefusal({ schema, document, operation, variables }) {
      const { fields, rows } = estimateCost({ schema, document, operation, variables, ownership });
      if (fields > settings.MAX_QUERY_FIELDS) return tooComplex('fields', fields, settings.MAX_QUERY_FIELDS);
      if (rows > settings.MAX_QUERY_COST) return tooComplex('cost', rows, settings.MAX_QUERY_COST);
      return undefined;
    },
  };
}

/**
 * A request its budget cut short answers with one error and no data — not a partial
 * result: 504 REQUEST_TIMEOUT past the deadline, 400 RESPONSE_TOO_LARGE past the bytes.
 */
export function cutShortAnswer(budget: RequestBudget): { status: number; error: GraphQLError } | undefined {
  if (budget.ended === 'deadline') {
    return {
      status: 504,
      error: new GraphQLError(`The request took longer than REQUEST_TIMEOUT_MS=${budget.timeoutMs} ms; its subgraph fetches were cancelled`, {
        extensions: { code: 'REQUEST_TIMEOUT', max: budget.timeoutMs, setting: 'REQUEST_TIMEOUT_MS' },
      }),
    };
  }
  if (budget.ended === 'too-large') {
    return {
      status: 400,
      error: new GraphQLError(`The answer is larger than MAX_RESPONSE_BYTES=${budget.maxResponseBytes} bytes: ask for less (a smaller first:, fewer fields)`, {
        extensions: { code: 'RESPONSE_TOO_LARGE', max: budget.maxResponseBytes, setting: 'MAX_RESPONSE_BYTES' },
      }),
    };
  }
  return undefined;
}
