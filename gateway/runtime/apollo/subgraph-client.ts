/**
 * How Apollo Gateway talks to a subgraph: RemoteGraphQLDataSource with its default
 * fetcher (make-fetch-happen, keep-alive sockets), each request signed for exactly its
 * operation (identity-signing.ts) and bounded by the user request's budget
 * (bounded-fetch.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SignWith } from '../../../common/keysets';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayContext } from '../context';
import { fetchWithin, withHeaders, type FetchedResponse } from '../bounded-fetch';
import { identityHeaders } from '../identity-signing';
import type { RequestBudget } from '../limits/budget';

/** The fetch a RemoteGraphQLDataSource makes, as far as we use it. */
type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetchResponse = Awaited<ReturnType<Fetcher>>;

/** The budget of the user request a fetch is made for (set around `process`, read by the fetcher). */
const currentBudget = new AsyncLocalStorage<RequestBudget>();

/** Wraps a fetcher so that each fetch made for a user's request stays within its budget. */
export function boundedFetcher(base: Fetcher, service: string, timeoutMs: number): Fetcher {
  return (async (url: string, init: Record<string, unknown>) => {
    const budget = currentBudget.getStore();
    if (!budget) return base(url as never, init as never);
    const { response, text } = await fetchWithin(budget, service, timeoutMs, async (signal, trace) =>
      (await base(url as never, withHeaders({ ...init, signal }, trace) as never)) as unknown as FetchedResponse & FetchResponse,
    );
    // What RemoteGraphQLDataSource reads of a response, with the body already read.
    const { ok, status, statusText, url: at, headers } = response;
    return { ok, status, statusText, url: at, headers, text: async () => text, json: async () => JSON.parse(text) as unknown } as unknown as FetchResponse;
  }) as Fetcher;
}

export class SubgraphClient extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    name: string,
    url: string,
    private readonly identityKey: SignWith,
    timeoutMs: number,
  ) {
    super({ url });
    this.fetcher = boundedFetcher(this.fetcher, name, timeoutMs);
  }

  /** Runs the fetch with the user request's budget in reach of the fetcher. */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']> {
    const budget = options.context?.budget;
    return budget ? currentBudget.run(budget, () => super.process(options)) : super.process(options);
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Partial<GatewayContext>>): Promise<void> {
    // Health checks and schema loading run without a user; they get no identity and so
    // no data. Every user request has one.
    if (!context?.identity || !context.requestId) return;
    const headers = await identityHeaders({ identity: context.identity, requestId: context.requestId }, request, this.identityKey);
    for (const [name, value] of Object.entries(headers)) request.http?.headers.set(name, value);
  }
}
