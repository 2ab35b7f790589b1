/**
 * The gateway: passkey sign-in under /auth, and Apollo Gateway over the checked-in
 * supergraph at /graphql — for signed-in callers only. For each request it works out who
 * is calling (gateway/identity/authenticate.ts) and why (X-Purpose-Of-Use), enforces
 * token scopes, and forwards to each subgraph an identity signed for that operation.
 */
import { createPublicKey } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse } from 'graphql';
import type { DataSource } from 'typeorm';
import { DEFAULT_PORTS, readEnv, SUBGRAPH_NAMES, subgraphUrl, type Env, type SubgraphName } from '../common/config';
import { keepConnectionsLonger } from '../common/lifecycle';
import { makeFormatError, userError } from '../common/errors';
import { loadPrivateKey } from '../common/keys';
import { metricsHandler } from '../common/metrics';
import { createLogger, type Logger } from '../common/logger';
import { resolvers as accountsResolvers } from './accounts/resolvers';
import { ACCOUNTS_SDL_PATH, readSupergraph } from './compose';
import type { GatewayContext } from './context';
import { checkSubgraphs } from './health';
import { identify, requestIdFrom } from './identity/authenticate';
import { openIdentityDatabase } from './identity/database';
import { AuthError } from './identity/errors';
import { PURPOSE_HEADER } from './identity/purpose';
import { webauthnRoutes } from './identity/webauthn';
import { readLedgerEnv } from '../ledger/config';
import { openLedgerDatabase } from '../ledger/database';
import { currentVerifierKey } from '../ledger/checkpoints';
import { ledgerRoutes } from './ledger-routes';
import { scopePlugin } from './scopes';
import { SubgraphClient } from './subgraph-client';
import { webRoutes } from './web/router';

export interface RunningGateway {
  url: string;
  port: number;
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

const AUTH_STATUS: Record<number, string> = { 400: 'BAD_USER_INPUT', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN' };

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

  const accountsSchema = buildSubgraphSchema({
    typeDefs: parse(fs.readFileSync(ACCOUNTS_SDL_PATH, 'utf8')),
    resolvers: accountsResolvers as GraphQLResolverMap<unknown>,
  });
  const gateway = new ApolloGateway({
    supergraphSdl: readSupergraph(),
    buildService: ({ name }) =>
      name === 'accounts'
        ? new LocalGraphQLDataSource(accountsSchema)
        : new SubgraphClient(name, urls[name as SubgraphName], identityKey),
  });

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  keepConnectionsLonger(httpServer);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    formatError: makeFormatError(log),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), scopePlugin],
  });
  // The accounts subgraph over HTTP as well, at the URL the supergraph names, so another
  // router (Apollo Router, Hive Gateway) serving supergraph.graphql can reach it; it
  // authenticates the caller's own bearer token exactly as /graphql does.
  const accounts = new ApolloServer<GatewayContext>({
    schema: accountsSchema,
    includeStacktraceInErrorResponses: false,
    formatError: makeFormatError(log),
    // No Apollo Studio: inline traces would only cost time and expose timings.
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginInlineTraceDisabled(), scopePlugin],
  });
  await Promise.all([apollo.start(), accounts.start()]);

  /** Who is calling, and the identity their request carries to subgraphs. */
  const requestContext = async (req: express.Request): Promise<GatewayContext> => {
    const requestId = requestIdFrom(req.header('x-request-id'));
    try {
      const { principal, identity } = await identify(db, { authorization: req.header('authorization'), purpose: req.header(PURPOSE_HEADER), requestId }, sessionPublicKey);
      return { requestId, principal, identity, db };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      throw userError(AUTH_STATUS[err.status] as 'UNAUTHENTICATED', err.message, { reason: err.code, http: { status: err.status } });
    }
  };

  app.get('/healthz', async (_req, res) => {
    const health = await checkSubgraphs(urls);
    res.status(health.status === 'ok' ? 200 : 503).json(health);
  });
  app.get('/metrics', metricsHandler());
  app.use('/ledger', ledgerRoutes(ledgerDb, ledgerKey, db, sessionPublicKey, log));
  app.use(webRoutes()); // the web portal: / and /app/…
  app.use('/auth', webauthnRoutes(db, sessionKey, { rpId: env.RP_ID, rpName: 'Custodian', origin: env.ORIGIN }, log));
  app.use('/graphql', express.json({ limit: '2mb' }), expressMiddleware(apollo, { context: ({ req }) => requestContext(req) }));
  app.use('/accounts/graphql', express.json({ limit: '2mb' }), expressMiddleware(accounts, { context: ({ req }) => requestContext(req) }));

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
    async close() {
      await apollo.stop();
      await accounts.stop();
      await db.destroy();
      await ledgerDb.destroy();
    },
  };
}
