/**
 * Every fetch the gateway makes to a subgraph for a user's request is bounded
 * (limits/budget.ts), whichever executor plans it: it is cancelled when the request's
 * deadline passes, after its own SUBGRAPH_TIMEOUT_MS, and when the subgraphs' answers to
 * the request add up to more than MAX_RESPONSE_BYTES — the body is read chunk by chunk
 * and the fetch aborted at the limit, never buffered whole first. A fetch cut short
 * becomes one typed error (cutShort). Each fetch is counted, so that batching is
 * observable in /metrics.
 *
 * Each fetch is also a CLIENT span (common/tracing.ts) under the request's span, and
 * `send` is handed the `traceparent` naming it: the subgraph's own span is its child.
 */
import { GraphQLError } from 'graphql';
import { Counter } from 'prom-client';
import { failed, inSpan, SpanKind, traceHeaders } from '../../common/tracing';
import type { RequestBudget } from './limits/budget';

export const subgraphRequests = new Counter({
  name: 'custodian_gateway_subgraph_requests_total',
  help: 'Requests the gateway sent to each subgraph',
  labelNames: ['subgraph'],
});

/** What we read of a fetch's response, from either executor's fetch implementation. */
export interface FetchedResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** A Node stream or a WHATWG ReadableStream: either is async-iterable on Node. */
  body: unknown;
}

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
async function readCapped(res: FetchedResponse, limit: number, stop: () => void): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limit) {
    stop();
    throw new TooLarge();
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of (res.body as AsyncIterable<Uint8Array> | null) ?? []) {
    bytes += chunk.length;
    if (bytes > limit) {
      stop();
      throw new TooLarge();
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One subgraph fetch within a request's budget: `send` is called with the signal to pass
 * to the fetch and the trace headers to add to it; the answer's body is read once,
 * counted, and returned as text beside the response it came with. Throws cutShort's
 * error when the fetch was cut short.
 */
export function fetchWithin<R extends FetchedResponse>(
  budget: RequestBudget,
  service: string,
  timeoutMs: number,
  send: (signal: AbortSignal, trace: Readonly<Record<string, string>>) => Promise<R>,
): Promise<{ response: R; text: string }> {
  return inSpan(`subgraph ${service}`, { kind: SpanKind.CLIENT, attributes: { 'custodian.subgraph': service } }, async (span) => {
    const fetched = await boundedFetch(budget, service, timeoutMs, (signal) => send(signal, traceHeaders()));
    span?.setAttribute('http.response.status_code', fetched.response.status);
    span?.setAttribute('http.response.body.size', Buffer.byteLength(fetched.text));
    if (fetched.response.status >= 400) failed(span, new Error(`HTTP ${fetched.response.status}`));
    return fetched;
  });
}

async function boundedFetch<R extends FetchedResponse>(
  budget: RequestBudget,
  service: string,
  timeoutMs: number,
  send: (signal: AbortSignal) => Promise<R>,
): Promise<{ response: R; text: string }> {
  subgraphRequests.inc({ subgraph: service });
  const timeout = AbortSignal.timeout(timeoutMs);
  const own = new AbortController();
  let response: R;
  let text: string;
  try {
    if (budget.signal.aborted) throw new Error('the request has ended');
    response = await send(AbortSignal.any([budget.signal, timeout, own.signal]));
    text = await readCapped(response, budget.remainingBytes, () => own.abort());
  } catch (err) {
    if (err instanceof TooLarge) budget.end('too-large');
    else if (!budget.signal.aborted && !timeout.aborted) throw err;
    throw cutShort(budget, service, timeout.aborted, timeoutMs);
  }
  budget.receive(Buffer.byteLength(text));
  if (budget.ended) throw cutShort(budget, service, false, timeoutMs);
  return { response, text };
}

/** `init` with `extra` headers added, whatever form its headers take (object, Headers, pairs). */
export function withHeaders<I extends object>(init: I, extra: Readonly<Record<string, string>>): I {
  if (Object.keys(extra).length === 0) return init;
  const headers = new Headers((init as { headers?: unknown }).headers as ConstructorParameters<typeof Headers>[0]);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return { ...init, headers: Object.fromEntries(headers) };
}
