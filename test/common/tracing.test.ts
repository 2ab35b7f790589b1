/**
 * common/tracing.ts in one process: off (no endpoint) it starts nothing and every helper
 * is a pass-through; a `traceparent` is trusted only when it is valid W3C trace context;
 * the ledger's append spans continue each request's trace (ledger/pipeline/tracing.ts).
 * The whole path across processes is test/e2e/traces.test.ts.
 */
import { context, trace } from '@opentelemetry/api';
import {
  currentTraceparent,
  inSpan,
  operationName,
  parentFrom,
  remoteSpanContext,
  startTracing,
  stopTracing,
  traceHeaders,
  tracingOn,
} from '../../common/tracing';
import { appendOutboxRows, OutboxEvent } from '../../ledger/pipeline/outbox';
import { traceContextOf, withAppendSpan, withTraceContext } from '../../ledger/pipeline/tracing';
import { freshDatabase } from '../support/database';
import { openOutboxDatabase } from '../support/ledger-pipeline';

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('off: no OTLP endpoint', () => {
  test('nothing starts, spans are plain calls, nothing is carried', async () => {
    expect(startTracing('custodian-test', {})).toBe(false);
    expect(startTracing('custodian-test', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingOn()).toBe(false);
    expect(inSpan('x', {}, (span) => span)).toBeUndefined();
    await expect(inSpan('x', {}, async () => 7)).resolves.toBe(7);
    expect(currentTraceparent()).toBeUndefined();
    expect(traceHeaders()).toEqual({});
    // No context manager: nothing to propagate, so the active span stays none.
    expect(trace.getSpan(context.active())).toBeUndefined();
    await expect(withAppendSpan([VALID], async () => 'appended')).resolves.toBe('appended');
  });
});

describe('trace context from outside', () => {
  test('a valid traceparent is read; malformed, all-zero or unknown-version ones are ignored', () => {
    expect(remoteSpanContext(VALID)).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', isRemote: true });
    for (const bad of [
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      `${VALID}'); DROP TABLE outbox; --`,
      '',
      null,
      undefined,
    ]) {
      expect([bad, remoteSpanContext(bad)]).toEqual([bad, undefined]);
      expect(trace.getSpanContext(parentFrom(bad))).toBeUndefined();
    }
  });

  test('job data carries the trace context beside the event, and only when there is one', () => {
    const event = { id: 'evt_1' } as never;
    expect(withTraceContext({ event }, VALID)).toEqual({ event, traceparent: VALID });
    expect(withTraceContext({ event }, undefined)).toEqual({ event });
    expect(traceContextOf({ traceparent: null })).toBeUndefined();
    expect(traceContextOf({})).toBeUndefined();
    expect(traceContextOf({ traceparent: VALID })).toBe(VALID);
  });

  test('the operation name comes from operationName or the document, bounded', () => {
    expect(operationName({ operationName: 'Mine', query: 'query Other { a }' })).toBe('Mine');
    expect(operationName({ query: '  mutation Grant($x: ID) { a }' })).toBe('Grant');
    expect(operationName({ query: '{ a }' })).toBeUndefined();
    expect(operationName({ operationName: 'x'.repeat(500) })).toHaveLength(128);
    expect(operationName(undefined)).toBeUndefined();
  });
});

describe('on', () => {
  afterAll(() => stopTracing());

  test('spans nest through async calls, and the traceparent names the active span', async () => {
    // An endpoint nobody listens on: export fails quietly, in the background.
    expect(startTracing('custodian-test', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).toBe(true);
    expect(tracingOn()).toBe(true);
    const seen = await inSpan('outer', {}, async (outer) => {
      await new Promise((r) => setTimeout(r, 5));
      return inSpan('inner', {}, async (inner) => {
        await Promise.resolve();
        return { outer: outer!.spanContext(), inner: inner!.spanContext(), active: currentTraceparent(), headers: traceHeaders() };
      });
    });
    expect(seen.inner.traceId).toBe(seen.outer.traceId);
    expect(seen.active).toBe(`00-${seen.inner.traceId}-${seen.inner.spanId}-01`);
    expect(seen.headers).toEqual({ traceparent: seen.active });
    // Outside any span, nothing is carried.
    expect(currentTraceparent()).toBeUndefined();
  });

  test('an outbox row records the trace context it was written in, beside its payload; none outside a span', async () => {
    const database = await freshDatabase();
    const db = await openOutboxDatabase(database.env, 'traced');
    try {
      const written = await inSpan('write', {}, async () => {
        await appendOutboxRows(db, [{ kind: 'in.span', payload: { n: 1 } }, { kind: 'explicit.none', payload: { n: 2 }, traceparent: null }, { kind: 'carried', payload: { n: 3 }, traceparent: VALID }]);
        return currentTraceparent();
      });
      await appendOutboxRows(db, [{ kind: 'outside', payload: { n: 4 } }]);
      const rows = Object.fromEntries((await db.getRepository(OutboxEvent).find()).map((r) => [r.kind, r]));
      expect(written).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(rows['in.span']!.traceparent).toBe(written);
      expect(rows['explicit.none']!.traceparent).toBeNull();
      expect(rows['carried']!.traceparent).toBe(VALID);
      expect(rows['outside']!.traceparent).toBeNull();
      for (const r of Object.values(rows)) expect(r.payload).not.toMatch(/trace/);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });

  test('a failure inside a span is rethrown', async () => {
    await expect(inSpan('fails', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(() => inSpan('throws', {}, () => {
      throw new Error('sync boom');
    })).toThrow('sync boom');
    await expect(withAppendSpan([VALID, 'garbage', undefined], async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
  });
});
