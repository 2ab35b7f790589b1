/**
 * OpenTelemetry traces: gateway request → subgraph fetch → subgraph request → consent
 * decisions → outbox write → (later, in the ledger process) ledger append, joined by W3C
 * `traceparent` headers, outbox columns and queue jobs. Exported over OTLP/HTTP (JSON)
 * when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set.
 *
 * Off (no endpoint), nothing is started: no provider, no context manager, and every helper
 * below is a plain call of its function — one boolean test per span that would have been.
 *
 * Manual spans, not auto-instrumentation. The two executors fetch subgraphs through two
 * different HTTP clients (Apollo Gateway: make-fetch-happen over node:http; Hive: fetch
 * over undici), so instrumentation-http/undici would give each executor a different
 * tree, and would only patch modules loaded after it (a --require hook every entry point
 * would need). One span per subgraph fetch in bounded-fetch.ts, which both executors go
 * through, is the same tree whichever executor runs.
 *
 * The provider is not registered as the global one on purpose: libraries that trace
 * through the global API (Apollo Gateway emits gateway.plan, gateway.fetch, ...) stay
 * no-ops, so the spans exported are exactly ours. Their non-recording spans still carry
 * our span context through, so parent links are unaffected.
 *
 * Spans never carry patient data: no patient ids, names or clinical values, only
 * service and operation names, counts, status codes and our request id. A trace backend
 * is not covered by anyone's consent.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
// The SDK (provider, exporter, resources, context manager) is required only by
// startTracing, when tracing is on: loading it costs a few hundred ms that every process
// importing the outbox — the CLI included — would otherwise pay for nothing.
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Request, RequestHandler } from 'express';

export { SpanKind, type Span };

let provider: NodeTracerProvider | undefined;
let tracer: Tracer | undefined;
const w3c = new W3CTraceContextPropagator();

/** Is tracing on in this process? */
export const tracingOn = (): boolean => tracer !== undefined;

/**
 * Starts tracing for this process when an OTLP endpoint is configured; returns whether it
 * did. `service` is the default service.name (OTEL_SERVICE_NAME overrides it). The batch
 * processor and exporter read the standard OTEL_BSP_* and OTEL_EXPORTER_OTLP_* settings,
 * the sampler OTEL_TRACES_SAMPLER (default: parent-based, always on).
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (provider) return true;
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return false;
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { defaultResource, resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BatchSpanProcessor, NodeTracerProvider } = require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || service })),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // Parents follow async calls (AsyncLocalStorage) only once a context manager is set.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  tracer = provider.getTracer('custodian');
  return true;
}

/** Exports what is left and stops; call on shutdown, after the services have closed. */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  provider = undefined;
  tracer = undefined;
  if (!stopping) return;
  await stopping.shutdown().catch(() => undefined);
  context.disable();
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** The parent; by default the active span. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new span, made the active one, and ends the span when `fn` settles
 * (an error is recorded on it, by type and message, and rethrown). Off, just `fn()`.
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span | undefined) => T): T {
  if (!tracer) return fn(undefined);
  const span = tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links }, options.parent ?? context.active());
  const ctx = trace.setSpan(options.parent ?? context.active(), span);
  let result: T;
  try {
    result = context.with(ctx, fn, undefined, span);
  } catch (err) {
    failed(span, err);
    span.end();
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        failed(span, err);
        span.end();
        throw err;
      },
    ) as T;
  }
  span.end();
  return result;
}

/** Marks a span failed: the error's type and message, never a stack (it may quote data). */
export function failed(span: Span | undefined, err: unknown): void {
  if (!span) return;
  const message = err instanceof Error ? err.message : String(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute('error.type', err instanceof Error ? err.constructor.name : typeof err);
}

/** The `traceparent` of the active span, to carry across a hand-off (outbox row, queue job). */
export function currentTraceparent(): string | undefined {
  if (!tracer) return undefined;
  const carrier: Record<string, string> = {};
  w3c.inject(context.active(), carrier, { set: (c, k, v) => (c[k] = v) });
  return carrier.traceparent;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** The W3C trace headers of the active span, for an outgoing request ({} when off). */
export function traceHeaders(): Readonly<Record<string, string>> {
  if (!tracer) return NO_HEADERS;
  const carrier: Record<string, string> = {};
  w3c.inject(context.active(), carrier, { set: (c, k, v) => (c[k] = v) });
  return carrier;
}

const headerGetter: TextMapGetter<(name: string) => string | undefined> = {
  get: (header, key) => header(key),
  keys: () => ['traceparent', 'tracestate'],
};

/**
 * The span context a `traceparent` (and `tracestate`) names, if it is valid W3C trace
 * context; anything malformed is ignored, as the W3C recommendation says.
 */
export function remoteSpanContext(traceparent: string | null | undefined, tracestate?: string | null): SpanContext | undefined {
  if (!traceparent) return undefined;
  const ctx = w3c.extract(ROOT_CONTEXT, (name: string) => (name === 'traceparent' ? traceparent : name === 'tracestate' ? (tracestate ?? undefined) : undefined), headerGetter);
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) ? sc : undefined;
}

/** A context whose (remote) parent is `traceparent`, or the root context. */
export function parentFrom(traceparent: string | null | undefined): Context {
  const sc = remoteSpanContext(traceparent);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/**
 * Starts a span that ends later than the call that started it (after a batch
 * completes): the caller ends it. Undefined when off.
 */
export function startSpan(name: string, options: SpanOptions & { startTime?: number }): Span | undefined {
  return tracer?.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links, startTime: options.startTime }, options.parent ?? context.active());
}

export interface RequestSpanOptions {
  /**
   * What a `traceparent` the caller sent means:
   *  - 'link': the caller is outside our trust boundary (the gateway's clients). We start
   *    our own root trace and record theirs as a link. A client then cannot choose our
   *    trace ids or force sampling (the sampled flag) — as with request ids
   *    (gateway/runtime/request-id.ts), ids in our records are ours — yet a client's
   *    trace still leads to ours through the link.
   *  - 'continue': the caller is ours (a subgraph called by the gateway, after its identity
   *    token was verified): the request's span is a child of the caller's fetch span.
   */
  remote: 'link' | 'continue';
  /** Attributes known at the start. */
  attributes?: (req: Request) => Attributes;
}

/** graphql.operation.name from the parsed body, or from the document's first operation. */
export function operationName(body: unknown): string | undefined {
  const b = body as { operationName?: unknown; query?: unknown } | undefined;
  if (typeof b?.operationName === 'string' && b.operationName) return b.operationName.slice(0, 128);
  if (typeof b?.query !== 'string') return undefined;
  return /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]{0,127})/.exec(b.query)?.[1];
}

/**
 * Express middleware: one SERVER span per GraphQL request, named for its operation,
 * active for everything after it, ended when the response is finished (or the client has
 * gone). Mount it after the body is parsed: a body parser calls on from a stream event,
 * outside the context a middleware before it would have set.
 */
export function traceGraphqlRequests(options: RequestSpanOptions): RequestHandler {
  return (req, res, next) => {
    if (!tracer) return next();
    const remote = remoteSpanContext(req.header('traceparent'), req.header('tracestate'));
    const parent = options.remote === 'continue' && remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
    const operation = operationName(req.body);
    const span = tracer.startSpan(
      operation ? `graphql ${operation}` : 'graphql',
      {
        kind: SpanKind.SERVER,
        links: options.remote === 'link' && remote ? [{ context: remote, attributes: { 'custodian.link': 'client' } }] : undefined,
        attributes: {
          'http.request.method': req.method,
          'url.path': req.baseUrl + req.path,
          ...(operation ? { 'graphql.operation.name': operation } : {}),
          ...options.attributes?.(req),
        },
      },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      if (!res.writableFinished) span.setAttribute('custodian.client_gone', true);
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), next);
  };
}
