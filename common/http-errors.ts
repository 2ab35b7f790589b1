/**
 * HTTP-level refusals, the same on every listener (the gateway, /accounts/graphql, each
 * subgraph, the metrics listener): always JSON with a code, never Express's HTML page,
 * a stack trace or a file path, whatever the request looked like.
 *
 *   malformed JSON         400 MALFORMED_JSON
 *   body over the limit    413 PAYLOAD_TOO_LARGE
 *   unsupported encoding   415 UNSUPPORTED_MEDIA_TYPE
 *   unknown route          404 NOT_FOUND
 *   anything unexpected    500 INTERNAL_SERVER_ERROR (logged, not described)
 *
 * GraphQL endpoints answer in the GraphQL shape `{errors: [{message, extensions: {code}}]}`
 * that their clients already read; every other route in the `{error: {code, message}}`
 * shape of /auth and /ledger.
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import type { Logger } from './logger';
import { metrics } from './metrics/series';

export type ErrorShape = 'graphql' | 'plain';

export function sendError(res: Response, status: number, code: string, message: string, shape: ErrorShape, extra: Record<string, unknown> = {}): void {
  const body = shape === 'graphql' ? { errors: [{ message, extensions: { code, ...extra } }] } : { error: { code, message, ...extra } };
  if (shape === 'graphql') metrics.graphqlErrors(body.errors as { extensions: Record<string, unknown> }[]);
  res.status(status).json(body);
}

/** A JSON body parser with a byte limit; its refusals reach `httpErrors` below. */
export function jsonBody(limitBytes: number): RequestHandler {
  return express.json({ limit: limitBytes });
}

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/** body-parser's error types (`err.type`) as our status, code and sentence. */
function bodyRefusal(err: BodyParserError): [number, string, string] | null {
  switch (err.type) {
    case 'entity.parse.failed':
      return [400, 'MALFORMED_JSON', 'The request body is not valid JSON'];
    case 'entity.too.large':
      return [413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${err.limit ?? 'the limit'} bytes`];
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return [415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as UTF-8 JSON (identity, gzip or deflate)'];
    case 'request.aborted':
    case 'request.size.invalid':
      return [400, 'BAD_REQUEST', 'The request body was incomplete'];
    default:
      return null;
  }
}

/** The last error handler of a listener (or of a router that wants its own shape). */
export function httpErrors(shape: ErrorShape, log: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) return next(err);
    const refusal = typeof err === 'object' && err !== null ? bodyRefusal(err as BodyParserError) : null;
    if (refusal) return sendError(res, refusal[0], refusal[1], refusal[2], shape);
    log.error({ err }, 'request failed');
    sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error', shape);
  };
}

/** 404 for any route nobody answered. */
export function notFound(shape: ErrorShape): RequestHandler {
  return (req, res) => sendError(res, 404, 'NOT_FOUND', `No such endpoint: ${req.method} ${req.path}`.slice(0, 200), shape);
}
