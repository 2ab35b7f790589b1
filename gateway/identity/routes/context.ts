/**
 * What every route of /auth works with: the identity database, the session
 * signing key, the relying party, the log and the stateless sign-in challenges — made
 * once by `webauthnRoutes` (../webauthn.ts) and passed to each handler.
 */
import type { Request, Response } from 'express';
import type { DataSource } from 'typeorm';
import type { OwnKeys } from '../../../common/keysets';
import type { Logger } from '../../../common/logger';
import type { SignInChallenges } from '../challenges';

export interface WebAuthnConfig {
  rpId: string;
  rpName: string;
  /**
   * Every origin a ceremony's clientDataJSON may name: the web origins of ORIGIN and the
   * Android apps' `android:apk-key-hash:…` (common/origins.ts). SimpleWebAuthn accepts
   * any one of them; anything else is refused.
   */
  origins: string[];
}

export interface RouteContext {
  db: DataSource;
  /** Signs access tokens and checks them: the gateway's session key set. */
  sessionKey: OwnKeys;
  config: WebAuthnConfig;
  log: Logger;
  signInChallenges: SignInChallenges;
}

/** One route: it answers through `res`, or throws an AuthError (see ./error-responses.ts). */
export type RouteHandler = (ctx: RouteContext, req: Request, res: Response) => Promise<void>;
