/**
 * Sessions after a passkey sign-in: a short-lived access token (an EdDSA JWT, 15 min)
 * and a refresh token (opaque, 30 days, rotated on every use). The access token names
 * its session, and every request checks that the session is still live, so signing out
 * takes effect at once, not when the token expires. Presenting a refresh token that was
 * already rotated away means it was copied: the whole session is revoked.
 */
import { SignJWT, type JWTPayload } from 'jose';
import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { serialized } from '../../common/database';
import { signingKeyOf, verifyWithKeySet, type SignWith, type VerifyWith } from '../../common/keysets';
import { appendToOutbox } from '../../ledger/pipeline/outbox';
import { newId } from '../../common/ids';
import { randomToken, safeEqual, sha256 } from '../../common/secrets';
import { AuthError } from './errors';
import { Session, User } from './entities';

import { ACCESS_TTL_SECONDS } from './lifetimes';

export { ACCESS_TTL_SECONDS };
export const SESSION_TTL_DAYS = 30;
const ISSUER = 'custodian-gateway';
const AUDIENCE = 'custodian';

export interface IssuedSession {
  token: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

async function accessToken(user: User, sessionId: string, keys: SignWith): Promise<string> {
  // The kid names the key (common/keysets.ts): after a rotation, tokens of the old key
  // stay valid until they expire, beside the new key's.
  const { kid, privateKey } = signingKeyOf(keys);
  return new SignJWT({ sid: sessionId, role: user.role })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
    .setSubject(user.id)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TTL_SECONDS}s`)
    .sign(privateKey);
}

export async function startSession(db: DataSource, user: User, key: SignWith, now = new Date()): Promise<IssuedSession> {
  const id = newId('ses');
  const secret = randomToken();
  await serialized(db, () =>
    db.transaction(async (tx) => {
      await tx.getRepository(Session).insert({
        id,
        userId: user.id,
        refreshHash: sha256(secret),
        createdAt: now,
        expiresAt: new Date(now.getTime() + SESSION_TTL_DAYS * 86_400_000),
        revokedAt: null,
      });
      await appendToOutbox(tx, [{ kind: 'session.started', payload: { subject: user.id, role: user.role, sessionId: id } }], now);
    }),
  );
  return { token: await accessToken(user, id, key), refreshToken: `rt_${id}_${secret}`, expiresIn: ACCESS_TTL_SECONDS, tokenType: 'Bearer' };
}

export async function refreshSession(db: DataSource, refreshToken: unknown, key: SignWith, now = new Date()): Promise<IssuedSession> {
  const match = typeof refreshToken === 'string' ? /^rt_(ses_[0-9a-f]{20})_([\w-]{43})$/.exec(refreshToken) : null;
  if (!match) throw new AuthError(400, 'INVALID_REFRESH_TOKEN', 'A refresh token is required');
  const [, sessionId, secret] = match as unknown as [string, string, string];
  const repo = db.getRepository(Session);
  const session = await repo.findOneBy({ id: sessionId });
  if (!session || session.revokedAt || session.expiresAt <= now) {
    throw new AuthError(401, 'SESSION_ENDED', 'This session has ended; sign in again');
  }
  if (!safeEqual(session.refreshHash, sha256(secret))) {
    await serialized(db, () =>
      db.transaction(async (tx) => {
        await tx.getRepository(Session).update({ id: session.id }, { revokedAt: now });
        // A reused refresh token means it was copied: worth a line in the audit trail.
        await appendToOutbox(tx, [{ kind: 'session.revoked', payload: { subject: session.userId, sessionId: session.id, decidedBy: 'refresh-token-reuse' } }], now);
      }),
    );
    throw new AuthError(401, 'REFRESH_TOKEN_REUSED', 'This refresh token was already used; the session is revoked');
  }
  const next = randomToken();
  // Compare-and-set: of two refreshes racing with one token, only one rotates it.
  const rotated = await repo.update({ id: session.id, refreshHash: session.refreshHash, revokedAt: IsNull() }, { refreshHash: sha256(next) });
  if (!rotated.affected) throw new AuthError(401, 'REFRESH_TOKEN_REUSED', 'This refresh token was already used');
  const user = await db.getRepository(User).findOneByOrFail({ id: session.userId });
  return { token: await accessToken(user, session.id, key), refreshToken: `rt_${session.id}_${next}`, expiresIn: ACCESS_TTL_SECONDS, tokenType: 'Bearer' };
}

export async function endSession(db: DataSource, sessionId: string, now = new Date()): Promise<void> {
  await serialized(db, () =>
    db.transaction(async (tx) => {
      const ended = await tx.getRepository(Session).update({ id: sessionId, revokedAt: IsNull() }, { revokedAt: now });
      if (!ended.affected) return;
      const session = await tx.getRepository(Session).findOneByOrFail({ id: sessionId });
      await appendToOutbox(tx, [{ kind: 'session.ended', payload: { subject: session.userId, sessionId } }], now);
    }),
  );
}

/** The user and session behind an access token, if both are still valid. */
export async function verifyAccessToken(
  db: DataSource,
  token: string,
  keys: VerifyWith,
  now = new Date(),
): Promise<{ user: User; sessionId: string }> {
  let payload: JWTPayload;
  try {
    payload = await verifyWithKeySet(token, keys, { algorithms: ['EdDSA'], issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt' });
  } catch {
    throw new AuthError(401, 'INVALID_TOKEN', 'The access token is invalid or expired');
  }
  const session = typeof payload.sid === 'string' ? await db.getRepository(Session).findOneBy({ id: payload.sid }) : null;
  if (!session || session.revokedAt || session.expiresAt <= now || session.userId !== payload.sub) {
    throw new AuthError(401, 'SESSION_ENDED', 'This session has ended; sign in again');
  }
  const user = await db.getRepository(User).findOneBy({ id: session.userId });
  if (!user) throw new AuthError(401, 'SESSION_ENDED', 'This session has ended; sign in again');
  return { user, sessionId: session.id };
}
