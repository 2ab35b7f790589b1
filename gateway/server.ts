/**
 * The gateway: passkey sign-in under /auth, the public ledger under /ledger, the web
 * portal, and the supergraph at /graphql — for signed-in callers only — served by the
 * executor GATEWAY_EXECUTOR names (gateway/runtime/executor.ts). For each GraphQL request
 * it works out who is calling and why (gateway/runtime/identify.ts), enforces token
 * scopes, and forwards to each subgraph an identity signed for that operation.
 *
 * Hostile traffic is refused as early and as cheaply as possible (gateway/runtime/limits/):
 * rate limits per principal and per client address, operation limits before planning,
 * a deadline and a response budget per request, bounded bodies, JSON errors everywhere.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import type { DataSource } from 'typeorm';
import { DEFAULT_PORTS, readEnv, SUBGRAPH_NAMES, subgraphUrl, type Env, type SubgraphName } from '../common/config';
import { keepConnectionsLonger } from '../common/lifecycle';
import { httpErrors, jsonBody, notFound } from '../common/http-errors';
import { openSigningKeys } from '../common/keys';
import type { KeyName, KeySet } from '../common/keysets';
import { operatorEndpoints } from '../common/metrics';
import { createLogger, type Logger } from '../common/logger';
import { noStore, securityHeaders } from '../common/security-headers';
import { ledgerQueueOf, readLedgerEnv } from '../ledger/config';
import type { WitnessEndpoint } from '../ledger/witness/endpoints';
import { openLedgerDatabase } from '../ledger/store/database';
import { currentVerifierKey } from '../ledger/pipeline/checkpoint-publisher';
import { webRoutes } from '../web/router';
import { accountsSchema } from './accounts/schema';
import { readSupergraph } from './compose';
import { hubHealth, readHealthSettings, type HealthSettings } from './health';
import { openIdentityDatabase } from './identity/database';
import { webauthnRoutes } from './identity/webauthn';
import { wellKnownRoutes } from './identity/well-known';
import { ledgerRoutes } from './ledger-routes';
import { FHIR_BASE_PATH, fhirRoutes } from '../fhir/router';
import { apolloGraphqlServer } from './runtime/apollo/graphql-server';
import { startExecutor } from './runtime/executor';
import { identifyCallers } from './runtime/http';
import { identifier } from './runtime/identify';
import { singleService, supergraphOwnership } from './runtime/limits/ownership';
import { limitByAddress, rateLimits, type RateLimits } from './runtime/limits/rate-limit';
import { assignRequestIds } from './runtime/request-id';
import { compressAnswers } from './runtime/compression';
import { corsFor } from './runtime/cors';
import { timeGraphqlRequests } from './runtime/request-metrics';

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
  /** Overrides the health settings read from the environment (HEALTH_*). */
  health?: Partial<HealthSettings>;
}

/** What the gateway holds open while it runs: keys, databases, rate-limit counters. */
interface GatewayState {
  /** Session and identity key sets, watched: a rotation takes effect without a restart. */
  sessionKeys: KeySet;
  identityKeys: KeySet;
  db: DataSource;
  ledgerDb: DataSource;
  ledgerKey: () => Promise<string | null>;
  /** LEDGER_WITNESSES, listed at GET /ledger/witnesses (the gateway never calls them). */
  witnesses: readonly WitnessEndpoint[];
  rate: RateLimits;
}

async function openState(env: Env, log: Logger): Promise<GatewayState> {
  const ledgerEnv = readLedgerEnv(); // first: a bad setting stops start-up before anything is opened
  const keys = (name: KeyName) =>
    openSigningKeys(name, env.DATA_DIR, process.env, {
      onReload: (kids) => log.info({ keys: name, kids }, 'key set reloaded'),
      onSigningKey: (kid) => log.info({ keys: name, kid }, 'signing with a new key'),
      onError: (err) => log.warn({ keys: name, err: err.message }, 'key set could not be read; keeping the keys held'),
    });
  const sessionKeys = keys('session');
  const identityKeys = keys('identity');
  const db = await openIdentityDatabase(env);
  const ledgerDb = await openLedgerDatabase(env);
  // The worker signs and records its verifier key in the ledger database; the gateway
  // serves that (or a pinned one) and never reads the signer key.
  const pinnedKey = ledgerEnv.LEDGER_VERIFIER_KEY;
  const ledgerKey = pinnedKey ? async () => pinnedKey : () => currentVerifierKey(ledgerDb);
  return { sessionKeys, identityKeys, db, ledgerDb, ledgerKey, witnesses: ledgerEnv.LEDGER_WITNESSES, rate: rateLimits(env, log) };
}

/**
 * The public halves of the gateway's keys, as JWKS: access tokens' (for resource servers
 * that check them) and forwarded identities' (for subgraphs: IDENTITY_JWKS may be this
 * URL). Two documents, so no verifier ever holds a key of the other kind. Not cached: a
 * rotation must be visible at once.
 */
function publicKeyRoutes(sessionKeys: KeySet, identityKeys: KeySet): express.Router {
  const serve = (keys: KeySet): RequestHandler => (_req, res) => {
    res.set('cache-control', 'no-cache').type('application/jwk-set+json').send(JSON.stringify(keys.publicJwks()));
  };
  return express.Router().get('/.well-known/jwks.json', serve(sessionKeys)).get('/.well-known/identity-jwks.json', serve(identityKeys));
}

async function listen(httpServer: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, resolve);
  });
  const actualPort = (httpServer.address() as AddressInfo).port;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`;
}

export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  const env = options.env ?? readEnv();
  const log = options.logger ?? createLogger('gateway', env.LOG_LEVEL);
  const urls = Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [name, options.subgraphUrls?.[name] ?? subgraphUrl(name, env)]),
  ) as Record<SubgraphName, string>;
  const state = await openState(env, log);
  const { db, ledgerDb, sessionKeys, rate } = state;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', env.TRUST_PROXY);
  const httpServer = http.createServer(app);
  keepConnectionsLonger(httpServer);
  const supergraphSdl = readSupergraph();
  const schema = accountsSchema();
  // The accounts subgraph over HTTP as well, at the URL the supergraph names, so another
  // router (Apollo Router, an outside Hive Gateway) serving supergraph.graphql can reach
  // it; it authenticates the caller's own bearer token exactly as /graphql does.
  const [executor, accounts] = await Promise.all([
    startExecutor({ env, log, supergraphSdl, ownership: supergraphOwnership(supergraphSdl), accountsSchema: schema, urls, identityKey: state.identityKeys }),
    apolloGraphqlServer({ schema }, singleService, env, log, httpServer),
    // Counting starts in Redis when it is there, so replicas share budgets from the first request.
    rate.ready(),
  ]);

  const identify = identifyCallers(identifier({ env, db, sessionKeys, rate }));
  const graphqlRoute = (handler: RequestHandler) => [noStore, jsonBody(env.MAX_REQUEST_BYTES), identify, handler, httpErrors('graphql', log)];

  app.use(securityHeaders(env.ORIGIN));
  app.use(assignRequestIds());
  app.use(compressAnswers());
  // Before every route of these paths (and their refusals), so a listed origin can read
  // even a 401 or 429, and preflights need no token; /fhir covers /fhir/R4.
  app.use(['/graphql', '/fhir'], corsFor(env.CORS_ORIGINS));
  const health = hubHealth({ urls, identityDb: db, ledgerDb, redisUrl: env.REDIS_URL, queueName: ledgerQueueOf(env), settings: { ...readHealthSettings(), ...options.health }, log });
  const operator = await operatorEndpoints(app, env, log, health.check);
  app.use('/ledger', limitByAddress(rate.ledger, 'plain'), ledgerRoutes(ledgerDb, state.ledgerKey, db, sessionKeys, log, { witnesses: state.witnesses }));
  app.use(publicKeyRoutes(sessionKeys, state.identityKeys));
  app.use(wellKnownRoutes(env)); // assetlinks.json, apple-app-site-association, webauthn: apps and related origins
  app.use(webRoutes()); // the web portal: / and /app/…
  app.use('/auth', noStore, limitByAddress(rate.auth, 'auth'), webauthnRoutes(db, sessionKeys, { rpId: env.RP_ID, rpName: 'Custodian', origins: env.WEBAUTHN_ORIGINS }, log));
  app.use('/graphql', timeGraphqlRequests(), ...graphqlRoute(executor.handler));
  app.use('/accounts/graphql', ...graphqlRoute(accounts.handler));
  // FHIR R4 (fhir/): a client of the supergraph, identified and executed as /graphql is.
  app.use(FHIR_BASE_PATH, fhirRoutes({ identify: identifier({ env, db, sessionKeys, rate }), execute: executor.execute, log }));
  app.use(notFound('plain'));
  app.use(httpErrors('plain', log));

  const url = await listen(httpServer, options.port ?? env.PORT ?? DEFAULT_PORTS.gateway, env.HOST);
  log.info({ url: `${url}/graphql`, executor: env.GATEWAY_EXECUTOR, planner: env.GATEWAY_EXECUTOR === 'hive' ? env.GATEWAY_PLANNER : undefined }, 'gateway ready');
  return {
    url,
    port: Number(new URL(url).port),
    db,
    operatorUrl: operator.url,
    async close() {
      await accounts.stop(); // drains the HTTP server: in-flight requests to either endpoint finish
      await executor.stop();
      await operator.close();
      await health.close();
      await rate.close();
      await db.destroy();
      await ledgerDb.destroy();
      sessionKeys.close();
      state.identityKeys.close();
    },
  };
}
