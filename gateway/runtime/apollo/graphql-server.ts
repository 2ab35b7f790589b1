/**
 * An Apollo Server for /graphql (over Apollo Gateway) or /accounts/graphql (the accounts
 * schema, whichever executor serves /graphql), with the operation limits and the error
 * rules of both. The caller was identified before (http.ts): the context is theirs.
 */
import type http from 'node:http';
import type { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import type { RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import { introspectionOn, type Env } from '../../../common/config';
import { makeFormatError } from '../../../common/errors';
import type { Logger } from '../../../common/logger';
import type { GatewayContext } from '../context';
import { contextOf } from '../http';
import { limitRefusal } from '../limits/errors';
import { operationLimits } from '../limits/operation-limits';
import type { Ownership } from '../limits/ownership';
import type { Executor } from '../executor';
import { limitsPlugin, scopePlugin } from './plugins';

export interface ServedGraph {
  handler: RequestHandler;
  execute: Executor['execute'];
  stop(): Promise<void>;
}

export async function apolloGraphqlServer(
  served: { gateway: ApolloGateway } | { schema: GraphQLSchema },
  ownership: Ownership,
  env: Env,
  log: Logger,
  httpServer?: http.Server,
): Promise<ServedGraph> {
  const limits = operationLimits(env, ownership);
  const formatError = makeFormatError(log);
  const server = new ApolloServer<GatewayContext>({
    ...served,
    includeStacktraceInErrorResponses: false,
    introspection: introspectionOn(env),
    formatError: (formatted, error) => limitRefusal(formatted, error) ?? formatError(formatted, error),
    validationRules: limits.validationRules,
    parseOptions: { maxTokens: limits.maxTokens },
    // No Apollo Studio and no landing page: inline traces would only cost time and
    // expose timings, and /graphql answers JSON, never an HTML page.
    plugins: [
      ...(httpServer ? [ApolloServerPluginDrainHttpServer({ httpServer })] : []),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      limitsPlugin(limits, log),
      scopePlugin,
    ],
  });
  await server.start();
  return {
    handler: expressMiddleware(server, { context: async ({ req }) => contextOf(req) }),
    // Apollo Server's own request pipeline (plugins, validation rules, formatError) without HTTP.
    async execute(request, contextValue) {
      const response = await server.executeOperation(request, { contextValue });
      const result = response.body.kind === 'single' ? response.body.singleResult : { errors: [{ message: 'Incremental delivery is not used here', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
      return { status: response.http.status ?? 200, result: result as Awaited<ReturnType<Executor['execute']>>['result'] };
    },
    stop: () => server.stop(),
  };
}
