/**
 * identify.ts bound to Express, the HTTP front both executors sit behind: the caller is
 * identified before the executor sees the request, refusals are answered here in the
 * GraphQL error shape (common/http-errors.ts), and the context rides on the request for
 * the executor's adapter to pick up (`req.gatewayContext`).
 */
import type { Request, RequestHandler } from 'express';
import { sendError } from '../../common/http-errors';
import { traceGraphqlRequests } from '../../common/tracing';
import type { GatewayContext } from './context';
import { Refusal, type Identifier } from './identify';
import { clientAddress } from './limits/rate-limit';

declare module 'express-serve-static-core' {
  interface Request {
    /** Who is calling /graphql or /accounts/graphql, set by identifyCallers(). */
    gatewayContext?: GatewayContext;
  }
}

/**
 * One trace per GraphQL request, rooted here: a client's `traceparent` becomes a link, not
 * our parent (common/tracing.ts says why). Named for the operation; carries our request
 * id, so a trace and the logs and ledger events of its request find each other.
 */
const traceRequest = traceGraphqlRequests({ remote: 'link', attributes: (req) => ({ 'custodian.request_id': req.requestId ?? '' }) });

export function identifyCallers(identify: Identifier): RequestHandler {
  const identifyCaller = identifyOnly(identify);
  // The span starts here because this is the first step after the body is parsed.
  // A failure other than a refusal goes to Express's error handler, as when this was async.
  return (req, res, next) => traceRequest(req, res, () => void identifyCaller(req, res, next).catch(next));
}

function identifyOnly(identify: Identifier): (...args: Parameters<RequestHandler>) => Promise<void> {
  return async (req, res, next) => {
    let context: GatewayContext;
    try {
      context = await identify({
        header: (name) => req.header(name),
        address: clientAddress(req),
        // Set by assignRequestIds(), which runs before every route.
        requestId: req.requestId!,
        clientRequestId: req.clientRequestId,
      });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
      return sendError(res, err.status, err.code, err.message, 'graphql', err.extensions);
    }
    // Nobody left to read the answer: stop fetching it.
    res.once('close', () => {
      if (!res.writableFinished) context.budget.end('client-gone');
    });
    req.gatewayContext = context;
    next();
  };
}

/** The context identifyCallers() put on the request. */
export function contextOf(req: Pick<Request, 'gatewayContext'>): GatewayContext {
  if (!req.gatewayContext) throw new Error('identifyCallers() must run before the executor');
  return req.gatewayContext;
}
