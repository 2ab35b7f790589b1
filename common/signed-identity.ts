/**
 * The identity the gateway forwards to subgraphs: a short-lived Ed25519 JWT that says
 * who is asking (subject, role, institution, patient), why (purpose of use), with which
 * token scopes, for which request — and for which exact operation: the token carries a
 * digest of the canonical `{query, variables}`, so a token lifted from one subgraph
 * request cannot be replayed with another query.
 *
 * Subgraphs trust nothing else: a request without a valid identity token gets a 401.
 *
 * The token names its key (`kid`, common/keysets.ts): subgraphs hold a set of the
 * gateway's keys, so the gateway can move to a new key while tokens of the old one are
 * still in flight.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { SignJWT, errors as joseErrors, type JWTPayload } from 'jose';
import { signingKeyOf, UnknownKey, verifyWithKeySet, type SignWith, type VerifyWith } from './keysets';

import { ROLES, SCOPES, type Role, type Scope } from './roles';

export { ROLES, SCOPES, type Role, type Scope };

export const PURPOSES = ['TREATMENT', 'RESEARCH', 'EMERGENCY', 'OPERATIONS'] as const;
export type Purpose = (typeof PURPOSES)[number];


export interface Identity {
  /** User id. */
  subject: string;
  role: Role;
  institutionId: string | null;
  /** For role `patient`: the patient record this user is. */
  patientId: string | null;
  /** For staff roles: their practitioner record. */
  practitionerId: string | null;
  purpose: Purpose;
  scopes: Scope[];
  requestId: string;
}

const ISSUER = 'custodian-gateway';
const AUDIENCE = 'custodian-subgraph';
/** Long enough for one query plan to run; short enough to be useless when stolen. */
export const IDENTITY_TTL_SECONDS = 60;

export function operationDigest(query: string, variables: unknown): string {
  const canonical = canonicalize({ query, variables: variables ?? {} }) ?? '';
  return createHash('sha256').update(canonical).digest('base64url');
}

export async function signIdentity(identity: Identity, digest: string, keys: SignWith): Promise<string> {
  const { kid, privateKey } = signingKeyOf(keys);
  return new SignJWT({
    role: identity.role,
    inst: identity.institutionId,
    pat: identity.patientId,
    prac: identity.practitionerId,
    pur: identity.purpose,
    scp: identity.scopes,
    rid: identity.requestId,
    opd: digest,
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'custodian-identity+jwt', kid })
    .setSubject(identity.subject)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${IDENTITY_TTL_SECONDS}s`)
    .sign(privateKey);
}

export class IdentityError extends Error {}

/** Verifies a forwarded identity against the operation it came with. */
export async function verifyIdentity(token: string, keys: VerifyWith, digest: string): Promise<Identity> {
  let payload: JWTPayload;
  try {
    payload = await verifyWithKeySet(token, keys, {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'custodian-identity+jwt',
      maxTokenAge: `${IDENTITY_TTL_SECONDS + 5}s`,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new IdentityError('identity token expired');
    if (err instanceof UnknownKey) throw new IdentityError('identity token signed with an unknown key');
    throw new IdentityError('identity token invalid');
  }
  if (payload.opd !== digest) throw new IdentityError('identity token was issued for another operation');
  const role = payload.role as Role;
  const purpose = payload.pur as Purpose;
  if (!ROLES.includes(role) || !PURPOSES.includes(purpose)) throw new IdentityError('identity token invalid');
  return {
    subject: payload.sub!,
    role,
    institutionId: (payload.inst as string | null) ?? null,
    patientId: (payload.pat as string | null) ?? null,
    practitionerId: (payload.prac as string | null) ?? null,
    purpose,
    scopes: Array.isArray(payload.scp) ? (payload.scp as Scope[]) : [],
    requestId: String(payload.rid ?? ''),
  };
}
