/**
 * Hostile traffic, part 2: what every listener answers to bad HTTP, and what every
 * response carries. Malformed JSON, oversized bodies and unknown routes get JSON with a
 * code on the gateway, /accounts/graphql, /auth, each subgraph and the operator listener
 * — never Express's HTML page, a stack trace or a path. Security headers on every
 * response; no-store on token answers; HSTS only over https; /metrics and the detailed
 * health only for operators; introspection off in production unless asked for.
 */
import { SUBGRAPH_NAMES } from '../../../common/config';
import { gql } from '../../support/graphql';
import { startGatewayHub, type GatewayHub } from '../../support/gateway-hub';

let hub: GatewayHub;
let auth: Record<string, string>;

beforeAll(async () => {
  hub = await startGatewayHub({ env: { METRICS_PORT: 0 } });
  auth = { authorization: `Bearer ${(await hub.token({ role: 'clinician' })).token}` };
}, 120_000);
afterEach(async () => hub?.closeExtraGateways());
afterAll(async () => {
  await hub?.close();
});


async function send(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : undefined };
}

const postRaw = (url: string, body: string, headers: Record<string, string> = {}) =>
  send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

/** The code of either error shape: GraphQL `{errors: [...]}` or `{error: {code}}`. */
const codeOf = (json: any): string | undefined => json?.errors?.[0]?.extensions?.code ?? json?.error?.code;

function expectCleanJson(res: Awaited<ReturnType<typeof send>>, status: number, code: string) {
  expect([res.status, codeOf(res.json)]).toEqual([status, code]);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.text).not.toMatch(/<html|<pre|stack|node_modules|\/work\/|at \w+ \(/i);
}

describe('every listener answers bad requests with JSON and a code', () => {
  const graphqlEndpoints = () => [
    { name: 'gateway /graphql', url: `${hub.gateway.url}/graphql`, limit: 1_048_576 },
    { name: '/accounts/graphql', url: `${hub.gateway.url}/accounts/graphql`, limit: 1_048_576 },
    ...SUBGRAPH_NAMES.map((n) => ({ name: `${n} subgraph`, url: hub.subgraphs[n].url, limit: 4 * 1_048_576 })),
  ];

  test('malformed JSON: 400 MALFORMED_JSON, unauthenticated or not', async () => {
    for (const { url } of graphqlEndpoints()) {
      expectCleanJson(await postRaw(url, '{"query": "{ me { id } }"'), 400, 'MALFORMED_JSON');
      expectCleanJson(await postRaw(url, '{"query": ', auth), 400, 'MALFORMED_JSON');
    }
    expectCleanJson(await postRaw(`${hub.gateway.url}/auth/webauthn/login/options`, '{"username":'), 400, 'BAD_USER_INPUT'); // extensions.reason INVALID_REQUEST
  });

  test('a body over the limit: 413 PAYLOAD_TOO_LARGE, not a stack trace or a 500', async () => {
    for (const { url, limit } of graphqlEndpoints()) {
      const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(limit) } });
      expectCleanJson(await postRaw(url, body, auth), 413, 'PAYLOAD_TOO_LARGE');
    }
    // /auth reads 64 kB at most.
    const auth64 = JSON.stringify({ username: 'x'.repeat(70_000) });
    expectCleanJson(await postRaw(`${hub.gateway.url}/auth/webauthn/login/options`, auth64), 413, 'PAYLOAD_TOO_LARGE');
  });

  test('an unknown route: 404 NOT_FOUND on the gateway, each subgraph and the operator listener', async () => {
    const urls = [
      `${hub.gateway.url}/nowhere`,
      `${hub.gateway.url}/auth/nowhere`,
      `${hub.gateway.url}/ledger/nowhere`,
      ...SUBGRAPH_NAMES.map((n) => hub.subgraphs[n].url.replace(/\/graphql$/, '/nowhere')),
      `${hub.gateway.operatorUrl}/nowhere`,
    ];
    for (const url of urls) expectCleanJson(await send(url), 404, 'NOT_FOUND');
  });

  test('a GraphQL request that is not JSON, or has no query, is a typed 400', async () => {
    const plain = await send(`${hub.gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain', ...auth }, body: '{ me { id } }' });
    expect(plain.status).toBe(400);
    expect(codeOf(plain.json)).toBe('BAD_REQUEST');
    // No HTML landing page either, even for a browser.
    const page = await send(`${hub.gateway.url}/graphql`, { headers: { accept: 'text/html', ...auth } });
    expect(page.text).not.toMatch(/<html/i);
  });
});

describe('headers on every response', () => {
  test('nosniff and Referrer-Policy everywhere; no-store on token and data answers', async () => {
    const responses = [
      await send(`${hub.gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ query: '{ me { id } }' }) }),
      await postRaw(`${hub.gateway.url}/graphql`, '{"query":"{ me { id } }"}'),
      await postRaw(`${hub.gateway.url}/auth/webauthn/login/options`, '{}'),
      await postRaw(`${hub.gateway.url}/auth/refresh`, '{"refreshToken":"rt_nope"}'),
      await send(`${hub.gateway.url}/ledger/checkpoint`),
      await send(`${hub.gateway.url}/healthz`),
      await send(`${hub.gateway.url}/`),
      await send(`${hub.gateway.url}/nowhere`),
      await postRaw(hub.subgraphs.labs.url, '{"query":"{ __typename }"}'),
      await send(`${hub.gateway.operatorUrl}/healthz`),
    ];
    for (const res of responses) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toBeNull(); // ORIGIN is http here
    }
    for (const res of responses.slice(0, 4)) expect(res.headers.get('cache-control')).toBe('no-store');
    // The web page keeps its own Content-Security-Policy; API answers load nothing.
    expect(responses[6]!.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(responses[0]!.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
  });

  test('HSTS when ORIGIN is https', async () => {
    const secure = await hub.gatewayWith({ ORIGIN: 'https://hub.example.org' });
    const res = await send(`${secure.url}/healthz`);
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
  });
});

describe('what is exposed', () => {
  test('public /healthz says up or down and nothing else; the detail is on the operator listener', async () => {
    const pub = await send(`${hub.gateway.url}/healthz`);
    expect([pub.status, pub.json]).toEqual([200, { status: 'up' }]);
    const detail = await send(`${hub.gateway.operatorUrl}/healthz`);
    expect(detail.json.status).toBe('up');
    expect(Object.keys(detail.json.subgraphs).sort()).toEqual([...SUBGRAPH_NAMES].sort());
    const subgraph = await send(hub.subgraphs.labs.url.replace(/\/graphql$/, '/healthz'));
    expect(subgraph.json).toEqual({ status: 'up' });
  });

  test('/metrics: on the loopback operator listener, not on the public one', async () => {
    expect(new URL(hub.gateway.operatorUrl!).hostname).toBe('127.0.0.1');
    const metrics = await send(`${hub.gateway.operatorUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('custodian_gateway_subgraph_requests_total');
    expectCleanJson(await send(`${hub.gateway.url}/metrics`), 404, 'NOT_FOUND');
  });

  test('/metrics with METRICS_TOKEN: on the main listener, for the token holder only', async () => {
    const token = 'operator-token-0123456789';
    const g = await hub.gatewayWith({ METRICS_TOKEN: token });
    expectCleanJson(await send(`${g.url}/metrics`), 401, 'UNAUTHENTICATED');
    expectCleanJson(await send(`${g.url}/metrics`, { headers: { authorization: 'Bearer operator-token-wrong-000' } }), 401, 'UNAUTHENTICATED');
    const ok = await send(`${g.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('process_cpu_seconds_total');
    const detail = await send(`${g.url}/healthz`, { headers: { authorization: `Bearer ${token}` } });
    expect(detail.json.subgraphs).toBeDefined();
  });

  test('introspection: off in production unless INTROSPECTION=on', async () => {
    const introspect = (url: string) => gql(`${url}/graphql`, '{ __schema { queryType { name } } }', undefined, auth);
    expect((await introspect(hub.gateway.url)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const production = await hub.gatewayWith({ NODE_ENV: 'production' });
    const refused = await introspect(production.url);
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(refused.data ?? null).toBeNull();
    const opted = await hub.gatewayWith({ NODE_ENV: 'production', INTROSPECTION: 'on' });
    expect((await introspect(opted.url)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});
