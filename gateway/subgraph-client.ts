/**
 * How the gateway talks to a subgraph: Apollo's RemoteGraphQLDataSource with its default
 * fetcher (make-fetch-happen, keep-alive sockets). Each request carries an identity token
 * signed for exactly its operation (see common/identity.ts) and the request id, and is
 * counted, so that batching is observable in /metrics.
 */
import type { KeyObject } from 'node:crypto';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Counter } from 'prom-client';
import { operationDigest, signIdentity } from '../common/identity';
import type { GatewayContext } from './context';

export const subgraphRequests = new Counter({
  name: 'custodian_gateway_subgraph_requests_total',
  help: 'Requests the gateway sent to each subgraph',
  labelNames: ['subgraph'],
});

export class SubgraphClient extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly name: string,
    url: string,
    private readonly identityKey: KeyObject,
  ) {
    super({ url });
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    subgraphRequests.inc({ subgraph: this.name });
    // Health checks and schema loading run without a user; they get no identity and so
    // no data. Every user request has one.
    if (!context?.identity) return;
    const token = await signIdentity(context.identity, operationDigest(request.query ?? '', request.variables), this.identityKey);
    request.http?.headers.set('authorization', `Bearer ${token}`);
    request.http?.headers.set('x-request-id', context.requestId);
  }
}
