/**
 * Who is calling: `Authorization: Bearer <access token | API token>` → a Principal, or
 * a 401. Sessions carry every scope; an API token only those it was minted with.
 */
import type { KeyObject } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SCOPES, type Identity, type Scope } from '../../common/signed-identity';
import { resolvePurpose } from './purpose';
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

export async function authenticate(db: DataSource, authorization: string | undefined, sessionKey: KeyObject): Promise<Principal> {
  const bearer = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  if (!bearer) throw new AuthError(401, 'UNAUTHENTICATED', 'Sign in: send Authorization: Bearer <token>');
  if (looksLikeApiToken(bearer)) {
    const { user, token, scopes } = await verifyApiToken(db, bearer);
    return { user, scopes, via: 'api-token', tokenId: token.id };
  }
  const { user, sessionId } = await verifyAccessToken(db, bearer, sessionKey);
  return { user, scopes: [...SCOPES], via: 'session', sessionId };
}

/**
 * The identity a request carries to the subgraphs: the authenticated caller, the purpose
 * they claim (checked against their role), the token's scopes, the request id — the
 * gateway's own (gateway/request-id.ts), never a client's, since it reaches the ledger. Throws
 * AuthError (401/403) like authenticate and resolvePurpose.
 */
export async function identify(
  db: DataSource,
  request: { authorization?: string | null; purpose?: string | null; requestId: string },
  sessionKey: KeyObject,
): Promise<{ principal: Principal; identity: Identity }> {
  const principal = await authenticate(db, request.authorization ?? undefined, sessionKey);
  const { user } = principal;
  const identity: Identity = {
    subject: user.id,
    role: user.role,
    institutionId: user.institutionId,
    patientId: user.patientId,
    practitionerId: user.practitionerId,
    purpose: resolvePurpose(user.role, request.purpose ?? undefined),
    scopes: principal.scopes,
    requestId: request.requestId,
  };
  return { principal, identity };
}
