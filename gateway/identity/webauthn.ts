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
 */
import type { KeyObject } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { DataSource } from 'typeorm';
import { IsNull } from 'typeorm';
import { z } from 'zod';
import { serialized } from '../../common/database';
import type { OutboxEventInput } from '../../ledger/core/events';
import { appendToOutbox } from '../../ledger/pipeline/outbox';
import { httpErrors, jsonBody } from '../../common/http-errors';
import { newId } from '../../common/ids';
import type { Logger } from '../../common/logger';
import { authenticate } from './authenticate';
import { consumeInvite, openInvite } from './enrolment';
import { CHALLENGE_TTL_MS, pruneChallenges, SignInChallenges } from './challenges';
import { Challenge, Passkey, User, type ChallengePurpose } from './entities';
import { AuthError } from './errors';
import { endSession, refreshSession, startSession } from './sessions';
import { checkUsername, createUser, findUser } from './users';

export { CHALLENGE_TTL_MS };

export interface WebAuthnConfig {
  rpId: string;
  rpName: string;
  origin: string;
}

const credentialJson = z
  .object({
    id: z.string().min(1).max(1400),
    rawId: z.string().min(1).max(1400),
    type: z.literal('public-key'),
    response: z.looseObject({ clientDataJSON: z.string().min(1).max(10_000) }),
    clientExtensionResults: z.looseObject({}).optional().default({}),
  })
  .loose();

const RegisterOptions = z.object({ code: z.string().max(64).optional(), username: z.string(), passkeyName: z.string().max(100).optional() });
const Verify = z.object({ username: z.string(), response: credentialJson });
/** The username is optional: the passkey says who it is (the username form serves older passkeys). */
const LoginOptions = z.object({ username: z.string().max(64).optional() }).optional();
const LoginVerify = z.object({ username: z.string().max(64).optional(), response: credentialJson });
const Refresh = z.object({ refreshToken: z.string() });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new AuthError(400, 'INVALID_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}

/** The challenge a response answers, from its clientDataJSON. */
function challengeOf(clientDataJSON: string): string {
  let challenge: unknown;
  try {
    challenge = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')).challenge;
  } catch {
    throw new AuthError(400, 'INVALID_REQUEST', 'response.clientDataJSON is not base64url JSON');
  }
  if (typeof challenge !== 'string' || challenge.length > 128) throw new AuthError(400, 'INVALID_REQUEST', 'response has no challenge');
  return challenge;
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

async function saveChallenge(db: DataSource, row: Omit<Challenge, 'expiresAt' | 'usedAt'>, now = new Date()): Promise<void> {
  await pruneChallenges(db, now);
  await db.getRepository(Challenge).insert({ ...row, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS), usedAt: null });
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

/** The user id a discoverable credential carries (the userID we gave it at registration). */
function userIdFromHandle(userHandle: unknown): string | null {
  if (typeof userHandle !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(userHandle)) return null;
  const id = Buffer.from(userHandle, 'base64url').toString('utf8');
  return /^[\w-]{1,40}$/.test(id) ? id : null;
}

function failed(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  // SimpleWebAuthn explains precisely what did not match (origin, RP id, signature,
  // counter...). Those sentences are about the request, not about our secrets.
  return new AuthError(401, 'VERIFICATION_FAILED', err instanceof Error ? err.message : 'verification failed');
}

const transportsOf = (p: Passkey) => JSON.parse(p.transports) as AuthenticatorTransport[];

export function webauthnRoutes(db: DataSource, sessionKey: KeyObject, config: WebAuthnConfig, log: Logger): Router {
  const router = express.Router();
  const signInChallenges = new SignInChallenges(sessionKey);

  /** The username form: one statement whether or not the account exists, then real ids or decoys. */
  async function credentialsToOffer(username: string): Promise<{ id: string; transports?: AuthenticatorTransport[] }[]> {
    const passkeys = await db
      .getRepository(Passkey)
      .createQueryBuilder('k')
      .innerJoin(User, 'u', 'u.id = k.user_id')
      .where('u.username = :username', { username })
      .orderBy('k.created_at', 'ASC')
      .getMany();
    if (passkeys.length) return passkeys.map((p) => ({ id: p.id, transports: transportsOf(p) }));
    return signInChallenges.decoyCredentialIds(username).map((id) => ({ id, transports: ['internal', 'hybrid'] }));
  }
  router.use(jsonBody(64 * 1024));
  const route = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) =>
    fn(req, res).catch(next);

  router.post(
    '/webauthn/register/options',
    route(async (req, res) => {
      const body = parse(RegisterOptions, req.body);
      const username = checkUsername(body.username);
      let userId: string;
      let codeHash: string | null = null;
      let exclude: Passkey[] = [];
      if (body.code) {
        const invite = await openInvite(db, body.code);
        if (await findUser(db, username)) throw new AuthError(409, 'USERNAME_TAKEN', 'This username is taken');
        userId = newId('usr');
        codeHash = invite.codeHash;
      } else {
        // Another passkey for someone already signed in — with a passkey, not an API token.
        const principal = await authenticate(db, req.header('authorization'), sessionKey).catch(() => {
          throw new AuthError(401, 'CODE_REQUIRED', 'An enrolment code is required (or sign in to add a passkey)');
        });
        if (principal.via !== 'session' || principal.user.username !== username) {
          throw new AuthError(403, 'NOT_YOURS', 'You can add passkeys only to your own account, signed in with a passkey');
        }
        userId = principal.user.id;
        exclude = await db.getRepository(Passkey).findBy({ userId });
      }
      const options = await generateRegistrationOptions({
        rpName: config.rpName,
        rpID: config.rpId,
        userName: username,
        userID: new TextEncoder().encode(userId),
        attestationType: 'none',
        excludeCredentials: exclude.map((p) => ({ id: p.id, transports: transportsOf(p) })),
        // Discoverable, so that sign-in needs no username (see login/options).
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
        timeout: CHALLENGE_TTL_MS,
      });
      await saveChallenge(db, { challenge: options.challenge, username, purpose: 'register', codeHash, userId });
      res.json(options);
    }),
  );

  router.post(
    '/webauthn/register/verify',
    route(async (req, res) => {
      const body = parse(Verify, req.body);
      const username = checkUsername(body.username);
      const response = body.response as unknown as RegistrationResponseJSON;
      const challenge = await takeChallenge(db, body.response.response.clientDataJSON, username, 'register');
      const verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge.challenge,
        expectedOrigin: config.origin,
        expectedRPID: config.rpId,
        requireUserVerification: false,
      }).catch((err: unknown) => {
        throw failed(err);
      });
      if (!verification.verified) throw new AuthError(401, 'VERIFICATION_FAILED', 'The passkey could not be verified');
      const { credential } = verification.registrationInfo;
      const passkeyName = z.object({ passkeyName: z.string().max(100).optional() }).safeParse(req.body).data?.passkeyName;

      const user = await serialized(db, () => db.transaction(async (tx) => {
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
      }));
      log.info({ userId: user.id, passkey: credential.id }, 'passkey registered');
      res.status(201).json({ verified: true, username: user.username, role: user.role, passkeyId: credential.id });
    }),
  );

  router.post(
    '/webauthn/login/options',
    route(async (req, res) => {
      // Without a username: the same answer for everyone, no lookup, nothing stored; the
      // authenticator offers its discoverable credentials for this relying party. With
      // one: that account's credentials, or decoys shaped alike (see the header).
      const username = parse(LoginOptions, req.body)?.username;
      const allowCredentials = username === undefined ? [] : await credentialsToOffer(username);
      const options = await generateAuthenticationOptions({
        rpID: config.rpId,
        challenge: signInChallenges.issue(),
        allowCredentials,
        userVerification: 'preferred',
        timeout: CHALLENGE_TTL_MS,
      });
      res.json(options);
    }),
  );

  router.post(
    '/webauthn/login/verify',
    route(async (req, res) => {
      const body = parse(LoginVerify, req.body);
      const response = body.response as unknown as AuthenticationResponseJSON;
      const challenge = challengeOf(body.response.response.clientDataJSON);
      const issued = signInChallenges.check(challenge);
      if (issued.result === 'unknown') throw new AuthError(401, 'UNKNOWN_CHALLENGE', 'This response does not answer a challenge we issued');
      if (issued.result === 'expired') throw new AuthError(401, 'CHALLENGE_EXPIRED', 'This challenge has expired; ask for new options');
      if (await db.getRepository(Challenge).existsBy({ challenge })) throw new AuthError(401, 'CHALLENGE_USED', 'This challenge was already answered (replay)');
      // The account comes from the credential itself; a username sent along must agree.
      // A passkey made before sign-in was discoverable may carry no user handle: then the
      // username names the account, and the credential must be one of its own.
      const userId = userIdFromHandle(response.response.userHandle);
      const user = userId
        ? await db.getRepository(User).findOneBy({ id: userId })
        : body.username !== undefined
          ? await db.getRepository(User).findOneBy({ username: body.username })
          : null;
      const passkey = user ? await db.getRepository(Passkey).findOneBy({ id: response.id, userId: user.id }) : null;
      if (!user || !passkey || (body.username !== undefined && body.username !== user.username)) {
        throw new AuthError(401, 'UNKNOWN_CREDENTIAL', 'This passkey is not registered here (for this user)');
      }
      const verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: config.origin,
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
      await burnSignInChallenge(db, challenge, user, issued.expiresAt!);
      const { newCounter } = verification.authenticationInfo;
      // Compare-and-set, so two concurrent sign-ins with one counter value cannot both pass.
      const moved = await db
        .getRepository(Passkey)
        .update({ id: passkey.id, counter: passkey.counter }, { counter: newCounter, lastUsedAt: new Date() });
      if (!moved.affected) throw new AuthError(401, 'COUNTER_REPLAYED', 'The signature counter was already used');
      res.json({ ...(await startSession(db, user, sessionKey)), username: user.username });
    }),
  );

  router.post(
    '/refresh',
    route(async (req, res) => {
      res.json(await refreshSession(db, parse(Refresh, req.body).refreshToken, sessionKey));
    }),
  );

  router.post(
    '/logout',
    route(async (req, res) => {
      const principal = await authenticate(db, req.header('authorization'), sessionKey);
      if (principal.via !== 'session') throw new AuthError(400, 'NOT_A_SESSION', 'Sign-out ends a session; revoke API tokens instead');
      await endSession(db, principal.sessionId!);
      res.status(204).end();
    }),
  );

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof AuthError) {
      res.status(err.status).json({ error: { code: err.code, message: err.message } });
      return;
    }
    if ((err as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'INVALID_REQUEST', message: 'The body is not valid JSON' } });
      return;
    }
    // Bodies over the limit (413) and anything unexpected (500, logged): as on every listener.
    next(err);
  });
  router.use(httpErrors('plain', log));
  return router;
}
