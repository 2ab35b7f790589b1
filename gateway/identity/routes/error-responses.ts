/**
 * How a refusal on /auth reaches the client: an AuthError as `{error: {code, message}}`
 * with its status, unparsable JSON as a 400 of the same shape. Everything else goes on to
 * the shared handlers (common/http-errors.ts): 413 for bodies over the limit, 500 logged.
 */
import type { NextFunction, Request, Response } from 'express';
import { AuthError } from '../errors';

export function authErrorResponses(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  if (err instanceof AuthError) {
    res.status(err.status).json({ error: { code: err.code, message: err.message } });
    return;
  }
  if ((err as { type?: string }).type === 'entity.parse.failed') {
    res.status(400).json({ error: { code: 'INVALID_REQUEST', message: 'The body is not valid JSON' } });
    return;
  }
  next(err);
}
