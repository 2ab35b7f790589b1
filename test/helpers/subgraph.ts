import type { KeyObject } from 'node:crypto';
import type { SubgraphName } from '../../common/config';
import type { Identity } from '../../common/identity';
import { SUBGRAPHS } from '../../subgraphs';
import { startSubgraph, type RunningSubgraph } from '../../subgraphs/kit/server';
import { seed } from '../../seed/write';
import { freshDatabase, type TestDatabase } from './database';
import { gql, type GraphQLResponse } from './graphql';
import { ADMIN, gatewayKeys, identityHeader } from './identity';

export interface SubgraphUnderTest {
  database: TestDatabase;
  subgraph: RunningSubgraph;
  url: string;
  /** The key the subgraph trusts, as the gateway's would be. */
  gatewayKey: KeyObject;
  /** A request as the gateway would send it: signed identity for exactly this operation. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, identity?: Identity): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/** A seeded database and one subgraph serving it in this process, on a free port. */
export async function startSeededSubgraph(name: SubgraphName, patients = 30, seedValue = 1): Promise<SubgraphUnderTest> {
  const database = await freshDatabase();
  await seed({ patients, seed: seedValue }, database.env);
  const keys = gatewayKeys();
  const subgraph = await startSubgraph(SUBGRAPHS[name], { env: database.env, port: 0, identityKey: keys.publicKey });
  return {
    database,
    subgraph,
    url: subgraph.url,
    gatewayKey: keys.privateKey,
    gql: async (query, variables, identity = ADMIN) =>
      gql(subgraph.url, query, variables, await identityHeader(keys.privateKey, query, variables, identity)),
    async close() {
      await subgraph.close();
      await database.drop();
    },
  };
}
