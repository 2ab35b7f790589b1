/**
 * Reading a ceremony request: body schemas that refuse with the same 400 everywhere, the
 * credential JSON every verify step receives, the challenge a response answers, and the
 * refusal a failed verification becomes.
 */
import type { AuthenticatorTransport } from '@simplewebauthn/server';
import { z } from 'zod';
import type { Passkey } from '../entities';
import { AuthError } from '../errors';

/** A SimpleWebAuthn response JSON, bounded in size; its own fields are checked by SimpleWebAuthn. */
export const credentialJson = z
  .object({
    id: z.string().min(1).max(1400),
    rawId: z.string().min(1).max(1400),
    type: z.literal('public-key'),
    response: z.looseObject({ clientDataJSON: z.string().min(1).max(10_000) }),
    clientExtensionResults: z.looseObject({}).optional().default({}),
  })
  .loose();

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new AuthError(400, 'INVALID_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}

/** The challenge a response answers, from its clientDataJSON. */
export function challengeOf(clientDataJSON: string): string {
  let challenge: unknown;
  try {
    challenge = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')).challenge;
  } catch {
    throw new AuthError(400, 'INVALID_REQUEST', 'response.clientDataJSON is not base64url JSON');
  }
  if (typeof challenge !== 'string' || challenge.length > 128) throw new AuthError(400, 'INVALID_REQUEST', 'response has no challenge');
  return challenge;
}

export function failed(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  // SimpleWebAuthn explains precisely what did not match (origin, RP id, signature,
  // counter...). Those sentences are about the request, not about our secrets.
  return new AuthError(401, 'VERIFICATION_FAILED', err instanceof Error ? err.message : 'verification failed');
}

export const transportsOf = (p: Passkey) => JSON.parse(p.transports) as AuthenticatorTransport[];
