/**
 * identify.ts bound to Express, the HTTP front both executors sit behind: the caller is
 * identified before the executor sees the request, refusals are answered here in the
 * GraphQL error shape (common/http-errors.ts), and the context rides on the request for
 * the executor's adapter to pick up (`req.gatewayContext`).
 */
import type { Request, RequestHandler } from 'express';
import { sendError } from '../../common/http-errors';
import type { GatewayContext } from './context';
import { Refusal, type Identifier } from './identify';
import { clientAddress } from './limits/rate-limit';

declare module 'express-serve-static-core' {
  interface Request {
    /** Who is calling /graphql or /accounts/graphql, set by identifyCallers(). */
    gatewayContext?: GatewayContext;
  }
}

export function identifyCallers(identify: Identifier): RequestHandler {
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
