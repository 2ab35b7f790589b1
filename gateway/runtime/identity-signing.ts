/**
 * What the gateway adds to each subgraph request it sends for a user, whichever executor
 * sends it: an identity token signed for exactly that request's {query, variables}
 * (common/signed-identity.ts: a subgraph checks the digest against the body it received),
 * and the gateway's own request id.
 */
import type { SignWith } from '../../common/keysets';
import { operationDigest, signIdentity } from '../../common/signed-identity';
import type { GatewayContext } from './context';

export async function identityHeaders(
  context: Pick<GatewayContext, 'identity' | 'requestId'>,
  sent: { query?: string; variables?: unknown },
  identityKey: SignWith,
): Promise<{ authorization: string; 'x-request-id': string }> {
  const token = await signIdentity(context.identity, operationDigest(sent.query ?? '', sent.variables), identityKey);
  return { authorization: `Bearer ${token}`, 'x-request-id': context.requestId };
}
