/**
 * The accounts subgraph's executable schema (the caller's own account, sessions, passkeys
 * and API tokens), served in process at /accounts/graphql and to whichever executor
 * serves /graphql.
 */
import fs from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import { ACCOUNTS_SDL_PATH } from '../compose';
import { resolvers } from './resolvers';

/**
 * A resolver map as buildSubgraphSchema takes it (context `unknown`), from
 * @apollo/subgraph's public API: its own name for it, GraphQLResolverMap, is exported
 * only from a dist/ path.
 */
export type ResolverMap = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>['resolvers']>;

export function accountsSchema(): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: parse(fs.readFileSync(ACCOUNTS_SDL_PATH, 'utf8')), resolvers: resolvers as ResolverMap });
}
