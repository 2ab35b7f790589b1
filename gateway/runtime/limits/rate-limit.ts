/**
 * Rate limits that hold across gateway replicas: counters in Redis (rate-limiter-flexible,
 * fixed one-minute windows), keyed per principal for GraphQL and per client address for
 * the endpoints anyone may call (/auth/*, /ledger/*, and failed GraphQL sign-ins).
 *
 * Redis down must not mean the hub down: every Redis limiter has an in-memory "insurance"
 * limiter with the same points, used whenever Redis cannot answer at once (the client is
 * not ready, or a command fails or takes over 250 ms). Limits are then per process —
 * looser by the number of replicas — and nothing is refused wholesale.
 *
 * Keys are namespaced by the hub's databases (as the ledger queue is), so two hubs
 * sharing one Redis never share budgets, and the replicas of one hub always do.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Env } from '../../../common/config';
import { sendError, type ErrorShape } from '../../../common/http-errors';
import type { Logger } from '../../../common/logger';
import { metrics } from '../../../common/metrics/series';

const WINDOW_SECONDS = 60;

export type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** One budget: `points` requests per minute per key. */
export class Limiter {
  private readonly limiter: RateLimiterRedis;

  constructor(
    readonly name: string,
    readonly perMinute: number,
    redis: Redis,
    namespace: string,
  ) {
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `custodian:${namespace}:rl:${name}`,
      points: perMinute,
      duration: WINDOW_SECONDS,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points: perMinute, duration: WINDOW_SECONDS }),
    });
  }

  async consume(key: string): Promise<Verdict> {
    try {
      await this.limiter.consume(key);
      return { allowed: true };
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) throw res;
      metrics.rateLimited(this.name);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
    }
  }
}

/** `custodian-<first 12 hex of SHA-256 of DATABASE_URL, or of DATA_DIR>`. */
export function hubNamespace(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): string {
  return createHash('sha256').update(env.DATABASE_URL ?? path.resolve(env.DATA_DIR)).digest('hex').slice(0, 12);
}

export interface RateLimits {
  /** Resolves once Redis answers, fails to connect, or after `ms` (limits then start in memory). */
  ready(ms?: number): Promise<void>;
  /** Per principal, GraphQL; undefined when RATE_LIMIT_GRAPHQL_PER_MINUTE=0. */
  graphql?: Limiter;
  /** Per client address: /auth/*, failed GraphQL sign-ins. */
  auth?: Limiter;
  /** Per client address: /ledger/*. */
  ledger?: Limiter;
  close(): Promise<void>;
}

export function rateLimits(env: Env, log: Logger): RateLimits {
  const redis = new Redis(env.REDIS_URL, {
    // Fail fast (to the insurance limiter) rather than queue commands while Redis is away.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 250,
    lazyConnect: false,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: err.message }, 'rate limits: Redis unavailable, limiting per process until it returns');
  });
  redis.on('ready', () => {
    if (down) log.info('rate limits: Redis is back');
    down = false;
  });
  const namespace = hubNamespace(env);
  const make = (name: string, perMinute: number) => (perMinute > 0 ? new Limiter(name, perMinute, redis, namespace) : undefined);
  return {
    ready: (ms = 5000) =>
      new Promise<void>((resolve) => {
        if (redis.status === 'ready') return resolve();
        const done = () => {
          clearTimeout(timer);
          redis.off('ready', done);
          redis.off('error', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        // Ready, or refused outright (no Redis there): either way there is no point waiting.
        redis.once('ready', done);
        redis.once('error', done);
      }),
    graphql: make('graphql', env.RATE_LIMIT_GRAPHQL_PER_MINUTE),
    auth: make('auth', env.RATE_LIMIT_AUTH_PER_MINUTE),
    ledger: make('ledger', env.RATE_LIMIT_LEDGER_PER_MINUTE),
    async close() {
      redis.disconnect();
    },
  };
}

export function tooManyMessage(retryAfterSeconds: number, who: string): string {
  return `Too many requests from this ${who}: try again in ${retryAfterSeconds} s`;
}

/** Express middleware: one request counts against the client address (req.ip, see TRUST_PROXY). */
export function limitByAddress(limiter: Limiter | undefined, shape: ErrorShape): RequestHandler {
  if (!limiter) return (_req, _res, next) => next();
  return async (req, res, next) => {
    const verdict = await limiter.consume(clientAddress(req));
    if (verdict.allowed) return next();
    res.setHeader('Retry-After', String(verdict.retryAfterSeconds));
    sendError(res, 429, 'RATE_LIMITED', tooManyMessage(verdict.retryAfterSeconds, 'address'), shape, {
      limit: limiter.name,
      retryAfterSeconds: verdict.retryAfterSeconds,
    });
  };
}

/** The client's address as Express sees it: the socket's, or X-Forwarded-For's when TRUST_PROXY says so. */
export function clientAddress(req: { ip?: string; socket: { remoteAddress?: string } }): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
