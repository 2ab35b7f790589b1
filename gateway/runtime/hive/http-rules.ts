/**
 * What Apollo Server refuses over HTTP before it looks at the operation, and Yoga answers
 * otherwise — refused here the same way, so that /graphql's HTTP surface does not depend
 * on the executor:
 *
 *  - CSRF prevention: a request a browser would send without a preflight (no content
 *    type, or a form / text/plain one) must carry `x-apollo-operation-name` or
 *    `apollo-require-preflight`; else 400 BAD_REQUEST (Yoga: 415, or runs a GET);
 *  - a POST whose JSON body has no keys: 400 BAD_REQUEST (Yoga would try to read the
 *    body again, which Express's parser has already read).
 */
import type { Request, Response } from 'express';
import { sendError } from '../../../common/http-errors';

const NON_PREFLIGHTED_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
const PREFLIGHT_HEADERS = ['x-apollo-operation-name', 'apollo-require-preflight'];

/** Apollo Server's own sentence (its preventCsrf is not exported). */
const CSRF_MESSAGE =
  'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either specify a ' +
  `'content-type' header (with a type that is not one of ${NON_PREFLIGHTED_CONTENT_TYPES.join(', ')}) or provide ` +
  `a non-empty value for one of the following headers: ${PREFLIGHT_HEADERS.join(', ')}\n`;

function csrfSuspect(req: Request): boolean {
  const contentType = req.header('content-type');
  if (contentType !== undefined && !NON_PREFLIGHTED_CONTENT_TYPES.includes(contentType.split(';')[0]!.trim().toLowerCase())) return false;
  return !PREFLIGHT_HEADERS.some((name) => (req.header(name) ?? '').length > 0);
}

/** Answers the request (and returns true) when Apollo Server would have refused it here. */
export function refusedAsApolloWould(req: Request, res: Response): boolean {
  if (csrfSuspect(req)) {
    sendError(res, 400, 'BAD_REQUEST', CSRF_MESSAGE, 'graphql');
    return true;
  }
  const body: unknown = req.body;
  if (req.method === 'POST' && (typeof body !== 'object' || body === null || Object.keys(body).length === 0)) {
    sendError(res, 400, 'BAD_REQUEST', 'POST body missing, invalid Content-Type, or JSON object has no keys.', 'graphql');
    return true;
  }
  return false;
}
