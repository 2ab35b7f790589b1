/**
 * The gateway: passkey sign-in under /auth, and Apollo Gateway over the checked-in
 * supergraph at /graphql — for signed-in callers only. For each request it works out who
 * is calling (gateway/request-context.ts) and why (X-Purpose-Of-Use), enforces token
 * scopes, and forwards to each subgraph an identity signed for that operation.
 *
 * Hostile traffic is refused as early and as cheaply as possible (gateway/limits/):
 * rate limits per principal and per client address, operation limits before planning,
 * a deadline and a response budget per request, bounded bodies, JSON errors everywhere.
 */
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type GraphQLSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import { DEFAULT_PORTS, introspectionOn, readEnv, SUBGRAPH_NAMES, subgraphUrl, type Env, type SubgraphName } from '../common/config';
import { keepConnectionsLonger } from '../common/lifecycle';
import { makeFormatError } from '../common/errors';
import { httpErrors, jsonBody, notFound } from '../common/http-errors';
import { loadPrivateKey } from '../common/keys';
import { operatorEndpoints } from '../common/metrics';
import { createLogger, type Logger } from '../common/logger';
import { noStore, securityHeaders } from '../common/security-headers';
import { resolvers as accountsResolvers } from './accounts/resolvers';
import { ACCOUNTS_SDL_PATH, readSupergraph } from './compose';
import type { GatewayContext } from './context';
import { cachedHealth } from './health';
import { openIdentityDatabase } from './identity/database';
import { webauthnRoutes } from './identity/webauthn';
import { limitRefusal } from './limits/errors';
import { singleService, supergraphOwnership, type Ownership } from './limits/ownership';
import { operationLimits } from './limits/plugin';
import { limitByAddress, rateLimits } from './limits/rate-limit';
import { requestContextFactory } from './request-context';
import { assignRequestIds } from './request-id';
import { readLedgerEnv } from '../ledger/config';
import { openLedgerDatabase } from '../ledger/store/database';
import { currentVerifierKey } from '../ledger/pipeline/checkpoint-publisher';
import { ledgerRoutes } from './ledger-routes';
import { scopePlugin } from './scopes';
import { SubgraphClient } from './subgraph-client';
import { webRoutes } from '../web/router';

export interface RunningGateway {
  url: string;
  port: number;
  /** The operator listener (/metrics, detailed /healthz), when METRICS_PORT is set. */
  operatorUrl?: string;
  db: DataSource;
  close(): Promise<void>;
}

export interface GatewayOptions {
  env?: Env;
  port?: number;
  logger?: Logger;
  /** Subgraph GraphQL URLs by name; defaults to `<NAME>_URL` or the default ports. */
  subgraphUrls?: Partial<Record<SubgraphName, string>>;
}

/**
 * An Apollo Server for /graphql (the gateway) or /accounts/graphql (the accounts schema),
 * with the operation limits (gateway/limits/) and the error rules of both.
 */
function graphqlServer(
  served: { gateway: ApolloGateway } | { schema: GraphQLSchema },
  ownership: Ownership,
  env: Env,
  log: Logger,
  httpServer: http.Server,
): ApolloServer<GatewayContext> {
  const limits = operationLimits(env, ownership, log);
  const formatError = makeFormatError(log);
  return new ApolloServer<GatewayContext>({
    ...served,
    includeStacktraceInErrorResponses: false,
    introspection: introspectionOn(env),
    formatError: (formatted, error) => limitRefusal(formatted, error) ?? formatError(formatted, error),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    // No Apollo Studio and no landing page: inline traces would only cost time and
    // expose timings, and /graphql answers JSON, never an HTML page.
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginLandingPageDisabled(),
      limits.plugin,
      scopePlugin,
    ],
  });
}

export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  const env = options.env ?? readEnv();
  const log = options.logger ?? createLogger('gateway', env.LOG_LEVEL);
  const urls = Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [name, options.subgraphUrls?.[name] ?? subgraphUrl(name, env)]),
  ) as Record<SubgraphName, string>;

  const ledgerEnv = readLedgerEnv(); // first: a bad setting stops start-up before anything is opened
  const sessionKey = loadPrivateKey('session', env.DATA_DIR);
  const sessionPublicKey = createPublicKey(sessionKey);
  const identityKey = loadPrivateKey('identity', env.DATA_DIR);
  const db = await openIdentityDatabase(env);
  const ledgerDb = await openLedgerDatabase(env);
  // The worker signs and records its verifier key in the ledger database; the gateway
  // serves that (or a pinned one) and never reads the signer key.
  const pinnedKey = ledgerEnv.LEDGER_VERIFIER_KEY;
  const ledgerKey = pinnedKey ? async () => pinnedKey : () => currentVerifierKey(ledgerDb);
  const rate = rateLimits(env, log);

  const supergraphSdl = readSupergraph();
  const accountsSchema = buildSubgraphSchema({
    typeDefs: parse(fs.readFileSync(ACCOUNTS_SDL_PATH, 'utf8')),
    resolvers: accountsResolvers as GraphQLResolverMap<unknown>,
  });
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) =>
      name === 'accounts'
        ? new LocalGraphQLDataSource(accountsSchema)
        : new SubgraphClient(name, urls[name as SubgraphName], identityKey, env.SUBGRAPH_TIMEOUT_MS),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', env.TRUST_PROXY);
  const httpServer = http.createServer(app);
  keepConnectionsLonger(httpServer);
  const apollo = graphqlServer({ gateway }, supergraphOwnership(supergraphSdl), env, log, httpServer);
  // The accounts subgraph over HTTP as well, at the URL the supergraph names, so another
  // router (Apollo Router, Hive Gateway) serving supergraph.graphql can reach it; it
  // authenticates the caller's own bearer token exactly as /graphql does.
  const accounts = graphqlServer({ schema: accountsSchema }, singleService, env, log, httpServer);
  // Counting starts in Redis when it is there, so replicas share budgets from the first request.
  await Promise.all([apollo.start(), accounts.start(), rate.ready()]);

  const requestContext = requestContextFactory({ env, db, sessionPublicKey, rate });
  const graphqlRoute = (server: ApolloServer<GatewayContext>) => [
    noStore,
    jsonBody(env.MAX_REQUEST_BYTES),
    expressMiddleware(server, { context: ({ req, res }) => requestContext(req, res) }),
    httpErrors('graphql', log),
  ];

  app.use(securityHeaders(env.ORIGIN));
  app.use(assignRequestIds());
  const operator = await operatorEndpoints(app, env, log, cachedHealth(urls));
  app.use('/ledger', limitByAddress(rate.ledger, 'plain'), ledgerRoutes(ledgerDb, ledgerKey, db, sessionPublicKey, log));
  app.use(webRoutes()); // the web portal: / and /app/…
  app.use('/auth', noStore, limitByAddress(rate.auth, 'plain'), webauthnRoutes(db, sessionKey, { rpId: env.RP_ID, rpName: 'Custodian', origin: env.ORIGIN }, log));
  app.use('/graphql', ...graphqlRoute(apollo));
  app.use('/accounts/graphql', ...graphqlRoute(accounts));
  app.use(notFound('plain'));
  app.use(httpErrors('plain', log));

  const port = options.port ?? env.PORT ?? DEFAULT_PORTS.gateway;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, env.HOST, resolve);
  });
  const actualPort = (httpServer.address() as AddressInfo).port;
  const url = `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${actualPort}`;
  log.info({ url: `${url}/graphql` }, 'gateway ready');
  return {
    url,
    port: actualPort,
    db,
    operatorUrl: operator.url,
    async close() {
      await apollo.stop();
      await accounts.stop();
      await operator.close();
      await rate.close();
      await db.destroy();
      await ledgerDb.destroy();
    },
  };
}
