/**
 * Who is calling, and what their request may spend — worked out once per GraphQL request
 * at /graphql and /accounts/graphql, before any executor parses or plans it:
 *
 *  1. the gateway's request id (request-id.ts) and the client's, for the logs;
 *  2. the principal (gateway/identity/authenticate.ts) and the purpose they claim
 *     (purpose.ts); a failed sign-in counts against the client address's budget for
 *     unauthenticated calls, so guessing tokens is limited like guessing anything else at
 *     /auth;
 *  3. the principal's GraphQL rate limit (limits/rate-limit.ts): 429;
 *  4. the request's deadline and response budget (limits/budget.ts).
 *
 * Framework-neutral: it reads a CallerRequest and answers a GatewayContext or throws a
 * Refusal; http.ts binds it to Express for both executors.
 */
import type { VerifyWith } from '../../common/keysets';
import type { DataSource } from 'typeorm';
import type { Env } from '../../common/config';
import type { ErrorCode } from '../../common/errors';
import type { Identity } from '../../common/signed-identity';
import { authenticate } from '../identity/authenticate';
import { AuthError } from '../identity/errors';
import type { GatewayContext } from './context';
import { PURPOSE_HEADER, resolvePurpose } from './purpose';
import { RequestBudget } from './limits/budget';
import { tooManyMessage, type Limiter, type RateLimits } from './limits/rate-limit';

/** What identify needs of an HTTP request, whatever serves it. */
export interface CallerRequest {
  /** A request header by lower-case name. */
  header(name: string): string | undefined;
  /** The client's address (see TRUST_PROXY): failed sign-ins count against it. */
  address: string;
  /** The gateway's own id for the request (request-id.ts). */
  requestId: string;
  clientRequestId?: string;
}

/** A request refused before it reaches the executor: an HTTP status, a code, the headers to send. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const AUTH_STATUS: Record<number, ErrorCode> = { 400: 'BAD_USER_INPUT', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN' };

function rateLimited(limiter: Limiter, retryAfterSeconds: number, who: string): Refusal {
  return new Refusal(429, 'RATE_LIMITED', tooManyMessage(retryAfterSeconds, who), { limit: limiter.name, retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) });
}

export interface IdentifyDeps {
  env: Pick<Env, 'REQUEST_TIMEOUT_MS' | 'MAX_RESPONSE_BYTES'>;
  db: DataSource;
  sessionKeys: VerifyWith;
  rate: RateLimits;
}

export type Identifier = (request: CallerRequest) => Promise<GatewayContext>;

export function identifier({ env, db, sessionKeys, rate }: IdentifyDeps): Identifier {
  return async (request) => {
    const { requestId, clientRequestId } = request;
    let principal: GatewayContext['principal'];
    let identity: Identity;
    try {
      principal = await authenticate(db, request.header('authorization'), sessionKeys);
      const { user } = principal;
      // The request id in the identity is the gateway's own, never a client's: it reaches the ledger.
      identity = {
        subject: user.id,
        role: user.role,
        institutionId: user.institutionId,
        patientId: user.patientId,
        practitionerId: user.practitionerId,
        purpose: resolvePurpose(user.role, request.header(PURPOSE_HEADER)),
        scopes: principal.scopes,
        requestId,
      };
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      if (err.status === 401 && rate.auth) {
        const verdict = await rate.auth.consume(request.address);
        if (!verdict.allowed) throw rateLimited(rate.auth, verdict.retryAfterSeconds, 'address');
      }
      throw new Refusal(err.status, AUTH_STATUS[err.status]!, err.message, { reason: err.code });
    }
    if (rate.graphql) {
      const verdict = await rate.graphql.consume(principal.user.id);
      if (!verdict.allowed) throw rateLimited(rate.graphql, verdict.retryAfterSeconds, 'account');
    }
    const budget = new RequestBudget(env.REQUEST_TIMEOUT_MS, env.MAX_RESPONSE_BYTES);
    return { requestId, clientRequestId, principal, identity, db, budget };
  };
}
