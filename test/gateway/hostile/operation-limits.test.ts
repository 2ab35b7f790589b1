/**
 * Hostile traffic, part 1: operations too big to run. Each attack is sent over HTTP to
 * the real gateway in front of the real subgraphs, and must be refused with
 * QUERY_TOO_COMPLEX (or OPERATION_NOT_SUPPORTED) naming the limit, the value measured and
 * the setting — before any subgraph is called and before any access decision is recorded.
 */
import { OutboxEvent } from '../../../ledger/pipeline/outbox';
import { subgraphRequests } from '../../../gateway/runtime/bounded-fetch';
import { SUBGRAPH_NAMES } from '../../../common/config';
import { codes, gql, ok, type GraphQLResponse } from '../../support/graphql';
import { startGatewayHub, type GatewayHub } from '../../support/gateway-hub';

let hub: GatewayHub;
let auth: Record<string, string>;

beforeAll(async () => {
  hub = await startGatewayHub();
  auth = { authorization: `Bearer ${(await hub.token({ role: 'clinician' })).token}` };
}, 120_000);
afterAll(async () => hub?.close());

const graphql = (query: string, variables?: Record<string, unknown>) => gql(`${hub.gateway.url}/graphql`, query, variables, auth);

async function sideEffects(): Promise<{ fetches: number; outbox: number }> {
  const fetches = (await subgraphRequests.get()).values.reduce((n, v) => n + v.value, 0);
  let outbox = 0;
  for (const name of SUBGRAPH_NAMES) outbox += await hub.subgraphs[name].db.getRepository(OutboxEvent).count();
  return { fetches, outbox };
}

/** Sends an attack; expects one refusal and no subgraph call, no recorded decision. */
async function refused(query: string, variables?: Record<string, unknown>): Promise<NonNullable<GraphQLResponse['errors']>[number]> {
  const before = await sideEffects();
  const res = await graphql(query, variables);
  expect(res.status).toBe(400);
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(await sideEffects()).toEqual(before);
  return res.errors![0]!;
}

const FAN_OUT = `{ patients(first: 100) { nodes { labResults(first: 100) { nodes { patient {
  labResults(first: 100) { nodes { value unit } } } } } } } }`;

test('the four-level fan-out is refused on its estimated cost, before planning', async () => {
  const error = await refused(FAN_OUT);
  // 1 root + 100 patients + 100 hops to labs + 100·100 results + 100·100·100 results.
  expect(error.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'cost', measured: 1_010_201, max: 50_000, setting: 'MAX_QUERY_COST' });
  expect(error.message).toMatch(/1010201.*50000.*MAX_QUERY_COST/);
});

test('the cost reads `first` from variables: the same shape passes with small pages and is refused with large ones', async () => {
  const query = `query($n: Int) { patients(first: $n) { nodes { labResults(first: $n) { nodes { patient { labResults(first: $n) { nodes { id } } } } } } } }`;
  expect((await refused(query, { n: 100 })).extensions).toMatchObject({ limit: 'cost', measured: 1_010_201 });
  const small = ok(await graphql(query, { n: 3 }));
  expect(small.patients.nodes.length).toBe(3);
  // Omitted, `first` is the schema's default (20), as the resolvers will use; the names
  // at the end are one more hop, to the patients subgraph, for every result.
  const defaults = `query($n: Int) { patients { nodes { labResults { nodes { patient { labResults(first: $n) { nodes { patient { name { text } } } } } } } } } }`;
  expect((await refused(defaults, { n: 100 })).extensions).toMatchObject({ limit: 'cost', measured: 1 + 20 + 20 + 20 * 20 + 2 * (20 * 20 * 100) });
});

test('the 500 aliases of patients(first: 100) are refused, and so is any operation over the alias limit', async () => {
  const attack = `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: patients(first: 100) { nodes { id name { text } } }`).join(' ')} }`;
  // So long a document stops the parser at the token limit already.
  expect((await refused(attack)).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'tokens', measured: null, max: 1000, setting: 'MAX_QUERY_TOKENS' });
  const sixteen = `{ institutions { ${Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(' ')} } }`;
  expect((await refused(sixteen)).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'aliases', measured: 16, max: 15, setting: 'MAX_QUERY_ALIASES' });
});

test('depth, root fields and directives each have their limit', async () => {
  const deep = '{ institutions { practitioners { institution { practitioners { institution { practitioners { institution { practitioners { institution { practitioners { id } } } } } } } } } } }';
  expect((await refused(deep)).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'depth', measured: 11, max: 10, setting: 'MAX_QUERY_DEPTH' });
  // Fragments do not hide depth.
  const viaFragments = `{ institutions { ...A } } fragment A on Institution { practitioners { institution { practitioners { institution { practitioners { institution { practitioners { institution { practitioners { id } } } } } } } } } }`;
  expect((await refused(viaFragments)).extensions).toMatchObject({ limit: 'depth', measured: 11 });

  const roots = `{ ${Array.from({ length: 16 }, () => 'institutions { id }').join(' ')} }`;
  expect((await refused(roots)).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'rootFields', measured: 16, max: 15, setting: 'MAX_QUERY_ROOT_FIELDS' });

  const directives = `{ institutions { ${Array.from({ length: 21 }, () => 'id @include(if: true)').join(' ')} } }`;
  expect((await refused(directives)).extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'directives', measured: 21, max: 20, setting: 'MAX_QUERY_DIRECTIVES' });
});

test('fragments spread inside fragments are refused on the fields they expand to, at once', async () => {
  // Each level doubles the fields: a few hundred tokens that the planner would expand to
  // 2^23 fields. The estimate itself prices each fragment once.
  const levels = 24;
  const fragments = Array.from({ length: levels }, (_, i) =>
    i === levels - 1 ? `fragment F${i} on Patient { id }` : `fragment F${i} on Patient { ...F${i + 1} ... on Patient { ...F${i + 1} } }`,
  ).join(' ');
  const started = Date.now();
  const error = await refused(`{ patients(first: 1) { nodes { ...F0 } } } ${fragments}`);
  expect(error.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'fields', measured: 2 + 2 ** 23, max: 2000, setting: 'MAX_QUERY_FIELDS' });
  expect(Date.now() - started).toBeLessThan(5_000);
});

test('a subscription is a typed 400, not a 500', async () => {
  const error = await refused('subscription { patients { totalCount } }');
  expect(error.extensions).toEqual({ code: 'OPERATION_NOT_SUPPORTED', operation: 'subscription' });
  expect(error.message).toMatch(/Subscriptions are not served/);
});

test('an impossible calendar date is refused, not rolled over into March', async () => {
  const res = await graphql('{ patients(first: 1) { nodes { labResults(since: "2026-02-30T00:00:00Z") { totalCount } } } }');
  expect(codes(res)).toEqual(['BAD_USER_INPUT']);
  expect(res.errors![0]!.message).toMatch(/2026-02-30/);
  const viaVariable = await graphql('query($s: DateTime) { patients(first: 1) { nodes { labResults(since: $s) { totalCount } } } }', { s: '2025-04-31T08:00:00+02:00' });
  expect(codes(viaVariable)).toEqual(['BAD_USER_INPUT']);
  // A real leap day passes.
  expect(codes(await graphql('{ patients(first: 1) { nodes { labResults(since: "2024-02-29T00:00:00Z") { totalCount } } } }'))).toEqual([]);
});

test('refusals carry no stack, path or internals', async () => {
  const res = await graphql(FAN_OUT);
  expect(JSON.stringify(res)).not.toMatch(/stacktrace|node_modules|\/work\/|at \w+ \(/);
});
