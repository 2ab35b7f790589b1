/**
 * The session routes beside the ceremonies: `refresh` rotates a refresh token into a new
 * pair, `logout` revokes the session of the access token presented (../sessions.ts).
 */
import { z } from 'zod';
import { authenticate } from '../authenticate';
import { AuthError } from '../errors';
import { endSession, refreshSession } from '../sessions';
import type { RouteHandler } from './context';
import { parse } from './request';

const Refresh = z.object({ refreshToken: z.string() });

export const refresh: RouteHandler = async (ctx, req, res) => {
  res.json(await refreshSession(ctx.db, parse(Refresh, req.body).refreshToken, ctx.sessionKey));
};

export const signOut: RouteHandler = async (ctx, req, res) => {
  const principal = await authenticate(ctx.db, req.header('authorization'), ctx.sessionKey);
  if (principal.via !== 'session') throw new AuthError(400, 'NOT_A_SESSION', 'Sign-out ends a session; revoke API tokens instead');
  await endSession(ctx.db, principal.sessionId!);
  res.status(204).end();
};
