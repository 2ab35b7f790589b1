/**
 * Who is calling: `Authorization: Bearer <access token | API token>` → a Principal, or
 * a 401. Sessions carry every scope; an API token only those it was minted with.
 */
import type { DataSource } from 'typeorm';
import type { VerifyWith } from '../../common/keysets';
import { SCOPES, type Scope } from '../../common/signed-identity';
import { looksLikeApiToken, verifyApiToken } from './api-tokens';
import { AuthError } from './errors';
import type { User } from './entities';
import { verifyAccessToken } from './sessions';

export interface Principal {
  user: User;
  scopes: Scope[];
  via: 'session' | 'api-token';
  sessionId?: string;
  tokenId?: string;
}

export async function authenticate(db: DataSource, authorization: string | undefined, sessionKeys: VerifyWith): Promise<Principal> {
  const bearer = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  if (!bearer) throw new AuthError(401, 'UNAUTHENTICATED', 'Sign in: send Authorization: Bearer <token>');
  if (looksLikeApiToken(bearer)) {
    const { user, token, scopes } = await verifyApiToken(db, bearer);
    return { user, scopes, via: 'api-token', tokenId: token.id };
  }
  const { user, sessionId } = await verifyAccessToken(db, bearer, sessionKeys);
  return { user, scopes: [...SCOPES], via: 'session', sessionId };
}
