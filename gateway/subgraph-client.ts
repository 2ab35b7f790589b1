/**
 * How the gateway talks to a subgraph: Apollo's RemoteGraphQLDataSource with its default
 * fetcher (make-fetch-happen, keep-alive sockets). Each request carries an identity token
 * signed for exactly its operation (see common/signed-identity.ts) and the gateway's request id,
 * and is counted, so that batching is observable in /metrics.
 *
 * Every fetch made for a user's request is bounded (gateway/limits/budget.ts): it is
 * cancelled when the request's deadline passes, after its own SUBGRAPH_TIMEOUT_MS, and
 * when the subgraphs' answers to the request add up to more than MAX_RESPONSE_BYTES —
 * the body is read chunk by chunk and the fetch aborted at the limit, never buffered
 * whole first.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { KeyObject } from 'node:crypto';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { Counter } from 'prom-client';
import { operationDigest, signIdentity } from '../common/signed-identity';
import type { GatewayContext } from './context';
import type { RequestBudget } from './limits/budget';

export const subgraphRequests = new Counter({
  name: 'custodian_gateway_subgraph_requests_total',
  help: 'Requests the gateway sent to each subgraph',
  labelNames: ['subgraph'],
});

/** The fetch a RemoteGraphQLDataSource makes, as far as we use it. */
type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetchResponse = Awaited<ReturnType<Fetcher>>;

/** The budget of the user request a fetch is made for (set around `process`, read by the fetcher). */
const currentBudget = new AsyncLocalStorage<RequestBudget>();

/** The typed error a cut-short fetch becomes. */
export function cutShort(budget: RequestBudget, service: string, timedOut: boolean, timeoutMs: number): GraphQLError {
  if (budget.ended === 'too-large' || (!budget.ended && !timedOut)) {
    return new GraphQLError(`The answer is larger than MAX_RESPONSE_BYTES=${budget.maxResponseBytes} bytes: ask for less`, {
      extensions: { code: 'RESPONSE_TOO_LARGE', max: budget.maxResponseBytes, setting: 'MAX_RESPONSE_BYTES', serviceName: service },
    });
  }
  if (budget.ended) {
    return new GraphQLError(`The request took longer than REQUEST_TIMEOUT_MS=${budget.timeoutMs} ms; its subgraph fetches were cancelled`, {
      extensions: { code: 'REQUEST_TIMEOUT', max: budget.timeoutMs, setting: 'REQUEST_TIMEOUT_MS', serviceName: service },
    });
  }
  return new GraphQLError(`The ${service} service did not answer within SUBGRAPH_TIMEOUT_MS=${timeoutMs} ms`, {
    extensions: { code: 'SUBGRAPH_TIMEOUT', max: timeoutMs, setting: 'SUBGRAPH_TIMEOUT_MS', serviceName: service },
  });
}

class TooLarge extends Error {}

/** A response body as text, refusing past `limit` bytes without reading (or keeping) the rest. */
async function readCapped(res: FetchResponse, limit: number, stop: () => void): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    stop();
    throw new TooLarge();
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of (res as unknown as { body: AsyncIterable<Buffer> }).body) {
    bytes += chunk.length;
    if (bytes > limit) {
      stop();
      throw new TooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Wraps a fetcher so that each fetch made for a user's request is cancelled with the
 * request, times out on its own, and reads at most the bytes the request has left: its
 * body is read once, counted, and handed to RemoteGraphQLDataSource as before.
 */
export function boundedFetcher(base: Fetcher, service: string, timeoutMs: number): Fetcher {
  return (async (url: string, init: Record<string, unknown>) => {
    const budget = currentBudget.getStore();
    if (!budget) return base(url as never, init as never);
    const timeout = AbortSignal.timeout(timeoutMs);
    const own = new AbortController();
    let res: FetchResponse;
    let text: string;
    try {
      if (budget.signal.aborted) throw new Error('the request has ended');
      res = await base(url as never, { ...init, signal: AbortSignal.any([budget.signal, timeout, own.signal]) } as never);
      text = await readCapped(res, budget.remainingBytes, () => own.abort());
    } catch (err) {
      if (err instanceof TooLarge) budget.end('too-large');
      else if (!budget.signal.aborted && !timeout.aborted) throw err;
      throw cutShort(budget, service, timeout.aborted, timeoutMs);
    }
    budget.receive(Buffer.byteLength(text));
    if (budget.ended) throw cutShort(budget, service, false, timeoutMs);
    // What RemoteGraphQLDataSource reads of a response, with the body already read.
    const { ok, status, statusText, url: at, headers } = res;
    return { ok, status, statusText, url: at, headers, text: async () => text, json: async () => JSON.parse(text) as unknown } as unknown as FetchResponse;
  }) as Fetcher;
}

export class SubgraphClient extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly name: string,
    url: string,
    private readonly identityKey: KeyObject,
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
