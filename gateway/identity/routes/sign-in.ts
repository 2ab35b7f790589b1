/**
 * Sign-in: `login/options` and `login/verify`, with discoverable credentials. Options
 * cost the same for every caller and store nothing (../challenges.ts); the account is
 * found from the credential's user handle, or — for passkeys made before sign-in was
 * discoverable — from the username sent along. A challenge is burnt once its response
 * has verified, and the signature counter must move forward.
 */
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
} from '@simplewebauthn/server';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { CHALLENGE_TTL_MS, pruneChallenges } from '../challenges';
import { Challenge, Passkey, User } from '../entities';
import { AuthError } from '../errors';
import { startSession } from '../sessions';
import type { RouteContext, RouteHandler } from './context';
import { challengeOf, credentialJson, failed, parse, transportsOf } from './request';

/** The username is optional: the passkey says who it is (the username form serves older passkeys). */
const LoginOptions = z.object({ username: z.string().max(64).optional() }).optional();
const LoginVerify = z.object({ username: z.string().max(64).optional(), response: credentialJson });

/** The username form: one statement whether or not the account exists, then real ids or decoys. */
async function credentialsToOffer(ctx: RouteContext, username: string): Promise<{ id: string; transports?: AuthenticatorTransport[] }[]> {
  const passkeys = await ctx.db
    .getRepository(Passkey)
    .createQueryBuilder('k')
    .innerJoin(User, 'u', 'u.id = k.user_id')
    .where('u.username = :username', { username })
    .orderBy('k.created_at', 'ASC')
    .getMany();
  if (passkeys.length) return passkeys.map((p) => ({ id: p.id, transports: transportsOf(p) }));
  return ctx.signInChallenges.decoyCredentialIds(username).map((id) => ({ id, transports: ['internal', 'hybrid'] }));
}

export const signInOptions: RouteHandler = async (ctx, req, res) => {
  // Without a username: the same answer for everyone, no lookup, nothing stored; the
  // authenticator offers its discoverable credentials for this relying party. With
  // one: that account's credentials, or decoys shaped alike (see ../webauthn.ts).
  const username = parse(LoginOptions, req.body)?.username;
  const allowCredentials = username === undefined ? [] : await credentialsToOffer(ctx, username);
  const options = await generateAuthenticationOptions({
    rpID: ctx.config.rpId,
    challenge: ctx.signInChallenges.issue(),
    allowCredentials,
    userVerification: 'preferred',
    timeout: CHALLENGE_TTL_MS,
  });
  res.json(options);
};

/** A challenge we issued, unexpired and not yet answered; returns when it expires. */
async function checkSignInChallenge(ctx: RouteContext, challenge: string): Promise<Date> {
  const issued = ctx.signInChallenges.check(challenge);
  if (issued.result === 'unknown') throw new AuthError(401, 'UNKNOWN_CHALLENGE', 'This response does not answer a challenge we issued');
  if (issued.result === 'expired') throw new AuthError(401, 'CHALLENGE_EXPIRED', 'This challenge has expired; ask for new options');
  if (await ctx.db.getRepository(Challenge).existsBy({ challenge })) throw new AuthError(401, 'CHALLENGE_USED', 'This challenge was already answered (replay)');
  return issued.expiresAt!;
}

/** The user id a discoverable credential carries (the userID we gave it at registration). */
function userIdFromHandle(userHandle: unknown): string | null {
  if (typeof userHandle !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(userHandle)) return null;
  const id = Buffer.from(userHandle, 'base64url').toString('utf8');
  return /^[\w-]{1,40}$/.test(id) ? id : null;
}

/**
 * The account and the passkey a response was signed with. The account comes from the
 * credential itself; a username sent along must agree. A passkey made before sign-in was
 * discoverable may carry no user handle: then the username names the account, and the
 * credential must be one of its own. Every mismatch is the same 401.
 */
async function signingPasskey(db: DataSource, response: AuthenticationResponseJSON, username: string | undefined): Promise<{ user: User; passkey: Passkey }> {
  const userId = userIdFromHandle(response.response.userHandle);
  const user = userId
    ? await db.getRepository(User).findOneBy({ id: userId })
    : username !== undefined
      ? await db.getRepository(User).findOneBy({ username })
      : null;
  const passkey = user ? await db.getRepository(Passkey).findOneBy({ id: response.id, userId: user.id }) : null;
  if (!user || !passkey || (username !== undefined && username !== user.username)) {
    throw new AuthError(401, 'UNKNOWN_CREDENTIAL', 'This passkey is not registered here (for this user)');
  }
  return { user, passkey };
}

/**
 * Burns a verified sign-in challenge: a row keyed by the challenge, kept until it would
 * have expired anyway. Two concurrent answers to one challenge: one insert wins.
 */
async function burnSignInChallenge(db: DataSource, challenge: string, user: User, expiresAt: Date, now = new Date()): Promise<void> {
  await pruneChallenges(db, now);
  try {
    await db.getRepository(Challenge).insert({ challenge, username: user.username, purpose: 'login', codeHash: null, userId: user.id, expiresAt, usedAt: now });
  } catch (err) {
    if (await db.getRepository(Challenge).existsBy({ challenge })) throw new AuthError(401, 'CHALLENGE_USED', 'This challenge was already answered (replay)');
    throw err;
  }
}

export const signInVerify: RouteHandler = async (ctx, req, res) => {
  const { db, config } = ctx;
  const body = parse(LoginVerify, req.body);
  const response = body.response as unknown as AuthenticationResponseJSON;
  const challenge = challengeOf(body.response.response.clientDataJSON);
  const expiresAt = await checkSignInChallenge(ctx, challenge);
  const { user, passkey } = await signingPasskey(db, response, body.username);
  const verification = await verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: config.origins,
    expectedRPID: config.rpId,
    credential: {
      id: passkey.id,
      publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')),
      counter: passkey.counter,
      transports: transportsOf(passkey),
    },
    requireUserVerification: false,
  }).catch((err: unknown) => {
    throw failed(err);
  });
  if (!verification.verified) throw new AuthError(401, 'VERIFICATION_FAILED', 'The signature could not be verified');
  await burnSignInChallenge(db, challenge, user, expiresAt);
  const { newCounter } = verification.authenticationInfo;
  // Compare-and-set, so two concurrent sign-ins with one counter value cannot both pass.
  const moved = await db
    .getRepository(Passkey)
    .update({ id: passkey.id, counter: passkey.counter }, { counter: newCounter, lastUsedAt: new Date() });
  if (!moved.affected) throw new AuthError(401, 'COUNTER_REPLAYED', 'The signature counter was already used');
  res.json({ ...(await startSession(db, user, ctx.sessionKey)), username: user.username });
};
