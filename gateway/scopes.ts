/**
 * API token scopes, enforced once per operation at the gateway: `read` for queries,
 * `write` for mutations, and `ingest` for nothing but `ingestReadings` (what a device
 * bridge needs, and no more). Passkey sessions hold every scope.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { userError } from '../common/errors';
import type { Scope } from '../common/signed-identity';
import type { GatewayContext } from './context';

const INGEST_ONLY = new Set(['ingestReadings', '__typename']);

export function requiredScope(operation: OperationDefinitionNode): Scope {
  if (operation.operation === 'query') return 'read';
  const fields = operation.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : '*'));
  return fields.every((f) => INGEST_ONLY.has(f)) ? 'ingest' : 'write';
}

export function allows(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed) || (needed === 'ingest' && scopes.includes('write'));
}

export const scopePlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation, contextValue }) {
        if (!operation) return;
        const needed = requiredScope(operation);
        if (!allows(contextValue.principal.scopes, needed)) {
          throw userError('FORBIDDEN', `This token lacks the "${needed}" scope`, { http: { status: 403 } });
        }
      },
    };
  },
};
