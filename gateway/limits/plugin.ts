/**
 * Operation limits for an Apollo Server in front of the supergraph (the gateway's
 * /graphql, and /accounts/graphql): everything here runs before the query is planned.
 *
 *   parse        tokens (graphql-js stops at MAX_QUERY_TOKENS)
 *   validate     subscriptions, depth, aliases, directives, root fields (static-rules.ts)
 *   resolved     fields after fragment expansion, and estimated cost with the request's
 *                variables (cost.ts)
 *   response     a request cut short by its deadline or its size (budget.ts) answers with
 *                one typed error, not a partial result
 */
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import type { ValidationRule } from 'graphql';
import type { Env } from '../../common/config';
import type { Logger } from '../../common/logger';
import type { GatewayContext } from '../context';
import { estimateCost } from './cost';
import { tooComplex } from './errors';
import type { Ownership } from './ownership';
import { staticRules } from './static-rules';

export type LimitSettings = Pick<
  Env,
  'MAX_QUERY_DEPTH' | 'MAX_QUERY_ALIASES' | 'MAX_QUERY_ROOT_FIELDS' | 'MAX_QUERY_TOKENS' | 'MAX_QUERY_DIRECTIVES' | 'MAX_QUERY_FIELDS' | 'MAX_QUERY_COST'
>;

export interface OperationLimits {
  validationRules: ValidationRule[];
  parseOptions: NonNullable<ApolloServerOptions<GatewayContext>['parseOptions']>;
  plugin: ApolloServerPlugin<GatewayContext>;
}

export function operationLimits(settings: LimitSettings, ownership: Ownership, log: Logger): OperationLimits {
  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ contextValue }) {
      log.debug({ requestId: contextValue.requestId, clientRequestId: contextValue.clientRequestId, subject: contextValue.identity.subject }, 'graphql request');
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          if (!operation) return;
          const { fields, rows } = estimateCost({ schema, document, operation, variables: request.variables, ownership });
          if (fields > settings.MAX_QUERY_FIELDS) throw tooComplex('fields', fields, settings.MAX_QUERY_FIELDS);
          if (rows > settings.MAX_QUERY_COST) throw tooComplex('cost', rows, settings.MAX_QUERY_COST);
        },
        async didEncounterErrors({ errors, contextValue: ctx }) {
          const codes = errors.map((e) => e.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          log.debug({ requestId: ctx.requestId, clientRequestId: ctx.clientRequestId, codes }, 'graphql request refused or partly failed');
        },
        async willSendResponse({ contextValue: ctx, response }) {
          const { budget } = ctx;
          budget.settle();
          if (budget.ended !== 'deadline' && budget.ended !== 'too-large') return;
          const error =
            budget.ended === 'deadline'
              ? { message: `The request took longer than REQUEST_TIMEOUT_MS=${budget.timeoutMs} ms; its subgraph fetches were cancelled`, extensions: { code: 'REQUEST_TIMEOUT', max: budget.timeoutMs, setting: 'REQUEST_TIMEOUT_MS' } }
              : { message: `The answer is larger than MAX_RESPONSE_BYTES=${budget.maxResponseBytes} bytes: ask for less (a smaller first:, fewer fields)`, extensions: { code: 'RESPONSE_TOO_LARGE', max: budget.maxResponseBytes, setting: 'MAX_RESPONSE_BYTES' } };
          log.warn({ requestId: ctx.requestId, clientRequestId: ctx.clientRequestId, reason: budget.ended }, 'request cut short');
          response.body = { kind: 'single', singleResult: { data: null, errors: [error] } };
          response.http.status = budget.ended === 'deadline' ? 504 : 400;
        },
      };
    },
  };
  return {
    validationRules: staticRules({
      depth: settings.MAX_QUERY_DEPTH,
      aliases: settings.MAX_QUERY_ALIASES,
      rootFields: settings.MAX_QUERY_ROOT_FIELDS,
      directives: settings.MAX_QUERY_DIRECTIVES,
    }),
    parseOptions: { maxTokens: settings.MAX_QUERY_TOKENS },
    plugin,
  };
}
