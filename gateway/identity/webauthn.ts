/**
 * Passkey ceremonies (WebAuthn, via @simplewebauthn/server) at the paths of the public
 * contract. Options and responses are SimpleWebAuthn's JSON shapes.
 *
 *   POST /auth/webauthn/register/options {code, username}   first passkey, with an invite
 *        (or, signed in with a session and no code: another passkey for yourself)
 *   POST /auth/webauthn/register/verify  {username, response}
 *   POST /auth/webauthn/login/options    {username}
 *   POST /auth/webauthn/login/verify     {username, response} → {token, refreshToken, expiresIn}
 *   POST /auth/refresh                   {refreshToken}       → a new pair (rotation)
 *   POST /auth/logout                    Bearer access token  → 204, session revoked
 *
 * Every challenge is random, single-use and expires after five minutes; it is looked up
 * from the response's own clientDataJSON and burnt before verification, so a replayed
 * response finds it used. The signature counter must move forward.
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
import { appendToOutbox } from '../../ledger/outbox';
import { newId } from '../../common/ids';
import type { Logger } from '../../common/logger';
import { authenticate } from './authenticate';
import { consumeInvite, openInvite } from './enrolment';
import { Challenge, Passkey, User, type ChallengePurpose } from './entities';
import { AuthError } from './errors';
import { endSession, refreshSession, startSession } from './sessions';
import { checkUsername, createUser, findUser } from './users';

export const CHALLENGE_TTL_MS = 5 * 60_000;

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
const LoginOptions = z.object({ username: z.string() });
const Refresh = z.object({ refreshToken: z.string() });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new AuthError(400, 'INVALID_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}

/** The challenge a response answers, read from its clientDataJSON, burnt before use. */
async function takeChallenge(db: DataSource, clientDataJSON: string, username: string, purpose: ChallengePurpose, now = new Date()): Promise<Challenge> {
  let challenge: unknown;
  try {
    challenge = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')).challenge;
  } catch {
    throw new AuthError(400, 'INVALID_REQUEST', 'response.clientDataJSON is not base64url JSON');
  }
  if (typeof challenge !== 'string' || challenge.length > 128) throw new AuthError(400, 'INVALID_REQUEST', 'response has no challenge');
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
  await db.getRepository(Challenge).insert({ ...row, expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS), usedAt: null });
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
  router.use(express.json({ limit: '64kb' }));
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
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
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
            ? [{ kind: 'user.enrolled', payload: { subject: owner.id, role: owner.role, institutionId: owner.institutionId, patientId: owner.patientId, practitionerId: owner.practitionerId } }]
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
      const username = checkUsername(parse(LoginOptions, req.body).username);
      const user = await findUser(db, username);
      // An unknown username gets options too (that can never verify): the endpoint does
      // not tell strangers which usernames exist.
      const passkeys = user ? await db.getRepository(Passkey).findBy({ userId: user.id }) : [];
      const options = await generateAuthenticationOptions({
        rpID: config.rpId,
        allowCredentials: passkeys.map((p) => ({ id: p.id, transports: transportsOf(p) })),
        userVerification: 'preferred',
        timeout: CHALLENGE_TTL_MS,
      });
      await saveChallenge(db, { challenge: options.challenge, username, purpose: 'login', codeHash: null, userId: user?.id ?? null });
      res.json(options);
    }),
  );

  router.post(
    '/webauthn/login/verify',
    route(async (req, res) => {
      const body = parse(Verify, req.body);
      const username = checkUsername(body.username);
      const response = body.response as unknown as AuthenticationResponseJSON;
      const challenge = await takeChallenge(db, body.response.response.clientDataJSON, username, 'login');
      const user = await findUser(db, username);
      const passkey = user ? await db.getRepository(Passkey).findOneBy({ id: response.id, userId: user.id }) : null;
      if (!user || !passkey || challenge.userId !== user.id) {
        throw new AuthError(401, 'UNKNOWN_CREDENTIAL', 'This passkey is not registered for this user');
      }
      const verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge.challenge,
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
      const { newCounter } = verification.authenticationInfo;
      // Compare-and-set, so two concurrent sign-ins with one counter value cannot both pass.
      const moved = await db
        .getRepository(Passkey)
        .update({ id: passkey.id, counter: passkey.counter }, { counter: newCounter, lastUsedAt: new Date() });
      if (!moved.affected) throw new AuthError(401, 'COUNTER_REPLAYED', 'The signature counter was already used');
      res.json(await startSession(db, user, sessionKey));
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
    if (err instanceof SyntaxError) {
      res.status(400).json({ error: { code: 'INVALID_REQUEST', message: 'The body is not valid JSON' } });
      return;
    }
    log.error({ err }, 'sign-in endpoint failed');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'Internal error' } });
  });
  return router;
}
