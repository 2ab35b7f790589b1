/**
 * Registration: `register/options` and `register/verify`. A first passkey needs an
 * enrolment code and creates the account; signed in with a passkey session and no code,
 * one adds another passkey to one's own account. The challenge is stored with what the
 * registration will do (the code, the user id) and burnt before verification.
 */
import type { Request } from 'express';
import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type RegistrationResponseJSON,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { z } from 'zod';
import { serialized } from '../../../common/database';
import { newId } from '../../../common/ids';
import type { OutboxEventInput } from '../../../ledger/core/events';
import { appendToOutbox } from '../../../ledger/pipeline/outbox';
import { authenticate } from '../authenticate';
import { CHALLENGE_TTL_MS, pruneChallenges } from '../challenges';
import { consumeInvite, openInvite } from '../enrolment';
import { Challenge, Passkey, User, type ChallengePurpose } from '../entities';
import { AuthError } from '../errors';
import { checkUsername, createUser, findUser } from '../users';
import type { RouteContext, RouteHandler } from './context';
import { challengeOf, credentialJson, failed, parse, transportsOf } from './request';

const RegisterOptions = z.object({ code: z.string().max(64).optional(), username: z.string(), passkeyName: z.string().max(100).optional() });
const Verify = z.object({ username: z.string(), response: credentialJson });

/** Whose passkey this will be: a new account's (with an invite), or the signed-in user's own. */
interface Registrant {
  userId: string;
  /** The invite to consume on verify; null when adding a passkey to an existing account. */
  codeHash: string | null;
  /** The account's passkeys, which the authenticator should not register twice. */
  exclude: Passkey[];
}

async function invitedRegistrant(db: DataSource, code: string, username: string): Promise<Registrant> {
  const invite = await openInvite(db, code);
  if (await findUser(db, username)) throw new AuthError(409, 'USERNAME_TAKEN', 'This username is taken');
  return { userId: newId('usr'), codeHash: invite.codeHash, exclude: [] };
}

/** Another passkey for someone already signed in — with a passkey, not an API token. */
async function signedInRegistrant(ctx: RouteContext, req: Request, username: string): Promise<Registrant> {
  const principal = await authenticate(ctx.db, req.header('authorization'), ctx.sessionKey).catch(() => {
    throw new AuthError(401, 'CODE_REQUIRED', 'An enrolment code is required (or sign in to add a passkey)');
  });
  if (principal.via !== 'session' || principal.user.username !== username) {
    throw new AuthError(403, 'NOT_YOURS', 'You can add passkeys only to your own account, signed in with a passkey');
  }
  const userId = principal.user.id;
  return { userId, codeHash: null, exclude: await ctx.db.getRepository(Passkey).findBy({ userId }) };
}

async function saveChallenge(db: DataSource, row: Omit<Challenge, 'expiresAt' | 'usedAt'>, now = new Date()): Promise<void> {
  await pruneChallenges(db, now);
  await db.getRepository(Challenge).insert({ ...row, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS), usedAt: null });
}

/** The stored registration challenge a response answers, burnt before use. */
async function takeChallenge(db: DataSource, clientDataJSON: string, username: string, purpose: ChallengePurpose, now = new Date()): Promise<Challenge> {
  const challenge = challengeOf(clientDataJSON);
  const repo = db.getRepository(Challenge);
  const row = await repo.findOneBy({ challenge });
  if (!row || row.username !== username || row.purpose !== purpose) {
    throw new AuthError(401, 'UNKNOWN_CHALLENGE', 'This response does not answer a challenge we issued to this user');
  }
  const burnt = await repo.update({ challenge, usedAt: IsNull() }, { usedAt: now });
  if (!burnt.affected) throw new AuthError(401, 'CHALLENGE_USED', 'This challenge was already answered (replay)');
  if (row.expiresAt <= now) throw new AuthError(401, 'CHALLENGE_EXPIRED', 'This challenge has expired; ask for new options');
  return row;
}

export const registrationOptions: RouteHandler = async (ctx, req, res) => {
  const body = parse(RegisterOptions, req.body);
  const username = checkUsername(body.username);
  const { userId, codeHash, exclude } = body.code
    ? await invitedRegistrant(ctx.db, body.code, username)
    : await signedInRegistrant(ctx, req, username);
  const options = await generateRegistrationOptions({
    rpName: ctx.config.rpName,
    rpID: ctx.config.rpId,
    userName: username,
    userID: new TextEncoder().encode(userId),
    attestationType: 'none',
    excludeCredentials: exclude.map((p) => ({ id: p.id, transports: transportsOf(p) })),
    // Discoverable, so that sign-in needs no username (see login/options).
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    timeout: CHALLENGE_TTL_MS,
  });
  await saveChallenge(ctx.db, { challenge: options.challenge, username, purpose: 'register', codeHash, userId });
  res.json(options);
};

export const registrationVerify: RouteHandler = async (ctx, req, res) => {
  const { db, config } = ctx;
  const body = parse(Verify, req.body);
  const username = checkUsername(body.username);
  const response = body.response as unknown as RegistrationResponseJSON;
  const challenge = await takeChallenge(db, body.response.response.clientDataJSON, username, 'register');
  const verification = await verifyRegistrationResponse({
    response,
    expectedChallenge: challenge.challenge,
    expectedOrigin: config.origins,
    expectedRPID: config.rpId,
    requireUserVerification: false,
  }).catch((err: unknown) => {
    throw failed(err);
  });
  if (!verification.verified) throw new AuthError(401, 'VERIFICATION_FAILED', 'The passkey could not be verified');
  const { credential } = verification.registrationInfo;
  const passkeyName = z.object({ passkeyName: z.string().max(100).optional() }).safeParse(req.body).data?.passkeyName;

  const user = await serialized(db, () => db.transaction((tx) => storePasskey(tx, challenge, username, credential, passkeyName)));
  ctx.log.info({ userId: user.id, passkey: credential.id }, 'passkey registered');
  res.status(201).json({ verified: true, username: user.username, role: user.role, passkeyId: credential.id });
};

/**
 * In one transaction: the account (created from the invite, which is consumed, or the
 * signed-in user's), the passkey, and the ledger events saying so. Returns the owner.
 */
async function storePasskey(tx: EntityManager, challenge: Challenge, username: string, credential: WebAuthnCredential, passkeyName: string | undefined): Promise<User> {
  if (await tx.getRepository(Passkey).findOneBy({ id: credential.id })) {
    throw new AuthError(409, 'PASSKEY_EXISTS', 'This passkey is already registered');
  }
  let owner: User | null;
  if (challenge.codeHash) {
    if (await findUser(tx, username)) throw new AuthError(409, 'USERNAME_TAKEN', 'This username is taken');
    const invite = await consumeInvite(tx, challenge.codeHash, challenge.userId!);
    owner = await createUser(tx, {
      id: challenge.userId!,
      username,
      role: invite.role,
      institutionId: invite.institutionId,
      patientId: invite.patientId,
      practitionerId: invite.practitionerId,
    });
  } else {
    owner = await tx.getRepository(User).findOneBy({ id: challenge.userId! });
    if (!owner) throw new AuthError(401, 'UNKNOWN_USER', 'This account no longer exists');
  }
  await tx.getRepository(Passkey).insert({
    id: credential.id,
    userId: owner.id,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    transports: JSON.stringify(credential.transports ?? []),
    name: passkeyName || `Passkey ${new Date().toISOString().slice(0, 10)}`,
    createdAt: new Date(),
    lastUsedAt: null,
  });
  await appendToOutbox(tx, [
    ...(challenge.codeHash
      ? [{ kind: 'user.enrolled', payload: { subject: owner.id, role: owner.role, institutionId: owner.institutionId, patientId: owner.patientId, practitionerId: owner.practitionerId } } satisfies OutboxEventInput]
      : []),
    { kind: 'passkey.registered', payload: { subject: owner.id, passkeyId: credential.id } },
  ]);
  return owner;
}
