/**
 * What a GraphQL client (a codegen'd app, a research portal in a browser) gets from the
 * gateway, over real HTTP on a seeded hub: Relay paging both ways through every kind of
 * connection, one bad alias costing only its own field, compressed answers when asked,
 * CORS for listed origins only, and /auth refusals in GraphQL's error shape.
 */
import http from 'node:http';
import zlib from 'node:zlib';
import { codes, gql, ok } from '../support/graphql';
import { startGatewayHub, type GatewayHub } from '../support/gateway-hub';

const PORTAL = 'https://portal.example.org';

let hub: GatewayHub;
let clinician: Record<string, string>;
let researcher: Record<string, string>;
const graphql = () => `${hub.gateway.url}/graphql`;

beforeAll(async () => {
  hub = await startGatewayHub({ patients: 30, env: { CORS_ORIGINS: [PORTAL] } });
  clinician = { authorization: `Bearer ${(await hub.token({ role: 'clinician' })).token}` };
  researcher = { authorization: `Bearer ${(await hub.token({ role: 'researcher' })).token}` };
}, 180_000);
afterEach(async () => hub?.closeExtraGateways());
afterAll(async () => {
  await hub?.close();
});

/** A raw HTTP exchange: fetch would decompress and hide Content-Encoding. */
function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

describe('Relay paging through the gateway', () => {
  const PATIENTS = `query($first: Int, $after: String, $last: Int, $before: String) {
    patients(first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }
    } }`;
  const patients = async (args: Record<string, unknown>) =>
    ok(await gql<{ patients: { totalCount: number; pageInfo: PageInfo; edges: { cursor: string; node: { id: string } }[] } }>(graphql(), PATIENTS, args, clinician)).patients;

  test('patients: last/before walks back over exactly what first/after walks forward, totals unchanged', async () => {
    const all = await patients({ first: 100 });
    expect(all.totalCount).toBeGreaterThan(5);
    const ids = all.edges.map((e) => e.node.id);
    const back: string[][] = [];
    let before: string | null = null;
    for (let i = 0; i < 50; i++) {
      const page = await patients({ last: 4, before });
      expect(page.totalCount).toBe(all.totalCount);
      expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      back.unshift(page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(back.flat()).toEqual(ids);
    const lastTwo = await patients({ last: 2 });
    expect(lastTwo.edges.map((e) => e.node.id)).toEqual(ids.slice(-2));
    expect(lastTwo.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  test('an empty page: null cursors', async () => {
    const first = await patients({ first: 1 });
    const page = await patients({ last: 3, before: first.pageInfo.startCursor });
    expect(page.edges).toEqual([]);
    expect(page.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null });
  });

  test('nested connections of many parents page backwards in one query each (labResults)', async () => {
    const LABS = `query($last: Int, $first: Int, $before: String) { patients(first: 5) { nodes { id labResults(first: $first, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } } } }`;
    type Labs = { patients: { nodes: { id: string; labResults: { totalCount: number; pageInfo: PageInfo; nodes: { id: string }[] } }[] } };
    const forward = ok(await gql<Labs>(graphql(), LABS, { first: 100 }, clinician)).patients.nodes;
    const backward = ok(await gql<Labs>(graphql(), LABS, { last: 3 }, clinician)).patients.nodes;
    expect(forward.some((p) => p.labResults.totalCount > 3)).toBe(true);
    for (const [i, p] of backward.entries()) {
      const all = forward[i]!.labResults;
      expect(p.labResults.totalCount).toBe(all.totalCount);
      expect(p.labResults.nodes.map((n) => n.id)).toEqual(all.nodes.slice(-3).map((n) => n.id));
      expect(p.labResults.pageInfo.hasPreviousPage).toBe(all.totalCount > 3);
    }
  });

  test('first and last together: BAD_USER_INPUT at that field only', async () => {
    const res = await gql(graphql(), '{ good: patients(first: 1) { totalCount } bad: patients(first: 1, last: 1) { totalCount } }', {}, clinician);
    expect(res.data).toEqual({ good: { totalCount: expect.any(Number) }, bad: null });
    expect(res.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['bad'], 'BAD_USER_INPUT']]);
  });
});

describe('one bad alias costs only its own field', () => {
  test("a cohortSummary the caller may not ask for, next to one they may", async () => {
    const projects = ok(await gql<{ researchProjects: { nodes: { id: string; viewerIsMember: boolean }[] } }>(graphql(), '{ researchProjects(first: 100) { nodes { id viewerIsMember } } }', {}, researcher)).researchProjects.nodes;
    const mine = projects.find((p) => p.viewerIsMember);
    const theirs = projects.find((p) => !p.viewerIsMember);
    expect(mine && theirs).toBeTruthy();
    const res = await gql(
      graphql(),
      `query($mine: ID!, $theirs: ID!) {
        good: cohortSummary(projectId: $mine, loinc: "4548-4") { projectId suppressed }
        bad: cohortSummary(projectId: $theirs, loinc: "4548-4") { projectId suppressed }
      }`,
      { mine: mine!.id, theirs: theirs!.id },
      researcher,
    );
    expect(res.data?.good).toEqual({ projectId: mine!.id, suppressed: expect.any(Boolean) });
    expect(res.data?.bad).toBeNull();
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const e of res.errors!) expect([e.path?.[0], e.extensions?.code]).toEqual(['bad', 'FORBIDDEN']);
  });

  test('a refused audit trail next to a permitted read', async () => {
    const res = await gql(graphql(), '{ institutions { id } auditTrail(first: 1) { nodes { id } } }', {}, clinician);
    expect(res.data?.institutions.length).toBeGreaterThan(0);
    expect(res.data?.auditTrail).toBeNull();
    expect(codes(res)).toEqual(['FORBIDDEN']);
    expect(res.errors![0]!.path).toEqual(['auditTrail']);
  });
});

describe('compression', () => {
  const body = JSON.stringify({ query: '{ patients(first: 30) { nodes { id name { text given family } birthDate sex identifiers { system value } } } }' });
  const post = (headers: Record<string, string>) => raw(graphql(), { method: 'POST', headers: { 'content-type': 'application/json', ...clinician, ...headers }, body });

  test('gzip when the client accepts it, the same JSON once gunzipped; identity when it does not', async () => {
    const plain = await post({});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(2048);
    const zipped = await post({ 'accept-encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/accept-encoding/i);
    const unzipped = zlib.gunzipSync(zipped.body);
    expect(zipped.body.length).toBeLessThan(unzipped.length / 2);
    expect(JSON.parse(unzipped.toString('utf8'))).toEqual(JSON.parse(plain.body.toString('utf8')));
  });

  test('the portal compresses too; tiny bodies and /auth do not', async () => {
    const js = await raw(`${hub.gateway.url}/app/js/api.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect([js.status, js.headers['content-encoding']]).toEqual([200, 'gzip']);
    const health = await raw(`${hub.gateway.url}/healthz`, { headers: { 'accept-encoding': 'gzip' } });
    expect(health.headers['content-encoding']).toBeUndefined();
    const auth = await raw(`${hub.gateway.url}/auth/webauthn/login/options`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' },
      body: JSON.stringify({ username: 'x'.repeat(60) }),
    });
    expect(auth.headers['content-encoding']).toBeUndefined();
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    raw(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-purpose-of-use' },
    });
  const postFrom = (url: string, origin: string, headers: Record<string, string> = clinician) =>
    raw(url, { method: 'POST', headers: { origin, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ me { id } }' }) });

  test('a listed origin: its preflight is answered, and it may read answers (refusals too)', async () => {
    const pre = await preflight(graphql(), PORTAL);
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(pre.headers['access-control-allow-methods']?.split(',')).toEqual(['GET', 'POST', 'OPTIONS']);
    expect(pre.headers['access-control-allow-headers']).toMatch(/authorization.*content-type.*x-purpose-of-use/);
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const res = await postFrom(graphql(), PORTAL);
    expect([res.status, res.headers['access-control-allow-origin']]).toEqual([200, PORTAL]);
    expect(res.headers['access-control-expose-headers']).toMatch(/x-request-id/);
    const refused = await postFrom(graphql(), PORTAL, {});
    expect([refused.status, refused.headers['access-control-allow-origin']]).toEqual([401, PORTAL]);
    // The FHIR API's path prefix is covered, whatever serves it.
    expect((await preflight(`${hub.gateway.url}/fhir/R4/Patient`, PORTAL)).headers['access-control-allow-origin']).toBe(PORTAL);
  });

  test('an unlisted origin gets no Access-Control-Allow-Origin: the browser refuses', async () => {
    for (const origin of ['https://evil.example', `${PORTAL}:8443`, 'http://portal.example.org', 'null']) {
      expect((await preflight(graphql(), origin)).headers['access-control-allow-origin']).toBeUndefined();
      expect((await postFrom(graphql(), origin)).headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  test('other paths never answer cross-origin', async () => {
    expect((await preflight(`${hub.gateway.url}/auth/webauthn/login/options`, PORTAL)).headers['access-control-allow-origin']).toBeUndefined();
    expect((await raw(`${hub.gateway.url}/ledger/checkpoint`, { headers: { origin: PORTAL } })).headers['access-control-allow-origin']).toBeUndefined();
  });

  test('by default (CORS_ORIGINS empty) no origin is allowed', async () => {
    const gateway = await hub.gatewayWith({ CORS_ORIGINS: [] });
    for (const origin of [PORTAL, 'https://evil.example']) {
      expect((await preflight(`${gateway.url}/graphql`, origin)).headers['access-control-allow-origin']).toBeUndefined();
      const res = await postFrom(`${gateway.url}/graphql`, origin);
      expect(res.status).toBe(200); // same-origin rules are the browser's: the server still answers
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('/auth refusals in the GraphQL error shape', () => {
  const post = async (path: string, body: string) => {
    const res = await fetch(`${hub.gateway.url}/auth${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, json: (await res.json()) as any };
  };

  test.each([
    ['an unknown enrolment code', '/webauthn/register/options', JSON.stringify({ code: 'AAAAA-BBBBB-CCCCC-DDDDD', username: 'someone' }), 401, 'UNAUTHENTICATED', 'UNKNOWN_CODE'],
    ['a body that is not JSON', '/webauthn/login/options', '{"username":', 400, 'BAD_USER_INPUT', 'INVALID_REQUEST'],
    ['a malformed refresh token', '/refresh', JSON.stringify({ refreshToken: 'nope' }), 400, 'BAD_USER_INPUT', 'INVALID_REFRESH_TOKEN'],
    ['an ended session', '/refresh', JSON.stringify({ refreshToken: `rt_ses_${'0'.repeat(20)}_${'a'.repeat(43)}` }), 401, 'UNAUTHENTICATED', 'SESSION_ENDED'],
    ['an unknown route', '/nowhere', '{}', 404, 'NOT_FOUND', undefined],
  ])('%s', async (_why, path, body, status, code, reason) => {
    const res = await post(path, body);
    expect(res.status).toBe(status);
    const [error] = res.json.errors;
    expect(error.extensions.code).toBe(code);
    if (reason) expect(error.extensions.reason).toBe(reason);
    expect(typeof error.message).toBe('string');
    // The older shape, deprecated, still beside it for one release.
    expect(res.json.error).toEqual({ code: error.extensions.reason ?? error.extensions.code, message: error.message });
  });
});
