/**
 * Traces end to end: the real hub (separate processes) exports OTLP/HTTP JSON to a
 * collector in this test. One GraphQL request that crosses subgraphs must come back as
 * one trace with these parent links:
 *
 *   gateway request span (root; the client's traceparent is a link, not its parent)
 *     └ subgraph <name> fetch span (CLIENT), one per fetch
 *         └ that subgraph's request span (SERVER, another process)
 *             ├ consent.decide (one per batch of decisions)
 *             └ outbox.write ── (outbox row → queue job) ──┐
 *                                                            └ ledger.append (ledger process)
 *
 * And the trace context stays out of what is public: no leaf holds a trace id.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../common/database';
import { OutboxEvent } from '../../ledger/pipeline/outbox';
import { LEDGER_DATABASE } from '../../ledger/store/database';
import { LedgerLeaf } from '../../ledger/store/entities';
import { gql, ok } from '../support/graphql';
import { startHub, type Hub } from '../support/hub';

interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
}

/** OTLP's span kinds (opentelemetry-proto trace.proto). */
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

const spans: CollectedSpan[] = [];
let posts = 0;

const valueOf = (v: Record<string, unknown>): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attributes = (list: { key: string; value: Record<string, unknown> }[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** A tiny OTLP/HTTP JSON receiver: POST /v1/traces. */
const collector = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
      res.writeHead(404).end();
      return;
    }
    posts++;
    const message = JSON.parse(body) as { resourceSpans: any[] };
    for (const rs of message.resourceSpans) {
      const service = String(attributes(rs.resource?.attributes)['service.name']);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            service,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            kind: s.kind,
            links: (s.links ?? []).map((l: any) => ({ traceId: l.traceId, spanId: l.spanId })),
            attributes: attributes(s.attributes),
          });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

let hub: Hub;
let clinician: Record<string, string>;

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; spans so far:\n${spans.map((s) => `${s.service} ${s.name} ${s.traceId}/${s.spanId}<-${s.parentSpanId}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const port = (collector.address() as AddressInfo).port;
  hub = await startHub({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '200' } });
  const users = hub.cli('users', '--role', 'clinician', '--limit', '1').split(/\s+/);
  clinician = { authorization: `Bearer ${hub.token(users[0]!)}` };
}, 150_000);

afterAll(async () => {
  if (hub && hub.process.exitCode === null) await hub.stop();
  await new Promise((resolve) => collector.close(resolve));
});

test('one request across subgraphs is one trace: gateway → fetches → subgraph requests → consent, outbox → ledger append', async () => {
  const clientTrace = randomBytes(16).toString('hex');
  const clientSpan = randomBytes(8).toString('hex');
  const res = await gql(
    `${hub.gateway}/graphql`,
    'query TracedPatients { patients(first: 3) { nodes { name { text } labResults(first: 1) { totalCount } } } }',
    undefined,
    { ...clinician, traceparent: `00-${clientTrace}-${clientSpan}-01` },
  );
  expect(ok(res).patients.nodes.length).toBeGreaterThan(0);

  // The gateway's span: its own root, named for the operation, the client's span a link.
  const root = await waitFor('the gateway request span', () => spans.find((s) => s.service === 'custodian-gateway' && s.name === 'graphql TracedPatients'));
  expect(root.kind).toBe(SERVER);
  expect(root.parentSpanId).toBe('');
  expect(root.traceId).not.toBe(clientTrace);
  expect(root.links).toEqual([{ traceId: clientTrace, spanId: clientSpan }]);
  expect(root.attributes['graphql.operation.name']).toBe('TracedPatients');
  expect(String(root.attributes['custodian.request_id'])).toMatch(/^[0-9a-f-]{36}$/);
  const trace = root.traceId;
  const inTrace = () => spans.filter((s) => s.traceId === trace);

  // A fetch span per subgraph fetch, each a child of the request's span; patients and labs both.
  const fetches = await waitFor('fetch spans to patients and labs', () => {
    const found = inTrace().filter((s) => s.name.startsWith('subgraph '));
    return ['patients', 'labs'].every((n) => found.some((f) => f.attributes['custodian.subgraph'] === n)) ? found : undefined;
  });
  for (const f of fetches) {
    expect([f.service, f.kind, f.parentSpanId]).toEqual(['custodian-gateway', CLIENT, root.spanId]);
  }

  // Each subgraph's request span is a child of the gateway's fetch span for it, and each fetch has one.
  const served = await waitFor('a subgraph span for every fetch', () => {
    const found = inTrace().filter((s) => s.kind === SERVER && s.service !== 'custodian-gateway');
    return found.length >= fetches.length ? found : undefined;
  });
  expect(served).toHaveLength(fetches.length);
  for (const s of served) {
    const parent = fetches.find((f) => f.spanId === s.parentSpanId);
    expect(parent).toBeDefined();
    expect(s.service).toBe(`custodian-${parent!.attributes['custodian.subgraph']}`);
    expect(s.attributes['custodian.subgraph']).toBe(parent!.attributes['custodian.subgraph']);
  }
  expect(new Set(fetches.map((f) => f.spanId)).size).toBe(fetches.length);
  expect(new Set(served.map((s) => s.parentSpanId)).size).toBe(served.length);

  // Consent decisions: batch spans under a subgraph span, with counts (no patient ids).
  const decide = await waitFor('consent.decide spans', () => {
    const found = inTrace().filter((s) => s.name === 'consent.decide');
    return found.length ? found : undefined;
  });
  for (const d of decide) {
    const parent = served.find((s) => s.spanId === d.parentSpanId);
    expect(parent).toBeDefined();
    expect(d.service).toBe(parent!.service);
    expect(d.attributes['custodian.consent.patients']).toBeGreaterThan(0);
    expect(Object.keys(d.attributes).filter((k) => /patient_?id/i.test(k))).toEqual([]);
  }
  expect(new Set(decide.map((d) => d.service))).toEqual(new Set(['custodian-patients', 'custodian-labs']));

  // The outbox write of each subgraph's decisions, under its request span.
  const writes = await waitFor('outbox.write spans', () => {
    const found = inTrace().filter((s) => s.name === 'outbox.write');
    return new Set(found.map((w) => w.service)).size >= 2 ? found : undefined;
  });
  for (const w of writes) {
    const parent = served.find((s) => s.spanId === w.parentSpanId);
    expect(parent).toBeDefined();
    expect(w.service).toBe(parent!.service);
    expect(Number(w.attributes['custodian.consent.permit']) + Number(w.attributes['custodian.consent.deny'])).toBe(w.attributes['custodian.outbox.events']);
  }

  // The ledger worker's append, once it has appended, continues each outbox write.
  const appends = await waitFor('ledger.append spans for every outbox write', () => {
    const found = inTrace().filter((s) => s.name === 'ledger.append');
    return writes.every((w) => found.some((a) => a.parentSpanId === w.spanId)) ? found : undefined;
  });
  for (const a of appends) {
    expect([a.service, a.kind]).toEqual(['custodian-ledger', CONSUMER]);
    const write = writes.find((w) => w.spanId === a.parentSpanId)!;
    expect(a.attributes['custodian.ledger.events']).toBe(write.attributes['custodian.outbox.events']);
  }

  // The trace context went beside the events, never into them: no leaf holds this trace id.
  const ledger = await openDatabase(LEDGER_DATABASE, hub.database.env);
  try {
    const leaves = await ledger.getRepository(LedgerLeaf).find();
    expect(leaves.length).toBeGreaterThan(0);
    expect(leaves.filter((l) => l.leafData.includes(trace) || /traceparent/i.test(l.leafData))).toEqual([]);
  } finally {
    await ledger.destroy();
  }
}, 90_000);

test('the outbox rows of a traced request record its outbox.write span', async () => {
  await gql(`${hub.gateway}/graphql`, 'query OutboxRows { patients(first: 1) { nodes { id } } }', undefined, clinician);
  const patients = await openDatabase({ name: 'patients', entities: [OutboxEvent], migrations: [] }, hub.database.env);
  try {
    const write = await waitFor('the outbox.write span', () => {
      const root = spans.find((s) => s.name === 'graphql OutboxRows');
      return root && spans.find((s) => s.traceId === root.traceId && s.name === 'outbox.write');
    });
    const rows = await patients.getRepository(OutboxEvent).find();
    const ours = rows.filter((r) => r.traceparent?.includes(write.traceId));
    expect(ours.length).toBe(write.attributes['custodian.outbox.events']);
    for (const r of ours) {
      expect(r.traceparent).toBe(`00-${write.traceId}-${write.spanId}-01`);
      expect(r.payload).not.toContain(write.traceId);
    }
  } finally {
    await patients.destroy();
  }
}, 60_000);

test('a subgraph refuses a request that is not from the gateway, and starts no span for its traceparent', async () => {
  const forged = randomBytes(16).toString('hex');
  const res = await fetch(hub.subgraphs.patients, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${forged}-${randomBytes(8).toString('hex')}-01` },
    body: JSON.stringify({ query: '{ patients(first: 1) { nodes { id } } }' }),
  });
  expect(res.status).toBe(401);
  // The patients process exports its spans in the order they end: once a later request's
  // span from it has arrived, a span for the refused one would have too.
  await gql(`${hub.gateway}/graphql`, 'query AfterForged { patients(first: 1) { nodes { id } } }', undefined, clinician);
  const after = await waitFor('the next request’s subgraph span', () => {
    const root = spans.find((s) => s.name === 'graphql AfterForged');
    return root && spans.find((s) => s.traceId === root.traceId && s.service === 'custodian-patients' && s.kind === SERVER);
  });
  expect(after).toBeDefined();
  expect(spans.filter((s) => s.traceId === forged)).toEqual([]);
  expect(posts).toBeGreaterThan(0);
}, 60_000);
