/**
 * How every subgraph starts: its SDL and resolvers become a Federation 2 subgraph schema
 * served by Apollo Server over Express, beside `/healthz` and `/metrics`, on its own
 * database. A subgraph module only declares what is specific to it (see `definition.ts`
 * in each subgraph folder).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { ResolverMap } from '../../common/resolver-map';
import { parse } from 'graphql';
import type { DataSource } from 'typeorm';
import { type Env, readEnv, DEFAULT_PORTS, type SubgraphName } from '../../common/config';
import { openDatabase, type DatabaseSpec } from '../../common/database';
import { makeFormatError } from '../../common/errors';
import { keepConnectionsLonger, stopOnSignals } from '../../common/lifecycle';
import { checkStartup, StartupRefused, subgraphRoles } from '../../common/production';
import { openVerifyingKeys } from '../../common/keys';
import type { VerifyWith } from '../../common/keysets';
import { httpErrors, jsonBody, notFound } from '../../common/http-errors';
import { operatorEndpoints } from '../../common/metrics';
import { securityHeaders } from '../../common/security-headers';
import { createLogger, type Logger } from '../../common/logger';
import { readSubgraphSdl } from '../../common/paths';
import { openConsentDatabase } from '../../consent/database';
import { ConsentEngine } from '../../consent/engine';
import { ConsentNotifier, listenForConsentChanges } from '../../consent/notifications';
import { createContext, type SubgraphContext } from './context';
import { ungatedForBenchmark } from './ungated';
import { gateSchema, type AccessRules } from './gate';
import { OUTBOX_MIGRATIONS } from '../../ledger/pipeline/migrations';
import { OutboxEvent } from '../../ledger/pipeline/outbox';
import { recordDecisions } from './record-decisions';
import { trustGatewayOnly } from './trust-gateway';
import { startTracing, stopTracing, traceGraphqlRequests } from '../../common/tracing';

export interface SubgraphDefinition {
  name: SubgraphName;
  resolvers: ResolverMap<SubgraphContext>;
  /** What each field is, for the consent gate (see gate.ts). */
  access: AccessRules;
  database: Omit<DatabaseSpec, 'name'>;
  /**
   * What else the subgraph reads besides its own database (the audit subgraph: the
   * ledger), opened at start, handed to every resolver as `ctx.resources`, closed at stop.
   */
  resources?: (env: Env, log: Logger) => Promise<SubgraphResources>;
}

export interface SubgraphResources {
  values: Record<string, unknown>;
  close(): Promise<void>;
}

/** A subgraph's database: its own tables, plus the outbox every subgraph has. */
export function databaseSpec(def: SubgraphDefinition): DatabaseSpec {
  return {
    name: def.name,
    entities: [...(def.database.entities as []), OutboxEvent],
    migrations: [...OUTBOX_MIGRATIONS, ...(def.database.migrations as [])],
  };
}

/** The gateway's requests carry entity representations: larger than a client's, still bounded. */
const SUBGRAPH_BODY_BYTES = 4 * 1_048_576;

export interface RunningSubgraph {
  name: string;
  url: string;
  port: number;
  db: DataSource;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Env;
  port?: number;
  logger?: Logger;
  /** The gateway's identity keys; by default the key set IDENTITY_JWKS, IDENTITY_PUBLIC_KEY or DATA_DIR names (common/keys.ts). */
  identityKey?: VerifyWith;
}

export async function startSubgraph(def: SubgraphDefinition, options: StartOptions = {}): Promise<RunningSubgraph> {
  const env = options.env ?? readEnv();
  const log = options.logger ?? createLogger(def.name, env.LOG_LEVEL);
  const ownKeys = options.identityKey
    ? null
    : await openVerifyingKeys('identity', env.DATA_DIR, process.env, {
        onReload: (kids) => log.info({ keys: 'identity', kids }, 'identity key set reloaded'),
        onError: (err) => log.warn({ keys: 'identity', err: err.message }, 'identity key set could not be read; keeping the keys held'),
      });
  const identityKey = options.identityKey ?? ownKeys!;
  const db = await openDatabase(databaseSpec(def), env);
  const consentDb = await openConsentDatabase(env);
  const engine = new ConsentEngine(consentDb);
  const notifier = new ConsentNotifier(env.REDIS_URL, log);
  const listener = listenForConsentChanges(env.REDIS_URL, log, (change) => engine.evict(change.patientId));
  const resources = def.resources ? await def.resources(env, log) : { values: {}, close: async () => {} };

  const schema = gatedSchema(def, env, log);
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  keepConnectionsLonger(httpServer);
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    formatError: makeFormatError(log),
    // No Apollo Studio here: inline traces would only cost time and expose timings.
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginInlineTraceDisabled(), recordDecisions(db, log)],
  });
  await apollo.start();

  // Hostile traffic (issue 10): security headers, bounded JSON bodies, JSON errors and
  // 404s, public health as up/down only, /metrics for operators (common/).
  app.use(securityHeaders(env.ORIGIN));
  const operator = await operatorEndpoints(app, env, log, async () => {
    const up = await db.query('SELECT 1').then(() => true, () => false);
    return { up, detail: { service: def.name, database: up ? 'up' : 'down' } };
  });
  app.use(
    '/graphql',
    jsonBody(SUBGRAPH_BODY_BYTES),
    trustGatewayOnly(identityKey),
    // After the identity check: only the gateway's requests, whose traceparent names its
    // fetch span, start spans here; anyone else's is refused before it can (tracing.ts).
    traceGraphqlRequests({ remote: 'continue', attributes: () => ({ 'custodian.subgraph': def.name }) }),
    expressMiddleware(apollo, {
      context: async ({ req }) => createContext(db, log, req.identity!, { engine, notifier }, def.name, resources.values),
    }),
    httpErrors('graphql', log),
  );
  app.use(notFound('plain'));
  app.use(httpErrors('plain', log));

  const actualPort = await listen(httpServer, options.port ?? env.PORT ?? DEFAULT_PORTS[def.name], env.HOST);
  const url = `http://${env.HOST}:${actualPort}/graphql`;
  log.info({ url }, `${def.name} subgraph ready`);

  return {
    name: def.name,
    url,
    port: actualPort,
    db,
    async close() {
      await apollo.stop();
      await operator.close();
      await listener.close();
      await notifier.close();
      await resources.close();
      await db.destroy();
      await consentDb.destroy();
      ownKeys?.close();
    },
  };
}

/**
 * The subgraph's Federation schema with every field behind the consent gate (gate.ts);
 * only the benchmark's preload (ungated.ts) serves it ungated, and never in production.
 */
function gatedSchema(def: SubgraphDefinition, env: Env, log: Logger): ReturnType<typeof buildSubgraphSchema> {
  const schema = buildSubgraphSchema({ typeDefs: parse(readSubgraphSdl(def.name)), resolvers: def.resolvers as ResolverMap<unknown> });
  if (ungatedForBenchmark()) {
    if (env.NODE_ENV === 'production') throw new Error('the ungated benchmark preload is refused in production');
    log.warn('CONSENT GATE OFF: serving data without consent checks (benchmark preload)');
  } else {
    gateSchema(schema, def.access);
  }
  return schema;
}

/** Listens on `port` (0: any free one); resolves with the port it got. */
async function listen(httpServer: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, resolve);
  });
  return (httpServer.address() as AddressInfo).port;
}

/** Entry point of a subgraph process: start, then stop cleanly on SIGINT/SIGTERM. */
export function runSubgraphProcess(def: SubgraphDefinition): void {
  // First: in production, nothing is opened or written unless everything the subgraph needs is there.
  checkStartup(`${def.name} subgraph`, subgraphRoles(def.name))
    .then(() => {
      startTracing(`custodian-${def.name}`);
      return startSubgraph(def);
    })
    .then((running) =>
      stopOnSignals(async () => {
        await running.close();
        await stopTracing();
      }),
    )
    .catch((err: unknown) => {
      if (err instanceof StartupRefused) console.error(err.message);
      else console.error(`${def.name} subgraph failed to start:`, err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
