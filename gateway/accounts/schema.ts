/**
 * The accounts subgraph's executable schema (the caller's own account, sessions, passkeys
 * and API tokens), served in process at /accounts/graphql and to whichever executor
 * serves /graphql.
 */
import fs from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import type { ResolverMap } from '../../common/resolver-map';
import { ACCOUNTS_SDL_PATH } from '../compose';
import { resolvers } from './resolvers';

export function accountsSchema(): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: parse(fs.readFileSync(ACCOUNTS_SDL_PATH, 'utf8')), resolvers: resolvers as ResolverMap });
}
