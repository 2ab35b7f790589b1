/**
 * How a refusal on /auth reaches the client: an AuthError with its status, unparsable JSON
 * as a 400, both in the GraphQL error shape `{errors: [{message, extensions: {code}}]}`
 * with the older `error: {code, message}` beside it for one release (common/http-errors.ts,
 * `auth`). Everything else goes on to the shared handlers: 413 for bodies over the limit,
 * 500 logged, in the same shape.
 */
import type { NextFunction, Request, Response } from 'express';
import { sendError } from '../../../common/http-errors';
import { AuthError } from '../errors';

export function authErrorResponses(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  if (err instanceof AuthError) {
    sendError(res, err.status, err.code, err.message, 'auth');
    return;
  }
  if ((err as { type?: string }).type === 'entity.parse.failed') {
    sendError(res, 400, 'INVALID_REQUEST', 'The body is not valid JSON', 'auth');
    return;
  }
  next(err);
}
