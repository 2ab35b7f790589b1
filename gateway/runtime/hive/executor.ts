/**
 * Hive Gateway (@graphql-hive/gateway-runtime with @graphql-mesh/transport-http, MIT) over
 * the checked-in supergraph, planning with its own JavaScript planner or, with
 * GATEWAY_PLANNER=rust, with the Rust query planner of @graphql-hive/router-runtime (MIT;
 * its native planner ships inside the npm package). Everything of ours is the one plugin
 * in plugin.ts.
 */
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import httpTransport from '@graphql-mesh/transport-http';
import type { Request, Response } from 'express';
import { introspectionOn, type Env } from '../../../common/config';
import type { GatewayContext } from '../context';
import type { Executor, ExecutorDeps } from '../executor';
import { operationLimits } from '../limits/operation-limits';
import { maskErrors } from './errors';
import { refusedAsApolloWould } from './http-rules';
import { custodianPlugin } from './plugin';

/** Where Hive "fetches" the accounts subgraph: never over the network, plugin.ts answers it in process. */
const ACCOUNTS_IN_PROCESS = 'http://accounts.in-process.invalid/graphql';

function hiveLogging(level: Env['LOG_LEVEL']): false | 'error' | 'warn' | 'info' | 'debug' {
  if (level === 'silent' || level === 'fatal') return false;
  return level === 'trace' ? 'debug' : level;
}

/**
 * Hive's logger reads LOG_LEVEL from the environment as well, whenever one is made, and
 * throws on the two of our levels it lacks (silent, fatal). Ours was read at start-up
 * (common/config.ts); from here on the variable holds the nearest level both know.
 */
function shareLogLevel(): void {
  const level = process.env.LOG_LEVEL;
  if (level === 'silent' || level === 'fatal') process.env.LOG_LEVEL = 'error';
}

export async function hiveExecutor({ env, log, supergraphSdl, ownership, accountsSchema, urls, identityKey }: ExecutorDeps): Promise<Executor> {
  shareLogLevel();
  const locations: Record<string, string> = { accounts: ACCOUNTS_IN_PROCESS, ...urls };
  const runtime = createGatewayRuntime<GatewayContext>({
    supergraph: supergraphSdl,
    transports: { http: httpTransport },
    // No in-flight deduplication of subgraph requests: executor-http keys it on URL and
    // body only, and the identity each request carries is set later (onFetch), so two
    // callers' identical requests in flight at once would share one caller's answer — a
    // path around consent. Every subgraph request is its caller's own.
    transportEntries: Object.fromEntries(
      Object.entries(locations).map(([name, location]) => [name, { location, options: { deduplicateInflightRequests: false } }]),
    ),
    ...(env.GATEWAY_PLANNER === 'rust' ? { unifiedGraphHandler } : {}),
    logging: hiveLogging(env.LOG_LEVEL),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    // Ours are assigned before (request-id.ts); Hive's would echo a client's id.
    requestId: false,
    // As under Apollo Server: no CORS headers (Yoga would reflect any origin).
    cors: false,
    maskedErrors: { maskError: maskErrors(log) },
    plugins: () => [
      custodianPlugin({
        limits: operationLimits(env, ownership),
        introspection: introspectionOn(env),
        accountsSchema,
        services: new Map(Object.entries(locations).map(([name, location]) => [location, name])),
        identityKey,
        subgraphTimeoutMs: env.SUBGRAPH_TIMEOUT_MS,
        log,
      }),
    ],
  });
  // Load the supergraph (and build the planner's graph) now, as Apollo Gateway does at
  // start, rather than within the first request's deadline.
  await runtime.getSchema();
  return {
    handler: (req: Request, res: Response) => {
      if (refusedAsApolloWould(req, res)) return;
      // Apollo answers application/json unless the client asks for the GraphQL-over-HTTP
      // media type by name; Hive prefers the latter for `*/*`. Same answer either way.
      const accept = req.headers.accept;
      if (!accept || /^\s*\*\/\*\s*$/.test(accept)) req.headers.accept = 'application/json';
      return runtime(req, res);
    },
    // Hive's whole pipeline (our plugin included) through its fetch entry point, in
    // process: the server context carries the caller as an identified request would.
    async execute(request, gatewayContext) {
      const init = { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(request) };
      const response = await runtime.fetch('http://in-process.invalid/graphql', init, { req: { gatewayContext } } as never);
      return { status: response.status, result: (await response.json()) as Awaited<ReturnType<Executor['execute']>>['result'] };
    },
    stop: async () => runtime.dispose(),
  };
}
