/**
 * Request ids. The gateway makes its own for every request (a UUID): that id, and only
 * that one, travels in the identity token to the subgraphs and from there into the
 * outbox and the ledger's leaves, which are immutable — a client must never be able to
 * write text of its choosing there.
 *
 * A client's own `X-Request-Id` is accepted only when it is a plain token
 * (`[A-Za-z0-9._:-]{1,64}`); it is kept for the logs (as `clientRequestId`) so the client
 * and an operator can find the same request, and goes nowhere else. Anything else is a
 * 400 with a sentence saying what is allowed. Every response says which id we gave the
 * request, in `X-Request-Id`.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { sendError, type ErrorShape } from '../../common/http-errors';

export const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export const INVALID_REQUEST_ID_MESSAGE = 'X-Request-Id must be 1 to 64 characters, each a letter, digit, ".", "_", ":" or "-"';

declare module 'express-serve-static-core' {
  interface Request {
    /** The gateway's own id for this request. */
    requestId?: string;
    /** The client's X-Request-Id, when it sent a valid one: for the logs only. */
    clientRequestId?: string;
  }
}

export class InvalidRequestId extends Error {
  constructor() {
    super(INVALID_REQUEST_ID_MESSAGE);
  }
}

/** Our id, and the client's when it is acceptable; throws InvalidRequestId otherwise. */
export function requestIds(clientHeader: string | null | undefined): { requestId: string; clientRequestId?: string } {
  if (clientHeader === null || clientHeader === undefined) return { requestId: randomUUID() };
  if (!CLIENT_REQUEST_ID.test(clientHeader)) throw new InvalidRequestId();
  return { requestId: randomUUID(), clientRequestId: clientHeader };
}

const shapeOf = (req: Request): ErrorShape => (req.path.endsWith('/graphql') ? 'graphql' : /^\/auth(\/|$)/.test(req.path) ? 'auth' : 'plain');

/** Express middleware for every route of the gateway. */
export function assignRequestIds(): RequestHandler {
  return (req, res, next) => {
    try {
      const ids = requestIds(req.header('x-request-id'));
      req.requestId = ids.requestId;
      req.clientRequestId = ids.clientRequestId;
      res.setHeader('X-Request-Id', ids.requestId);
      next();
    } catch (err) {
      if (!(err instanceof InvalidRequestId)) throw err;
      sendError(res, 400, 'INVALID_REQUEST_ID', err.message, shapeOf(req));
    }
  };
}
