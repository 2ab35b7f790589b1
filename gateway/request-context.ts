/**
 * Who is calling, and what their request may spend — built once per GraphQL request at
 * /graphql and /accounts/graphql, before anything is parsed or planned:
 *
 *  1. the gateway's request id (gateway/request-id.ts) and the client's, for the logs;
 *  2. the principal (gateway/identity/authenticate.ts); a failed sign-in counts against
 *     the client address's budget for unauthenticated calls, so guessing tokens is
 *     limited like guessing anything else at /auth;
 *  3. the principal's GraphQL rate limit (gateway/limits/rate-limit.ts): 429;
 *  4. the request's deadline and response budget (gateway/limits/budget.ts).
 */
import type { KeyObject } from 'node:crypto';
import { HeaderMap } from '@apollo/server';
import type { Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import type { DataSource } from 'typeorm';
import type { Env } from '../common/config';
import { userError } from '../common/errors';
import type { GatewayContext } from './context';
import { identify } from './identity/authenticate';
import { AuthError } from './identity/errors';
import { PURPOSE_HEADER } from './identity/purpose';
import { RequestBudget } from './limits/budget';
import { clientAddress, tooManyMessage, type Limiter, type RateLimits } from './limits/rate-limit';

const AUTH_STATUS: Record<number, string> = { 400: 'BAD_USER_INPUT', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN' };

function rateLimited(limiter: Limiter, retryAfterSeconds: number, who: string): GraphQLError {
  return new GraphQLError(tooManyMessage(retryAfterSeconds, who), {
    extensions: {
      code: 'RATE_LIMITED',
      limit: limiter.name,
      retryAfterSeconds,
      // Apollo Server reads `http.headers` as a Map (its HeaderMap) into the response.
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) as unknown as Record<string, string> },
    },
  });
}

export interface ContextDeps {
  env: Pick<Env, 'REQUEST_TIMEOUT_MS' | 'MAX_RESPONSE_BYTES'>;
  db: DataSource;
  sessionPublicKey: KeyObject;
  rate: RateLimits;
}

export function requestContextFactory({ env, db, sessionPublicKey, rate }: ContextDeps) {
  return async (req: Request, res: Response): Promise<GatewayContext> => {
    // Set by assignRequestIds(), which runs before every route.
    const requestId = req.requestId!;
    const clientRequestId = req.clientRequestId;
    let signedIn: Awaited<ReturnType<typeof identify>>;
    try {
      signedIn = await identify(db, { authorization: req.header('authorization'), purpose: req.header(PURPOSE_HEADER), requestId }, sessionPublicKey);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      if (err.status === 401 && rate.auth) {
        const verdict = await rate.auth.consume(clientAddress(req));
        if (!verdict.allowed) throw rateLimited(rate.auth, verdict.retryAfterSeconds, 'address');
      }
      throw userError(AUTH_STATUS[err.status] as 'UNAUTHENTICATED', err.message, { reason: err.code, http: { status: err.status } });
    }
    if (rate.graphql) {
      const verdict = await rate.graphql.consume(signedIn.principal.user.id);
      if (!verdict.allowed) throw rateLimited(rate.graphql, verdict.retryAfterSeconds, 'account');
    }
    const budget = new RequestBudget(env.REQUEST_TIMEOUT_MS, env.MAX_RESPONSE_BYTES);
    // Nobody left to read the answer: stop fetching it.
    res.once('close', () => {
      if (!res.writableFinished) budget.end('client-gone');
    });
    return { requestId, clientRequestId, ...signedIn, db, budget };
  };
}
