import type { ResolverMap } from '../../common/resolver-map';
import { userError } from '../../common/errors';
import type { Scope } from '../../common/signed-identity';
import { DateTime } from '../../common/scalars';
import { serialized } from '../../common/database';
import { appendToOutbox } from '../../ledger/pipeline/outbox';
import type { GatewayContext } from '../runtime/context';
import { createApiToken, listApiTokens, revokeApiToken, TokenInputError } from '../identity/api-tokens';
import { Passkey, type ApiToken } from '../identity/entities';

type Ctx = GatewayContext;

const account = (ctx: Ctx) => ({ user: ctx.principal.user });

function requirePasskeySession(ctx: Ctx, what: string): void {
  if (ctx.principal.via !== 'session') throw userError('FORBIDDEN', `${what} needs a passkey session, not an API token`);
}

const tokenView = (t: ApiToken, now = new Date()) => ({
  ...t,
  scopes: t.scopes.split(',').map((s) => s.toUpperCase()),
  active: !t.revokedAt && t.expiresAt > now,
});

export const resolvers: ResolverMap<Ctx> = {
  DateTime,
  Query: {
    me: (_: unknown, __: unknown, ctx: Ctx) => account(ctx),
  },
  Account: {
    id: ({ user }: ReturnType<typeof account>) => user.id,
    username: ({ user }: ReturnType<typeof account>) => user.username,
    role: ({ user }: ReturnType<typeof account>) => user.role.toUpperCase(),
    institutionId: ({ user }: ReturnType<typeof account>) => user.institutionId,
    patient: ({ user }: ReturnType<typeof account>) => (user.patientId ? { __typename: 'Patient', id: user.patientId } : null),
    purposeOfUse: (_: unknown, __: unknown, ctx: Ctx) => ctx.identity.purpose,
    authenticatedWith: (_: unknown, __: unknown, ctx: Ctx) => (ctx.principal.via === 'session' ? 'PASSKEY_SESSION' : 'API_TOKEN'),
    passkeys: ({ user }: ReturnType<typeof account>, _: unknown, ctx: Ctx) =>
      ctx.db.getRepository(Passkey).find({ where: { userId: user.id }, order: { createdAt: 'ASC' } }),
    apiTokens: async ({ user }: ReturnType<typeof account>, _: unknown, ctx: Ctx) => (await listApiTokens(ctx.db, user.id)).map((t) => tokenView(t)),
  },
  Mutation: {
    async createApiToken(_: unknown, { input }: { input: { name: string; scopes: string[]; expiresInDays: number } }, ctx: Ctx) {
      requirePasskeySession(ctx, 'Creating an API token');
      try {
        const { token, record } = await createApiToken(ctx.db, ctx.principal.user.id, {
          name: input.name,
          scopes: input.scopes.map((s) => s.toLowerCase() as Scope),
          expiresInDays: input.expiresInDays,
        });
        return { token, apiToken: tokenView(record) };
      } catch (err) {
        if (err instanceof TokenInputError) throw userError('BAD_USER_INPUT', err.message);
        throw err;
      }
    },
    async revokeApiToken(_: unknown, { id }: { id: string }, ctx: Ctx) {
      const token = await revokeApiToken(ctx.db, ctx.principal.user.id, id);
      if (!token) throw userError('NOT_FOUND', `You have no API token ${JSON.stringify(id)}`);
      return tokenView(token);
    },
    async removePasskey(_: unknown, { id }: { id: string }, ctx: Ctx) {
      requirePasskeySession(ctx, 'Removing a passkey');
      const userId = ctx.principal.user.id;
      await serialized(ctx.db, () =>
        ctx.db.transaction(async (tx) => {
          const repo = tx.getRepository(Passkey);
          const mine = await repo.findBy({ userId });
          if (!mine.some((p) => p.id === id)) throw userError('NOT_FOUND', 'You have no such passkey');
          if (mine.length === 1) throw userError('CONFLICT', 'This is your last passkey: add another before removing it');
          await repo.delete({ id, userId });
          const now = new Date();
          await appendToOutbox(tx, [{ kind: 'passkey.removed', payload: { subject: userId, passkeyId: id } }], now);
        }),
      );
      return account(ctx);
    },
  },
};
