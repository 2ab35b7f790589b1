/**
 * A subgraph answers only the gateway. Every GraphQL request must carry the identity
 * token the gateway signed for exactly this operation (see common/signed-identity.ts); anything
 * else — no token, an expired one, one signed by another key, one minted for a different
 * query — is refused with a 401 before a resolver runs. The key is picked from the set
 * by the token's kid; an unknown kid reads the set again once before the refusal.
 */
import type { NextFunction, Request, Response } from 'express';
import type { VerifyWith } from '../../common/keysets';
import { IdentityError, operationDigest, verifyIdentity, type Identity } from '../../common/signed-identity';

declare module 'express-serve-static-core' {
  interface Request {
    identity?: Identity;
  }
}

function refuse(res: Response, message: string): void {
  res
    .status(401)
    .set('www-authenticate', 'Bearer realm="custodian-subgraph"')
    .json({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
}

export function trustGatewayOnly(key: VerifyWith) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const header = req.header('authorization') ?? '';
    const token = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(header)?.[1];
    if (!token) return refuse(res, 'This service answers only the Custodian gateway: identity token missing');
    const body = req.body as { query?: unknown; variables?: unknown } | undefined;
    if (req.method !== 'POST' || !body || typeof body.query !== 'string') {
      return refuse(res, 'Only POST requests with a GraphQL query are accepted');
    }
    try {
      req.identity = await verifyIdentity(token, key, operationDigest(body.query, body.variables));
      next();
    } catch (err) {
      refuse(res, err instanceof IdentityError ? err.message : 'identity token invalid');
    }
  };
}
