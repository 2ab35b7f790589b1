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
 * With neither, /metrics is not served at all. A process with no main listener (the
 * ledger) serves both on a port of its own (ownPortEndpoints, LEDGER_PORT).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type Request, type Response } from 'express';
import { collectDefaultMetrics, register } from 'prom-client';
import type { Env } from '../config';
import { httpErrors, notFound, sendError } from '../http-errors';
import type { Logger } from '../logger';
import { safeEqual } from '../secrets';
import { securityHeaders } from '../security-headers';

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

/** `/healthz` for anyone: up or down only; the detail to a holder of METRICS_TOKEN. */
function healthRoute(token: string | undefined, health: () => Promise<Health>) {
  return async (req: Request, res: Response) => {
    const h = await health();
    const detail = holdsToken(req, token) ? h.detail : {};
    res.status(h.up ? 200 : 503).json({ status: h.up ? 'up' : 'down', ...detail });
  };
}

/** `/metrics` to a holder of METRICS_TOKEN only. */
function guardedMetrics(token: string) {
  const metrics = metricsHandler();
  return (req: Request, res: Response) => {
    if (holdsToken(req, token)) return void metrics(req, res);
    res.setHeader('WWW-Authenticate', 'Bearer realm="custodian-metrics"');
    sendError(res, 401, 'UNAUTHENTICATED', 'Metrics are for operators: send Authorization: Bearer <METRICS_TOKEN>', 'plain');
  };
}

function operatorApp(origin: string): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders(origin));
  return app;
}

async function listenOn(app: Express, port: number, host: string, log: Logger, what: string): Promise<OperatorEndpoints> {
  app.use(notFound('plain'));
  app.use(httpErrors('plain', log));
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
  log.info({ url: `${url}/metrics` }, what);
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
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
  app.get('/healthz', healthRoute(env.METRICS_TOKEN, health));
  // Liveness, for a load balancer: this process is up and answering. /healthz is the
  // whole hub's health as this process sees it (Redis, databases, the ledger's progress):
  // a balancer acting on it would take every replica out at once when a shared
  // dependency fails, although requests are still served (and recorded) without Redis.
  app.get('/livez', (_req, res) => {
    res.json({ status: 'up' });
  });
  if (env.METRICS_TOKEN) app.get('/metrics', guardedMetrics(env.METRICS_TOKEN));
  if (env.METRICS_PORT === undefined) return { close: async () => {} };

  const operator = operatorApp(env.ORIGIN);
  operator.get('/metrics', metricsHandler());
  operator.get('/healthz', async (_req, res) => {
    const h = await health();
    res.status(h.up ? 200 : 503).json({ status: h.up ? 'up' : 'down', ...h.detail });
  });
  return listenOn(operator, env.METRICS_PORT, env.METRICS_HOST, log, 'operator listener ready');
}

/**
 * For a process that serves nothing else over HTTP (the ledger): its own listener on
 * `port`, bound to METRICS_HOST (loopback unless an operator says otherwise), with
 * /healthz as everywhere (up or down for anyone, the detail for METRICS_TOKEN) and
 * /metrics — to anyone who can reach the listener, or, when METRICS_TOKEN is set, to its
 * holders only, as on a main listener.
 */
export async function ownPortEndpoints(
  port: number,
  env: Pick<Env, 'METRICS_HOST' | 'METRICS_TOKEN' | 'ORIGIN'>,
  log: Logger,
  health: () => Promise<Health>,
): Promise<OperatorEndpoints & { url: string }> {
  const app = operatorApp(env.ORIGIN);
  app.get('/healthz', healthRoute(env.METRICS_TOKEN, health));
  app.get('/metrics', env.METRICS_TOKEN ? guardedMetrics(env.METRICS_TOKEN) : metricsHandler());
  return (await listenOn(app, port, env.METRICS_HOST, log, 'health and metrics listener ready')) as OperatorEndpoints & { url: string };
}
