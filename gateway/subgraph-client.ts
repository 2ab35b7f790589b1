/**
 * How the gateway talks to a subgraph: Apollo's RemoteGraphQLDataSource with its default
 * fetcher (make-fetch-happen, keep-alive sockets), counting each request so that
 * batching is observable in /metrics, and forwarding the request id.
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
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
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    subgraphRequests.inc({ subgraph: this.name });
    if (context?.requestId) request.http?.headers.set('x-request-id', context.requestId);
  }
}
