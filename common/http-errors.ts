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
 * that their clients already read. /auth answers in that shape too, with GraphQL's codes
 * (UNAUTHENTICATED, BAD_USER_INPUT, FORBIDDEN, RATE_LIMITED, …) and its own finer one as
 * `extensions.reason`, and for one release also carries the older `error: {code, message}`
 * beside it, so a client written against that keeps working while it moves (README,
 * "Errors"). Every other route (/ledger, unknown paths) answers `{error: {code, message}}`.
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Response } from 'express';
import type { Logger } from './logger';
import { metrics } from './metrics/series';

export type ErrorShape = 'graphql' | 'auth' | 'plain';

/**
 * The GraphQL code a status answers with on /auth, when the refusal's own code is more
 * specific (CODE_USED, UNKNOWN_CREDENTIAL, …): that one goes in `extensions.reason`.
 */
const AUTH_CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_USER_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  // An invite code used or expired: the input no longer works, and a new one is needed.
  410: 'BAD_USER_INPUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};
// Codes /graphql answers with too (common/errors.ts, this file, request-id.ts): kept as they are.
const SHARED_CODES = new Set([...Object.values(AUTH_CODE_BY_STATUS), 'INTERNAL_SERVER_ERROR', 'BAD_REQUEST', 'MALFORMED_JSON', 'INVALID_REQUEST_ID']);

/** The body of a refusal in `shape`. */
export function errorBody(status: number, code: string, message: string, shape: ErrorShape, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (shape === 'graphql') return { errors: [{ message, extensions: { code, ...extra } }] };
  if (shape === 'plain') return { error: { code, message, ...extra } };
  const shared = SHARED_CODES.has(code) ? code : (AUTH_CODE_BY_STATUS[status] ?? 'INTERNAL_SERVER_ERROR');
  return {
    errors: [{ message, extensions: { code: shared, ...(shared === code ? {} : { reason: code }), ...extra } }],
    // Deprecated, kept for one release for clients that read it (README, "Errors").
    error: { code, message, ...extra },
  };
}

export function sendError(res: Response, status: number, code: string, message: string, shape: ErrorShape, extra: Record<string, unknown> = {}): void {
  const body = errorBody(status, code, message, shape, extra);
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
