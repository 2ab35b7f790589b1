/**
 * Apollo Gateway 2 under Apollo Server over the checked-in supergraph: the accounts
 * subgraph in process (LocalGraphQLDataSource), every other one over HTTP through
 * SubgraphClient. (Apollo Gateway is under the Elastic License 2.0.)
 */
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import type { SubgraphName } from '../../../common/config';
import type { Executor, ExecutorDeps } from '../executor';
import { apolloGraphqlServer } from './graphql-server';
import { SubgraphClient } from './subgraph-client';

export async function apolloExecutor({ env, log, supergraphSdl, ownership, accountsSchema, urls, identityKey }: ExecutorDeps): Promise<Executor> {
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) =>
      name === 'accounts'
        ? new LocalGraphQLDataSource(accountsSchema)
        : new SubgraphClient(name, urls[name as SubgraphName], identityKey, env.SUBGRAPH_TIMEOUT_MS),
  });
  return apolloGraphqlServer({ gateway }, ownership, env, log);
}
