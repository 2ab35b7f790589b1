/**
 * gateway/runtime's pieces as one Hive Gateway plugin, hook by hook:
 *
 *  - context: the caller identified before (http.ts), taken from the Express request;
 *  - parse: graphql-js's token limit; validate: the static limits, introspection off
 *    where configured, Apollo's codes on graphql-js's own errors (errors.ts);
 *  - execute (before planning): the cost estimate, then the token's scopes; once done, a
 *    request its budget cut short answers one error (limits/operation-limits.ts);
 *  - fetch: the accounts subgraph answered in process; every other subgraph request
 *    signed for its exact body (identity-signing.ts) and bounded (bounded-fetch.ts).
 */
import type { SignWith } from '../../../common/keysets';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { Request as ExpressRequest } from 'express';
import { getOperationAST, graphql, GraphQLError, NoSchemaIntrospectionCustomRule, parse, type GraphQLSchema } from 'graphql';
import type { Logger } from '../../../common/logger';
import { metrics } from '../../../common/metrics/series';
import { fetchWithin, withHeaders } from '../bounded-fetch';
import type { GatewayContext } from '../context';
import { contextOf } from '../http';
import { identityHeaders } from '../identity-signing';
import { tooComplex } from '../limits/errors';
import { cutShortAnswer, type OperationLimits } from '../limits/operation-limits';
import { scopeRefusal } from '../scopes';
import { asApolloSubgraphError, httpStatusKept, withCode } from './errors';

export interface CustodianPluginOptions {
  limits: OperationLimits;
  introspection: boolean;
  accountsSchema: GraphQLSchema;
  /** Subgraph name by the URL Hive fetches it at. */
  services: ReadonlyMap<string, string>;
  identityKey: SignWith;
  subgraphTimeoutMs: number;
  log: Logger;
}

/** graphql-js's message when `maxTokens` stops the parser ("more that" is theirs). */
const TOKEN_LIMIT = /^Syntax Error: Document contains more (?:than|that) (\d+) tokens/;

const custodianOf = (context: unknown): GatewayContext | undefined => {
  const c = context as Partial<GatewayContext> | undefined;
  return c?.budget && c.identity ? (c as GatewayContext) : undefined;
};

export function custodianPlugin(options: CustodianPluginOptions): GatewayPlugin<GatewayContext> {
  const { limits, introspection, log } = options;
  const rules = introspection ? limits.validationRules : [...limits.validationRules, NoSchemaIntrospectionCustomRule];
  return {
    onResultProcess({ result, setResult }) {
      if (!Array.isArray(result) && 'errors' in result) metrics.graphqlErrors(result.errors);
      if (!Array.isArray(result) && 'errors' in result && result.errors?.length) setResult({ ...result, errors: result.errors.map(httpStatusKept) });
    },
    onContextBuilding({ context, extendContext }) {
      extendContext(contextOf((context as unknown as { req: ExpressRequest }).req));
    },
    onParse({ setParseFn }) {
      setParseFn((source) => {
        try {
          return parse(source, { maxTokens: limits.maxTokens });
        } catch (err) {
          if (!(err instanceof GraphQLError)) throw err;
          const tokens = TOKEN_LIMIT.exec(err.message);
          throw tokens ? tooComplex('tokens', null, Number(tokens[1])) : withCode(err, 'GRAPHQL_PARSE_FAILED');
        }
      });
    },
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED')));
      };
    },
    onExecute({ args }) {
      const ctx = custodianOf(args.contextValue);
      const operation = getOperationAST(args.document, args.operationName);
      if (!ctx || !operation) return;
      log.debug({ requestId: ctx.requestId, clientRequestId: ctx.clientRequestId, subject: ctx.identity.subject }, 'graphql request');
      const refusal =
        limits.costRefusal({ schema: args.schema, document: args.document, operation, variables: args.variableValues as Record<string, unknown> | undefined }) ??
        scopeRefusal(operation, ctx.principal);
      if (refusal) throw refusal;
      return {
        onExecuteDone({ result, setResult }) {
          ctx.budget.settle();
          const cut = cutShortAnswer(ctx.budget);
          if (!cut) {
            if ('errors' in result && result.errors?.length) setResult({ ...result, errors: result.errors.map(asApolloSubgraphError) });
            return;
          }
          log.warn({ requestId: ctx.requestId, clientRequestId: ctx.clientRequestId, reason: ctx.budget.ended }, 'request cut short');
          const { error } = cut;
          setResult({ data: null, errors: [new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: cut.status } } })] });
        },
      };
    },
    onFetch: subgraphFetch(options),
  };
}

/**
 * Hive's fetch to a subgraph for a user's request: the accounts subgraph answered in
 * process; every other request signed for its exact body and bounded by the budget.
 */
function subgraphFetch({ accountsSchema, services, identityKey, subgraphTimeoutMs }: CustodianPluginOptions): NonNullable<GatewayPlugin<GatewayContext>['onFetch']> {
  return ({ url, options: init, setOptions, context, fetchFn, setFetchFn, endResponse }) => {
    const ctx = custodianOf(context);
    const service = services.get(url);
    if (!ctx || !service) return;
    const sent = JSON.parse(String(init.body)) as { query?: string; variables?: Record<string, unknown>; operationName?: string };
    if (service === 'accounts') {
      // In process, with the caller's own context, as Apollo Gateway's LocalGraphQLDataSource does.
      endResponse(
        Promise.resolve(graphql({ schema: accountsSchema, source: sent.query ?? '', variableValues: sent.variables, operationName: sent.operationName, contextValue: ctx })).then((r) =>
          Response.json(r),
        ),
      );
      return;
    }
    return identityHeaders(ctx, sent, identityKey).then((signed) => {
      setOptions({ ...init, headers: { ...(init.headers as Record<string, string>), ...signed } });
      setFetchFn(async (input, requestInit, ...rest) => {
        try {
          const { response, text } = await fetchWithin(ctx.budget, service, subgraphTimeoutMs, async (signal, trace) =>
            fetchFn(input, withHeaders({ ...requestInit, signal }, trace), ...rest),
          );
          return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
        } catch (err) {
          if (!(err instanceof GraphQLError)) throw err;
          // A fetch cut short answers as a subgraph refusing its part: the plan goes on without it.
          return Response.json({ data: null, errors: [{ message: err.message, extensions: err.extensions }] });
        }
      });
    });
  };
}
