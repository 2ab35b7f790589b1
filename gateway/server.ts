/**
 * The gateway: Apollo Gateway over the checked-in supergraph, served by Apollo Server on
 * Express, with `/healthz` and `/metrics` beside `/graphql`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { collectDefaultMetrics, register } from 'prom-client';
import { DEFAULT_PORTS, readEnv, SUBGRAPH_NAMES, subgraphUrl, type Env, type SubgraphName } from '../common/config';
import { makeFormatError } from '../common/errors';
import { createLogger, type Logger } from '../common/logger';
import { readSupergraph } from './compose';
import { checkSubgraphs } from './health';
import { SubgraphClient, type GatewayContext } from './subgraph-client';

export interface RunningGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface GatewayOptions {
  env?: Env;
  port?: number;
  logger?: Logger;
  /** Subgraph GraphQL URLs by name; defaults to `<NAME>_URL` or the default ports. */
  subgraphUrls?: Partial<Record<SubgraphName, string>>;
}

let defaultMetricsOn = false;

export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  const env = options.env ?? readEnv();
  const log = options.logger ?? createLogger('gateway', env.LOG_LEVEL);
  const urls = Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [name, options.subgraphUrls?.[name] ?? subgraphUrl(name, env)]),
  ) as Record<SubgraphName, string>;

  const gateway = new ApolloGateway({
    supergraphSdl: readSupergraph(),
    buildService: ({ name }) => new SubgraphClient(name, urls[name as SubgraphName]),
  });

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    formatError: makeFormatError(log),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer })],
  });
  await apollo.start();

  if (!defaultMetricsOn) {
    collectDefaultMetrics();
    defaultMetricsOn = true;
  }
  app.get('/healthz', async (_req, res) => {
    const health = await checkSubgraphs(urls);
    res.status(health.status === 'ok' ? 200 : 503).json(health);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  });
  app.use(
    '/graphql',
    express.json({ limit: '2mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const given = req.header('x-request-id');
        return { requestId: given && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID() };
      },
    }),
  );

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
    async close() {
      await apollo.stop();
    },
  };
}
