/**
 * API token scopes, enforced once per operation at the gateway: `read` for queries,
 * `write` for mutations, and `ingest` for nothing but `ingestReadings` (what a device
 * bridge needs, and no more). Passkey sessions hold every scope.
 */
import { Kind, type GraphQLError, type OperationDefinitionNode } from 'graphql';
import { userError } from '../../common/errors';
import type { Scope } from '../../common/signed-identity';
import type { Principal } from '../identity/authenticate';

const INGEST_ONLY = new Set(['ingestReadings', '__typename']);

export function requiredScope(operation: OperationDefinitionNode): Scope {
  if (operation.operation === 'query') return 'read';
  const fields = operation.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : '*'));
  return fields.every((f) => INGEST_ONLY.has(f)) ? 'ingest' : 'write';
}

export function allows(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed) || (needed === 'ingest' && scopes.includes('write'));
}

/** The 403 for an operation the principal's token may not run; undefined when it may. */
export function scopeRefusal(operation: OperationDefinitionNode, principal: Principal): GraphQLError | undefined {
  const needed = requiredScope(operation);
  if (allows(principal.scopes, needed)) return undefined;
  return userError('FORBIDDEN', `This token lacks the "${needed}" scope`, { http: { status: 403 } });
}
