/**
 * Purpose of use (HL7 PurposeOfUse, reduced): every request says why it wants data, in
 * the `X-Purpose-Of-Use` header, or gets its role's default. A role may only claim the
 * purposes that fit it: a researcher cannot claim TREATMENT, a patient cannot claim
 * EMERGENCY. The consent engine decides with the purpose; the ledger records it.
 */
import { PURPOSES, type Purpose, type Role } from '../../common/signed-identity';
import { AuthError } from '../identity/errors';

export const PURPOSE_HEADER = 'x-purpose-of-use';

export const DEFAULT_PURPOSE: Record<Role, Purpose> = {
  patient: 'TREATMENT',
  clinician: 'TREATMENT',
  researcher: 'RESEARCH',
  compliance: 'OPERATIONS',
  admin: 'OPERATIONS',
};

export const ALLOWED_PURPOSES: Record<Role, readonly Purpose[]> = {
  patient: ['TREATMENT'],
  clinician: ['TREATMENT', 'EMERGENCY', 'OPERATIONS'],
  researcher: ['RESEARCH'],
  compliance: ['OPERATIONS'],
  admin: ['OPERATIONS'],
};

export function resolvePurpose(role: Role, header: string | undefined): Purpose {
  if (header === undefined || header === '') return DEFAULT_PURPOSE[role];
  const purpose = header.trim().toUpperCase() as Purpose;
  if (!PURPOSES.includes(purpose)) {
    throw new AuthError(400, 'INVALID_PURPOSE', `X-Purpose-Of-Use must be one of ${PURPOSES.join(', ')}`);
  }
  if (!ALLOWED_PURPOSES[role].includes(purpose)) {
    throw new AuthError(403, 'PURPOSE_NOT_ALLOWED', `The ${role} role may not request data for ${purpose}`);
  }
  return purpose;
}
