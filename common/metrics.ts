/**
 * Prometheus metrics of this process (the default Node metrics, turned on once per
 * process even when a test runs several servers in it, and every counter registered by
 * the modules loaded), and the operator's side of health.
 *
 * What the public sees: `GET /healthz` answers only `{"status":"up"}` (200) or
 * `{"status":"down"}` (503), enough for a load balancer. What an operator sees — /metrics
 * and the detailed health (which subgraph, which URL, how slow) — is served
 *  - on a separate listener when METRICS_PORT is set, bound to METRICS_HOST (loopback
 *    unless said otherwise), and/or
 *  - on the main listener to `Authorization: Bearer <METRICS_TOKEN>` when that is set.
 * With neither, /metrics is not served at all.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type Request, type Response } from 'express';
import { collectDefaultMetrics, register } from 'prom-client';
import type { Env } from './config';
import { httpErrors, notFound, sendError } from './http-errors';
import type { Logger } from './logger';
import { safeEqual } from './secrets';
import { securityHeaders } from './security-headers';

let defaultsOn = false;

export function metricsHandler(): (req: Request, res: Response) => Promise<void> {
  if (!defaultsOn) {
    collectDefaultMetrics();
    defaultsOn = true;
  }
  return async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  };
}

export interface Health {
  up: boolean;
  /** For operators only. */
  detail: Record<string, unknown>;
}

export interface OperatorEndpoints {
  /** The separate listener's base URL, when METRICS_PORT is set. */
  url?: string;
  close(): Promise<void>;
}

function holdsToken(req: Request, token: string | undefined): boolean {
  const given = /^Bearer (\S+)$/.exec(req.header('authorization') ?? '')?.[1];
  return Boolean(token && given && safeEqual(given, token));
}

/**
 * Mounts the public /healthz (and the token-guarded /metrics) on `app`, and starts the
 * operator listener if METRICS_PORT is set.
 */
export async function operatorEndpoints(
  app: Express,
  env: Pick<Env, 'METRICS_PORT' | 'METRICS_HOST' | 'METRICS_TOKEN' | 'ORIGIN'>,
  log: Logger,
  health: () => Promise<Health>,
): Promise<OperatorEndpoints> {
  const metrics = metricsHandler();
  const detailed = async (_req: Request, res: Response) => {
    const h = await health();
    res.status(h.up ? 200 : 503).json({ status: h.up ? 'up' : 'down', ...h.detail });
  };
  app.get('/healthz', async (req, res) => {
    if (holdsToken(req, env.METRICS_TOKEN)) return detailed(req, res);
    const h = await health();
    res.status(h.up ? 200 : 503).json({ status: h.up ? 'up' : 'down' });
  });
  if (env.METRICS_TOKEN) {
    app.get('/metrics', (req, res) => {
      if (holdsToken(req, env.METRICS_TOKEN)) return void metrics(req, res);
      res.setHeader('WWW-Authenticate', 'Bearer realm="custodian-metrics"');
      sendError(res, 401, 'UNAUTHENTICATED', 'Metrics are for operators: send Authorization: Bearer <METRICS_TOKEN>', 'plain');
    });
  }
  if (env.METRICS_PORT === undefined) return { close: async () => {} };

  const operator = express();
  operator.disable('x-powered-by');
  operator.use(securityHeaders(env.ORIGIN));
  operator.get('/metrics', metrics);
  operator.get('/healthz', detailed);
  operator.use(notFound('plain'));
  operator.use(httpErrors('plain', log));
  const server = http.createServer(operator);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.METRICS_PORT, env.METRICS_HOST, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${env.METRICS_HOST.includes(':') ? `[${env.METRICS_HOST}]` : env.METRICS_HOST}:${port}`;
  log.info({ url: `${url}/metrics` }, 'operator listener ready');
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
