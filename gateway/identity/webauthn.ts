/**
 * Passkey ceremonies (WebAuthn, via @simplewebauthn/server) at the paths of the public
 * contract. Options and responses are SimpleWebAuthn's JSON shapes.
 *
 *   POST /auth/webauthn/register/options {code, username}   first passkey, with an invite
 *        (or, signed in with a session and no code: another passkey for yourself)
 *   POST /auth/webauthn/register/verify  {username, response}
 *   POST /auth/webauthn/login/options    {} — or {username}, for passkeys made before sign-in was discoverable
 *   POST /auth/webauthn/login/verify     {response, username?} → {token, refreshToken, expiresIn, tokenType, username}
 *   POST /auth/refresh                   {refreshToken}       → a new pair (rotation)
 *   POST /auth/logout                    Bearer access token  → 204, session revoked
 *
 * Sign-in uses discoverable credentials (resident keys): `login/options` needs no
 * username and answers every caller the same — no lookup, no stored state, nothing that
 * says whether an account exists (challenges.ts). The account is found from the
 * credential's user handle. New passkeys are created as discoverable ones.
 *
 * The username form keeps working for passkeys made before (which may carry no user
 * handle): `login/options {username}` lists that account's credentials — and, for a name
 * with none, decoy ids of the same shape, the same for every asking — after the same one
 * lookup either way, with the same status; nothing is stored. A username sent to
 * login/verify must name the passkey's account; any mismatch is the same 401 as an
 * unknown passkey.
 *
 * Every challenge is random, single-use and expires after five minutes; it is read from
 * the response's own clientDataJSON. A registration challenge is stored and burnt before
 * verification; a sign-in challenge is burnt once its response has verified, so a
 * replayed response finds it used. The signature counter must move forward.
 *
 * One module per concern under routes/: registration.ts, sign-in.ts,
 * refresh-and-logout.ts; request.ts reads bodies and responses, error-responses.ts
 * shapes refusals.
 */
import express, { type Router } from 'express';
import type { DataSource } from 'typeorm';
import { httpErrors, jsonBody, notFound } from '../../common/http-errors';
import type { OwnKeys } from '../../common/keysets';
import type { Logger } from '../../common/logger';
import { SignInChallenges } from './challenges';
import type { RouteContext, RouteHandler, WebAuthnConfig } from './routes/context';
import { authErrorResponses } from './routes/error-responses';
import { refresh, signOut } from './routes/refresh-and-logout';
import { registrationOptions, registrationVerify } from './routes/registration';
import { signInOptions, signInVerify } from './routes/sign-in';

export type { WebAuthnConfig };

export function webauthnRoutes(db: DataSource, sessionKey: OwnKeys, config: WebAuthnConfig, log: Logger): Router {
  const ctx: RouteContext = { db, sessionKey, config, log, signInChallenges: new SignInChallenges(sessionKey) };
  // Express 5 hands a rejected promise to the error handlers below.
  const handle = (fn: RouteHandler) => (req: express.Request, res: express.Response) => fn(ctx, req, res);
  const router = express.Router();
  router.use(jsonBody(64 * 1024));
  router.post('/webauthn/register/options', handle(registrationOptions));
  router.post('/webauthn/register/verify', handle(registrationVerify));
  router.post('/webauthn/login/options', handle(signInOptions));
  router.post('/webauthn/login/verify', handle(signInVerify));
  router.post('/refresh', handle(refresh));
  router.post('/logout', handle(signOut));
  router.use(authErrorResponses);
  // An unknown /auth route (404), bodies over the limit (413) and anything unexpected (500,
  // logged): as on every listener, in /auth's error shape.
  router.use(notFound('auth'));
  router.use(httpErrors('auth', log));
  return router;
}
