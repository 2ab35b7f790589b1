/**
 * The ledger pipeline's part of a request's trace (common/tracing.ts). The outbox row
 * keeps the writing request's `traceparent` (outbox.ts); the relay copies it into the
 * queue job beside the event — not into it: the event is exactly what becomes public, a
 * trace id is not — and the worker's append is a span in that request's trace.
 *
 * Kept to small helpers so that the relay, queue and worker only call them.
 */
import { SpanKind, failed, parentFrom, startSpan, tracingOn } from '../../common/tracing';

/** The trace context an outbox row carries, if any; parentFrom() (common/tracing.ts) validates it where it is used. */
export function traceContextOf(row: { traceparent?: string | null }): string | undefined {
  return typeof row.traceparent === 'string' && row.traceparent ? row.traceparent : undefined;
}

/** Job data with the trace context beside the event, when there is one. */
export function withTraceContext<D extends object>(data: D, traceparent: string | undefined): D & { traceparent?: string } {
  return traceparent ? { ...data, traceparent } : data;
}

/**
 * Runs one append of a batch of events, drawn from many requests. The batch's transaction
 * is one, but the requests' traces are many: each distinct trace context in the batch gets
 * a `ledger.append` span, a child of the span that wrote its rows, spanning the whole
 * append and counting its own events beside the batch's. So every request's trace shows
 * when its events reached the ledger, at one span per request — the order of cost the
 * other spans of a request already have. Events written while tracing was off add none.
 */
export async function withAppendSpan<T>(traceparents: readonly (string | undefined)[], append: () => Promise<T>): Promise<T> {
  if (!tracingOn()) return append();
  const perTrace = new Map<string, number>();
  // Job data comes from Redis: only strings are considered, and parentFrom() validates them.
  for (const t of traceparents) if (typeof t === 'string' && t) perTrace.set(t, (perTrace.get(t) ?? 0) + 1);
  const startTime = Date.now();
  let error: unknown;
  try {
    return await append();
  } catch (err) {
    error = err;
    throw err;
  } finally {
    for (const [traceparent, events] of perTrace) {
      const span = startSpan('ledger.append', {
        kind: SpanKind.CONSUMER,
        parent: parentFrom(traceparent),
        startTime,
        attributes: { 'custodian.ledger.events': events, 'custodian.ledger.batch_events': traceparents.length },
      });
      if (error !== undefined) failed(span, error);
      span?.end();
    }
  }
}
