/**
 * The documents that bind apps and other sites to this relying party, so their passkeys
 * are this hub's passkeys (issue 15, "Native apps"). Served from configuration only, the
 * same on every replica; each answers 404 JSON while what it states is not configured, so
 * a platform never caches an empty binding as if it were one.
 *
 *   GET /.well-known/assetlinks.json               Android (Digital Asset Links): ANDROID_PACKAGE,
 *       signed by the certificates of ANDROID_APK_KEY_HASHES, may use this site's
 *       credentials (get_login_creds: passkeys and passwords) and open its links
 *   GET /.well-known/apple-app-site-association    iOS: APPLE_APP_IDS may use its
 *       web credentials (webcredentials.apps); application/json, no extension, as Apple fetches it
 *   GET /.well-known/webauthn                      WebAuthn related origins: the web origins of
 *       ORIGIN, when it lists more than the hub's own
 *
 * Platforms fetch these without credentials and cache them: short public caching, no
 * cookies, no redirects.
 */
import express, { type Response, type Router } from 'express';
import type { Env } from '../../common/config';
import { sendError } from '../../common/http-errors';
import { certFingerprint } from '../../common/origins';

export type WellKnownSettings = Pick<Env, 'WEB_ORIGINS' | 'ANDROID_APK_KEY_HASHES' | 'ANDROID_PACKAGE' | 'APPLE_APP_IDS'>;

/** What Android asks for: open the site's links in the app, and sign in with its credentials. */
export const ASSET_LINK_RELATIONS = ['delegate_permission/common.handle_all_urls', 'delegate_permission/common.get_login_creds'];

/** The Digital Asset Links statement list, or null when ANDROID_PACKAGE (and its certificates) are not set. */
export function assetLinks(s: WellKnownSettings): unknown[] | null {
  if (!s.ANDROID_PACKAGE || s.ANDROID_APK_KEY_HASHES.length === 0) return null;
  return [
    {
      relation: ASSET_LINK_RELATIONS,
      target: { namespace: 'android_app', package_name: s.ANDROID_PACKAGE, sha256_cert_fingerprints: s.ANDROID_APK_KEY_HASHES.map(certFingerprint) },
    },
  ];
}

export function appleAppSiteAssociation(s: WellKnownSettings): { webcredentials: { apps: string[] } } | null {
  return s.APPLE_APP_IDS.length ? { webcredentials: { apps: s.APPLE_APP_IDS } } : null;
}

/** Related origins: only worth stating when some web origin is not the hub's own. */
export function relatedOrigins(s: WellKnownSettings): { origins: string[] } | null {
  return s.WEB_ORIGINS.length > 1 ? { origins: s.WEB_ORIGINS } : null;
}

function serve(res: Response, body: unknown, what: string): void {
  if (body === null) return sendError(res, 404, 'NOT_CONFIGURED', `${what} is not configured on this hub`, 'plain');
  res.set('cache-control', 'public, max-age=300').type('application/json').send(JSON.stringify(body));
}

export function wellKnownRoutes(settings: WellKnownSettings): Router {
  // Computed once: configuration does not change while the process runs.
  const links = assetLinks(settings);
  const apple = appleAppSiteAssociation(settings);
  const related = relatedOrigins(settings);
  return express
    .Router()
    .get('/.well-known/assetlinks.json', (_req, res) => serve(res, links, 'Android app linking (ANDROID_PACKAGE, ANDROID_APK_KEY_HASHES)'))
    .get('/.well-known/apple-app-site-association', (_req, res) => serve(res, apple, 'Apple app association (APPLE_APP_IDS)'))
    .get('/.well-known/webauthn', (_req, res) => serve(res, related, 'WebAuthn related origins (more than one ORIGIN)'));
}
