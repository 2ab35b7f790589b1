/**
 * How the gateway talks to a subgraph: Apollo's RemoteGraphQLDataSource over Node's
 * built-in fetch (undici keeps connections alive, which matters under load), counting
 * each request so that batching is observable in /metrics, and forwarding the request id.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher } from '@apollo/utils.fetcher';
import { Counter } from 'prom-client';

export interface GatewayContext {
  requestId: string;
}

export const subgraphRequests = new Counter({
  name: 'custodian_gateway_subgraph_requests_total',
  help: 'Requests the gateway sent to each subgraph',
  labelNames: ['subgraph'],
});

export class SubgraphClient extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly name: string,
    url: string,
  ) {
    super({ url, fetcher: fetch as unknown as Fetcher });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    subgraphRequests.inc({ subgraph: this.name });
    if (context?.requestId) request.http?.headers.set('x-request-id', context.requestId);
  }
}
