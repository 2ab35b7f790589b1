/**
 * Security headers on every response of every listener (helmet): nosniff, no referrer,
 * no framing, same-origin resource and opener policies, and a Content-Security-Policy
 * that lets an API response load nothing (the web portal's pages set their own, in
 * web/router.ts). HSTS only when the hub is served over https (ORIGIN), since
 * over plain http a browser ignores it and a proxy may not terminate TLS for every host.
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

export function securityHeaders(origin: string): RequestHandler {
  const https = origin.startsWith('https:');
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    xFrameOptions: { action: 'deny' },
  });
}

/** Answers that carry tokens or patient data are never stored by a browser or a proxy. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  next();
};
