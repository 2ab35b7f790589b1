/**
 * Hostile traffic, part 4: requests that take too long or bring back too much. Each
 * request has a deadline (REQUEST_TIMEOUT_MS) that cancels its subgraph fetches, each
 * fetch its own timeout (SUBGRAPH_TIMEOUT_MS), and the subgraphs' answers to one request
 * may add up to MAX_RESPONSE_BYTES: past it the request is cut off with a typed error.
 *
 * A subgraph that never answers is a real HTTP server here that accepts the request and
 * says nothing; it sees the gateway hang up when the fetch is cancelled.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gql } from '../../support/graphql';
import { startGatewayHub, type GatewayHub } from '../../support/gateway-hub';

let hub: GatewayHub;
let auth: Record<string, string>;
let silent: http.Server;
let silentUrl: string;
/** Requests the silent subgraph received, and how many of them the gateway hung up on. */
let received = 0;
const hangUps: number[] = [];

beforeAll(async () => {
  hub = await startGatewayHub();
  auth = { authorization: `Bearer ${(await hub.token({ role: 'clinician' })).token}` };
  silent = http.createServer((req) => {
    received++;
    req.socket.once('close', () => hangUps.push(Date.now()));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/graphql`;
}, 120_000);
afterEach(async () => hub?.closeExtraGateways());
afterAll(async () => {
  silent?.closeAllConnections();
  await new Promise((resolve) => silent?.close(resolve));
  await hub?.close();
});


const WITH_LABS = '{ patients(first: 2) { nodes { id labResults(first: 1) { totalCount } } } }';

test('past REQUEST_TIMEOUT_MS the request answers 504 REQUEST_TIMEOUT, and its subgraph fetches are cancelled', async () => {
  const g = await hub.gatewayWith({ REQUEST_TIMEOUT_MS: 1500 }, { labs: silentUrl });
  const query = '{ labResult(id: "lab_1") { id value } }';
  // Once first, so that the plan is cached: on a loaded machine, planning a new operation
  // can use up the 1.5 s before the fetch is sent, and then there is no fetch to cancel.
  await gql(`${g.url}/graphql`, query, undefined, auth);
  for (let i = 0; i < 50 && hangUps.length < received; i++) await new Promise((r) => setTimeout(r, 100));
  const before = { received, hangUps: hangUps.length };
  // A root field of the labs subgraph: its fetch is the first thing the plan does. The
  // silent subgraph never answers, so only the deadline can end this request.
  const res = await gql(`${g.url}/graphql`, query, undefined, auth);
  expect(res.status).toBe(504);
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toEqual([
    { message: expect.stringMatching(/REQUEST_TIMEOUT_MS=1500/), extensions: { code: 'REQUEST_TIMEOUT', max: 1500, setting: 'REQUEST_TIMEOUT_MS' } },
  ]);
  // The fetch to the silent subgraph was sent, then aborted: the gateway closed its connection.
  expect(received).toBe(before.received + 1);
  for (let i = 0; i < 50 && hangUps.length === before.hangUps; i++) await new Promise((r) => setTimeout(r, 100));
  expect(hangUps.length).toBe(before.hangUps + 1);
});

test('a subgraph slower than SUBGRAPH_TIMEOUT_MS fails its own part with SUBGRAPH_TIMEOUT; the rest is answered', async () => {
  // Long enough for the real subgraphs on a busy machine; the silent one never answers.
  const g = await hub.gatewayWith({ REQUEST_TIMEOUT_MS: 30_000, SUBGRAPH_TIMEOUT_MS: 3_000 }, { labs: silentUrl });
  const res = await gql(`${g.url}/graphql`, WITH_LABS, undefined, auth);
  expect(res.status).toBe(200);
  expect(res.data.patients.nodes).toHaveLength(2);
  expect(res.data.patients.nodes.every((p: { labResults: unknown }) => p.labResults === null)).toBe(true);
  expect(res.errors?.map((e) => e.extensions)).toContainEqual({ code: 'SUBGRAPH_TIMEOUT', max: 3000, setting: 'SUBGRAPH_TIMEOUT_MS', serviceName: 'labs' });
});

test('an answer over MAX_RESPONSE_BYTES is cut off with RESPONSE_TOO_LARGE, not assembled', async () => {
  const g = await hub.gatewayWith({ MAX_RESPONSE_BYTES: 4_000 });
  const big = '{ patients(first: 30) { nodes { id name { text } identifiers { system value } labResults(first: 20) { nodes { id value unit code { code display } } } } } }';
  const res = await gql(`${g.url}/graphql`, big, undefined, auth);
  expect(res.status).toBe(400);
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toEqual([
    { message: expect.stringMatching(/MAX_RESPONSE_BYTES=4000/), extensions: { code: 'RESPONSE_TOO_LARGE', max: 4000, setting: 'MAX_RESPONSE_BYTES' } },
  ]);
  // The same gateway still answers what fits.
  const small = await gql(`${g.url}/graphql`, '{ patients(first: 1) { nodes { id } } }', undefined, auth);
  expect(small.errors).toBeUndefined();
  expect(small.data.patients.nodes).toHaveLength(1);
});
