/**
 * API tokens for scripts: named, scoped, expiring, revocable. The token is shown once,
 * at creation (`cus_<id>_<secret>`); only a digest of the secret is stored.
 */
import type { DataSource } from 'typeorm';
import { serialized } from '../../common/database';
import { appendToOutbox } from '../../ledger/pipeline/outbox';
import { newId } from '../../common/ids';
import { SCOPES, type Scope } from '../../common/signed-identity';
import { randomToken, safeEqual, sha256 } from '../../common/secrets';
import { AuthError } from './errors';
import { ApiToken, User } from './entities';

export const MAX_TOKEN_DAYS = 365;
const TOKEN_SHAPE = /^cus_(tok_[0-9a-f]{20})_([\w-]{43})$/;

export interface NewToken {
  name: string;
  scopes: Scope[];
  expiresInDays: number;
}

export class TokenInputError extends Error {}

export function checkNewToken(input: NewToken): void {
  if (!/^[\w .-]{1,100}$/.test(input.name)) throw new TokenInputError('A token name is 1–100 letters, digits, spaces, dots or dashes');
  if (input.scopes.length === 0 || input.scopes.some((s) => !SCOPES.includes(s))) {
    throw new TokenInputError(`Scopes must be a non-empty subset of ${SCOPES.join(', ')}`);
  }
  if (!Number.isInteger(input.expiresInDays) || input.expiresInDays < 1 || input.expiresInDays > MAX_TOKEN_DAYS) {
    throw new TokenInputError(`expiresInDays must be a whole number from 1 to ${MAX_TOKEN_DAYS}`);
  }
}

export async function createApiToken(db: DataSource, userId: string, input: NewToken, now = new Date()): Promise<{ token: string; record: ApiToken }> {
  checkNewToken(input);
  const repo = db.getRepository(ApiToken);
  if (await repo.findOneBy({ userId, name: input.name })) throw new TokenInputError(`You already have a token named ${JSON.stringify(input.name)}`);
  const id = newId('tok');
  const secret = randomToken();
  const record: ApiToken = {
    id,
    userId,
    name: input.name,
    scopes: [...new Set(input.scopes)].sort().join(','),
    secretHash: sha256(secret),
    createdAt: now,
    expiresAt: new Date(now.getTime() + input.expiresInDays * 86_400_000),
    revokedAt: null,
    lastUsedAt: null,
  };
  await serialized(db, () =>
    db.transaction(async (tx) => {
      await tx.getRepository(ApiToken).insert(record);
      await appendToOutbox(tx, [{ kind: 'apitoken.created', payload: { subject: userId, tokenId: id, scopes: record.scopes, validUntil: record.expiresAt.toISOString() } }], now);
    }),
  );
  return { token: `cus_${id}_${secret}`, record };
}

export function listApiTokens(db: DataSource, userId: string): Promise<ApiToken[]> {
  return db.getRepository(ApiToken).find({ where: { userId }, order: { createdAt: 'DESC' } });
}

export async function revokeApiToken(db: DataSource, userId: string, id: string, now = new Date()): Promise<ApiToken | null> {
  const repo = db.getRepository(ApiToken);
  const token = await repo.findOneBy({ id, userId });
  if (!token) return null;
  if (!token.revokedAt) {
    token.revokedAt = now;
    await serialized(db, () =>
      db.transaction(async (tx) => {
        await tx.getRepository(ApiToken).update({ id }, { revokedAt: now });
        await appendToOutbox(tx, [{ kind: 'apitoken.revoked', payload: { subject: userId, tokenId: id } }], now);
      }),
    );
  }
  return token;
}

export function looksLikeApiToken(bearer: string): boolean {
  return bearer.startsWith('cus_');
}

export async function verifyApiToken(db: DataSource, bearer: string, now = new Date()): Promise<{ user: User; token: ApiToken; scopes: Scope[] }> {
  const match = TOKEN_SHAPE.exec(bearer);
  if (!match) throw new AuthError(401, 'INVALID_TOKEN', 'The API token is malformed');
  const token = await db.getRepository(ApiToken).findOneBy({ id: match[1]! });
  if (!token || !safeEqual(token.secretHash, sha256(match[2]!))) throw new AuthError(401, 'INVALID_TOKEN', 'The API token is not valid');
  if (token.revokedAt) throw new AuthError(401, 'TOKEN_REVOKED', 'The API token has been revoked');
  if (token.expiresAt <= now) throw new AuthError(401, 'TOKEN_EXPIRED', 'The API token has expired');
  const user = await db.getRepository(User).findOneBy({ id: token.userId });
  if (!user) throw new AuthError(401, 'INVALID_TOKEN', 'The API token is not valid');
  // Best effort, and at most once a minute per token: not worth a write per request.
  if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > 60_000) {
    void db.getRepository(ApiToken).update({ id: token.id }, { lastUsedAt: now }).catch(() => undefined);
  }
  return { user, token, scopes: token.scopes.split(',') as Scope[] };
}
