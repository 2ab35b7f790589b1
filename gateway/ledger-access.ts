/**
 * Who may read ledger entries: the compliance role, whether one at a time
 * (GET /ledger/entries/I) or in entry bundles (GET /ledger/tile/entries/N). One rule,
 * so the two paths to the same bytes can never disagree.
 */
import type { Request } from 'express';
import type { DataSource } from 'typeorm';
import type { VerifyWith } from '../common/keysets';
import { authenticate } from './identity/authenticate';
import { AuthError } from './identity/errors';

/** Throws AuthError (401 without valid credentials, 403 for any other role). */
export async function requireCompliance(identityDb: DataSource, req: Request, sessionKey: VerifyWith): Promise<void> {
  const principal = await authenticate(identityDb, req.header('authorization'), sessionKey);
  if (principal.user.role !== 'compliance') throw new AuthError(403, 'FORBIDDEN', 'Ledger entries are for the compliance role');
}
