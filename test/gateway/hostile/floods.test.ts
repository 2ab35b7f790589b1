/**
 * Hostile traffic, part 3: floods. Limits live in Redis, per principal for GraphQL and per
 * client address for what anyone may call; over the limit is a 429 with Retry-After and a
 * typed body. X-Forwarded-For counts only when TRUST_PROXY says so. With Redis down the
 * limits fall back to per-process memory and the hub keeps serving.
 *
 * The hub here trusts a proxy on loopback, so each test floods from its own address
 * (documentation range 203.0.113.0/24) with a budget of its own.
 */
import { freePort } from '../../../common/ports';
import { Challenge } from '../../../gateway/identity/entities';
import { gql } from '../../support/graphql';
import { startGatewayHub, type GatewayHub } from '../../support/gateway-hub';

const AUTH_LIMIT = 10;
const GRAPHQL_LIMIT = 15;
const LEDGER_LIMIT = 10;

let hub: GatewayHub;

beforeAll(async () => {
  hub = await startGatewayHub({
    env: { TRUST_PROXY: ['loopback'], RATE_LIMIT_AUTH_PER_MINUTE: AUTH_LIMIT, RATE_LIMIT_GRAPHQL_PER_MINUTE: GRAPHQL_LIMIT, RATE_LIMIT_LEDGER_PER_MINUTE: LEDGER_LIMIT },
  });
}, 120_000);
afterEach(async () => hub?.closeExtraGateways());
afterAll(async () => {
  await hub?.close();
});


async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as any };
}

/** `n` requests in a row; their statuses. */
async function flood(n: number, send: () => Promise<{ status: number }>): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await send()).status);
  return statuses;
}

const from = (address: string) => ({ 'x-forwarded-for': address });

function expectRefusal(res: { status: number; retryAfter: string | null; body: any }, shape: 'plain' | 'graphql' | 'auth') {
  expect(res.status).toBe(429);
  const seconds = Number(res.retryAfter);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(60);
  // /auth answers GraphQL's shape, with the older `error` object beside it for one release.
  const shapes = { plain: [res.body.error], graphql: [res.body.errors?.[0]?.extensions], auth: [res.body.errors?.[0]?.extensions, res.body.error] }[shape];
  for (const error of shapes) {
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.retryAfterSeconds).toBe(seconds);
  }
}

test('a login/options flood gets 429 past the limit, and leaves no stored challenge behind', async () => {
  const repo = hub.gateway.db.getRepository(Challenge);
  const before = await repo.count();
  const url = `${hub.gateway.url}/auth/webauthn/login/options`;
  const statuses = await flood(AUTH_LIMIT + 15, () => post(url, { username: `nobody${Math.random()}` }, from('203.0.113.1')));
  expect(statuses).toEqual([...Array(AUTH_LIMIT).fill(200), ...Array(15).fill(429)]);
  expectRefusal(await post(url, {}, from('203.0.113.1')), 'auth');
  expect(await repo.count()).toBe(before);
  // Another address is not affected.
  expect((await post(url, {}, from('203.0.113.99'))).status).toBe(200);
});

test('enrolment-code guessing gets 429 past the limit', async () => {
  const url = `${hub.gateway.url}/auth/webauthn/register/options`;
  const statuses = await flood(AUTH_LIMIT + 5, () => post(url, { code: 'AAAAA-BBBBB-CCCCC-DDDDD', username: 'guesser' }, from('203.0.113.2')));
  expect(statuses).toEqual([...Array(AUTH_LIMIT).fill(401), ...Array(5).fill(429)]);
});

test('the public ledger endpoints are limited per address', async () => {
  const get = () => fetch(`${hub.gateway.url}/ledger/checkpoints`, { headers: from('203.0.113.3') }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() }));
  const statuses = await flood(LEDGER_LIMIT + 3, get);
  expect(statuses.slice(0, LEDGER_LIMIT).every((s) => s !== 429)).toBe(true);
  expect(statuses.slice(LEDGER_LIMIT)).toEqual([429, 429, 429]);
  expectRefusal(await get(), 'plain');
});

test('GraphQL is limited per principal: one account flooding does not slow down another', async () => {
  const flooder = { authorization: `Bearer ${(await hub.token({ role: 'clinician' })).token}` };
  const bystander = { authorization: `Bearer ${(await hub.token({ role: 'patient' })).token}` };
  const me = (headers: Record<string, string>) => gql(`${hub.gateway.url}/graphql`, '{ me { username } }', undefined, headers);
  // From many addresses: the budget is the account's, wherever it comes from.
  let i = 0;
  const statuses = await flood(GRAPHQL_LIMIT + 5, () => me({ ...flooder, ...from(`203.0.113.${100 + (i++ % 50)}`) }));
  expect(statuses).toEqual([...Array(GRAPHQL_LIMIT).fill(200), ...Array(5).fill(429)]);
  const res = await fetch(`${hub.gateway.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...flooder }, body: '{"query":"{ me { username } }"}' });
  expectRefusal({ status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() }, 'graphql');
  expect((await me(bystander)).status).toBe(200);
});

test('failed sign-ins at /graphql count against the address, like guesses at /auth', async () => {
  const statuses = await flood(AUTH_LIMIT + 3, () => gql(`${hub.gateway.url}/graphql`, '{ me { username } }', undefined, { authorization: 'Bearer cus_tok_guess', ...from('203.0.113.4') }));
  expect(statuses).toEqual([...Array(AUTH_LIMIT).fill(401), 429, 429, 429]);
});

test('without TRUST_PROXY, X-Forwarded-For is not believed: a new header buys no new budget', async () => {
  const direct = await hub.gatewayWith({ TRUST_PROXY: false, RATE_LIMIT_AUTH_PER_MINUTE: AUTH_LIMIT });
  const url = `${direct.url}/auth/webauthn/login/options`;
  let i = 0;
  const statuses = await flood(AUTH_LIMIT + 2, () => post(url, {}, from(`198.51.100.${i++}`)));
  expect(statuses).toEqual([...Array(AUTH_LIMIT).fill(200), 429, 429]);
});

test('with Redis down, limits fall back to this process: requests are served up to the limit, then refused', async () => {
  const noRedis = await hub.gatewayWith({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, RATE_LIMIT_AUTH_PER_MINUTE: 5, RATE_LIMIT_GRAPHQL_PER_MINUTE: 5 });
  const statuses = await flood(8, () => post(`${noRedis.url}/auth/webauthn/login/options`, {}));
  expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
  const token = { authorization: `Bearer ${(await hub.token({ role: 'researcher' })).token}` };
  const graphqlStatuses = await flood(6, () => gql(`${noRedis.url}/graphql`, '{ me { username } }', undefined, token));
  expect(graphqlStatuses).toEqual([200, 200, 200, 200, 200, 429]);
});
