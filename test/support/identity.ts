import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { operationDigest, signIdentity, type Identity } from '../../common/signed-identity';

/** A key pair standing in for the gateway's identity key in tests that call subgraphs directly. */
export function gatewayKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

export const ADMIN: Identity = {
  subject: 'usr_test_admin',
  role: 'admin',
  institutionId: null,
  patientId: null,
  practitionerId: null,
  purpose: 'OPERATIONS',
  scopes: ['read', 'write', 'ingest'],
  requestId: 'test-request',
};

/** A clinician every seeded patient trusts in tests (see `trustEveryone`): sees all, for TREATMENT. */
export const TRUSTED_CLINICIAN: Identity = {
  subject: 'usr_test_clinician',
  role: 'clinician',
  institutionId: null,
  patientId: null,
  practitionerId: 'prac_test_trusted',
  purpose: 'TREATMENT',
  scopes: ['read', 'write', 'ingest'],
  requestId: 'test-request',
};

export async function identityHeader(key: KeyObject, query: string, variables?: Record<string, unknown>, identity: Identity = TRUSTED_CLINICIAN) {
  return { authorization: `Bearer ${await signIdentity(identity, operationDigest(query, variables), key)}` };
}
