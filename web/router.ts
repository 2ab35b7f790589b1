/**
 * The web portal: a small single-page app in plain ES modules, served as files (no
 * bundler, no framework). The browser code lives in web/public/ and is
 * type-checked by web/tsconfig.json during `npm run build`; passkeys use
 * @simplewebauthn/browser, whose ES modules are served from node_modules.
 *
 *   GET /                      the app (index.html); views are #/ routes inside it
 *   GET /app/…                 its scripts and styles
 *   GET /app/vendor/simplewebauthn/…   @simplewebauthn/browser (ESM)
 *
 * Every response carries a strict Content-Security-Policy: scripts only from this
 * origin, plus the one inline import map, allowed by its hash.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Response, type Router } from 'express';
import { projectRoot } from '../common/paths';

export const WEB_ROOT = path.join(projectRoot(), 'web', 'public');

/** The directory of @simplewebauthn/browser's ES modules. */
function simpleWebAuthnEsm(): string {
  // The package's "require" export is script/index.js; its ES modules sit beside it in esm/.
  return path.join(path.dirname(require.resolve('@simplewebauthn/browser')), '..', 'esm');
}

/** The Content-Security-Policy for a page whose inline scripts are exactly `inline`. */
export function contentSecurityPolicy(inline: readonly string[]): string {
  const hashes = inline.map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`);
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function webRoutes(): Router {
  const router = express.Router();
  const indexHtml = fs.readFileSync(path.join(WEB_ROOT, 'index.html'), 'utf8');
  const inline = [...indexHtml.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  const csp = contentSecurityPolicy(inline);

  const secure = (res: Response) => {
    res.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
  };
  const page = (_req: express.Request, res: Response) => {
    secure(res);
    res.set('Cache-Control', 'no-cache').type('html').send(indexHtml);
  };
  router.get('/', page);
  router.get('/app', (_req, res) => res.redirect(301, '/'));
  router.get('/app/', page);
  // Files revalidate on every load (ETag → 304): a deploy is seen at once, and an
  // unchanged file costs one small round trip.
  const files = { index: false, etag: true, lastModified: false, cacheControl: true, maxAge: 0, setHeaders: secure };
  router.use('/app/vendor/simplewebauthn', express.static(simpleWebAuthnEsm(), { ...files, extensions: [] }));
  router.use('/app', express.static(WEB_ROOT, files));
  // A plain 404 (express's default page would show a stack trace outside production).
  router.use('/app', (_req, res) => {
    secure(res);
    res.status(404).type('text/plain').send('Not found\n');
  });
  return router;
}
