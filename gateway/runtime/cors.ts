/**
 * Cross-origin access for browsers (CORS_ORIGINS, common/config.ts): a research portal on
 * another origin may call /graphql and /fhir when its origin is listed, exactly. Nobody
 * else is: an unlisted origin's preflight is answered without Access-Control-Allow-Origin,
 * so the browser refuses to send the request or to show the answer. Empty by default.
 *
 * No credentials: the API authenticates with a bearer token the page holds, never a cookie,
 * so `Access-Control-Allow-Credentials` is never sent and a page cannot ride on a session.
 */
import cors from 'cors';
import type { RequestHandler } from 'express';

/** What a cross-origin caller may send: the methods and headers the API reads. */
export const CORS_METHODS = ['GET', 'POST', 'OPTIONS'];
export const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'x-purpose-of-use', 'x-request-id', 'apollo-require-preflight'];
/** Response headers a page may read beyond the safelisted ones: to correlate, and to back off. */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'retry-after'];

export function corsFor(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return cors({
    origin: (origin, callback) => callback(null, any ? '*' : origin !== undefined && allowed.has(origin)),
    methods: CORS_METHODS,
    allowedHeaders: CORS_REQUEST_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    credentials: false,
    // Browsers cap this (Chromium at 2 hours); ten minutes keeps a removed origin's access short.
    maxAge: 600,
    optionsSuccessStatus: 204,
  });
}
