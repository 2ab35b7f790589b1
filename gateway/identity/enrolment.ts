/**
 * Nobody registers themselves into a role: an operator (or an admin) issues a one-time
 * enrolment code bound to a role and, where it applies, to a patient record or an
 * institution. Registering a first passkey consumes it; it expires after a few days.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import type { Role } from '../../common/signed-identity';
import { humanCode, normaliseHumanCode, sha256 } from '../../common/secrets';
import { AuthError } from './errors';
import { EnrolmentCode } from './entities';

export const DEFAULT_CODE_TTL_HOURS = 72;

export interface InviteInput {
  role: Role;
  patientId?: string | null;
  institutionId?: string | null;
  practitionerId?: string | null;
  ttlHours?: number;
}

/** What each role must be bound to. */
export function checkInvite(input: InviteInput): void {
  if (input.role === 'patient' && !input.patientId) throw new Error('a patient invite needs --patient <id>');
  if (input.role !== 'patient' && input.patientId) throw new Error('only a patient invite takes --patient');
  if ((input.role === 'clinician' || input.role === 'researcher' || input.role === 'compliance') && !input.institutionId) {
    throw new Error(`a ${input.role} invite needs --institution <id>`);
  }
  // A researcher sees data only through the projects their practitioner record works on:
  // without one, the account would see nothing anywhere.
  if (input.role === 'researcher' && !input.practitionerId) {
    throw new Error('a researcher invite needs --practitioner <id> (the practitioner record that works on research projects)');
  }
}

export async function createInvite(db: DataSource, input: InviteInput, now = new Date()): Promise<{ code: string; expiresAt: Date }> {
  checkInvite(input);
  const code = humanCode();
  const expiresAt = new Date(now.getTime() + (input.ttlHours ?? DEFAULT_CODE_TTL_HOURS) * 3_600_000);
  await db.getRepository(EnrolmentCode).insert({
    codeHash: sha256(code),
    role: input.role,
    institutionId: input.institutionId ?? null,
    patientId: input.patientId ?? null,
    practitionerId: input.practitionerId ?? null,
    expiresAt,
    usedAt: null,
    usedBy: null,
  });
  return { code, expiresAt };
}

/** The unused, unexpired invite behind a typed code, or a 4xx saying why not. */
export async function openInvite(db: DataSource | EntityManager, typed: unknown, now = new Date()): Promise<EnrolmentCode> {
  if (typeof typed !== 'string' || typed.length > 64) throw new AuthError(400, 'INVALID_CODE', 'An enrolment code is required');
  const invite = await db.getRepository(EnrolmentCode).findOneBy({ codeHash: sha256(normaliseHumanCode(typed)) });
  if (!invite) throw new AuthError(401, 'UNKNOWN_CODE', 'This enrolment code is not valid');
  if (invite.usedAt) throw new AuthError(410, 'CODE_USED', 'This enrolment code has already been used');
  if (invite.expiresAt <= now) throw new AuthError(410, 'CODE_EXPIRED', 'This enrolment code has expired');
  return invite;
}

/**
 * Marks the invite used, atomically: of two registrations racing for one code, one wins.
 * Re-checks expiry, since a code can expire between the options and the verification.
 */
export async function consumeInvite(tx: EntityManager, codeHash: string, userId: string, now = new Date()): Promise<EnrolmentCode> {
  const repo = tx.getRepository(EnrolmentCode);
  const invite = await repo.findOneBy({ codeHash });
  if (!invite || invite.expiresAt <= now) throw new AuthError(410, 'CODE_EXPIRED', 'This enrolment code has expired');
  const result = await repo.update({ codeHash, usedAt: IsNull() }, { usedAt: now, usedBy: userId });
  if (!result.affected) throw new AuthError(410, 'CODE_USED', 'This enrolment code has already been used');
  return invite;
}
