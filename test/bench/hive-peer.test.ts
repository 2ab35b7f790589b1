/**
 * The benchmark's Hive Gateway peer must send subgraphs what our gateway sends: an identity
 * token bound to the exact body of each subgraph request, which the subgraphs' own check
 * (verifyIdentity against the digest of what they received) accepts — and the caller's own
 * token to the accounts subgraph, which authenticates it itself. And the interleaved
 * slices must merge exactly.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { operationDigest, verifyIdentity, type Identity } from '../../common/signed-identity';
import { mergeRuns, percentile, type LoadResult } from '../../bench/load';
import { custodianIdentityPlugin } from '../../bench/peer/hive-gateway';

const identity: Identity = {
  subject: 'usr_1',
  role: 'clinician',
  institutionId: 'inst_1',
  patientId: null,
  practitionerId: 'prac_1',
  purpose: 'TREATMENT',
  scopes: ['read'],
  requestId: 'req-1',
};

function setup() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const session = generateKeyPairSync('ed25519');
  const plugin = custodianIdentityPlugin({
    db: {} as DataSource,
    sessionPublicKey: createPublicKey(session.privateKey),
    identityKey: privateKey,
    accountsUrl: 'http://127.0.0.1:4000/accounts/graphql',
  });
  const context = { custodian: { requestId: 'req-1', identity, principal: {}, authorization: 'Bearer cst_caller', purposeHeader: null } };
  const send = async (url: string, body: string, headers: Record<string, string> = { accept: 'application/json' }) => {
    let sent: { headers?: unknown } | undefined;
    await (plugin.onFetch as any)({ url, options: { method: 'POST', body, headers }, setOptions: (o: { headers?: unknown }) => (sent = o), context });
    return sent?.headers as Record<string, string>;
  };
  return { publicKey, send };
}

test('each subgraph request carries an identity bound to its exact body', async () => {
  const { publicKey, send } = setup();
  const query = 'query PatientView($representations:[_Any!]!){_entities(representations:$representations){__typename}}';
  const variables = { representations: [{ __typename: 'Patient', id: 'pat_1' }] };
  const body = JSON.stringify({ query, variables, operationName: 'PatientView' });
  const headers = await send('http://127.0.0.1:4002/graphql', body);
  expect(headers['accept']).toBe('application/json');
  expect(headers['x-request-id']).toBe('req-1');
  const token = /^Bearer (.+)$/.exec(headers['authorization']!)![1]!;
  const parsed = JSON.parse(body) as { query: string; variables: unknown };
  await expect(verifyIdentity(token, publicKey, operationDigest(parsed.query, parsed.variables))).resolves.toEqual(identity);
  // Not for any other operation.
  await expect(verifyIdentity(token, publicKey, operationDigest(query, { representations: [] }))).rejects.toThrow('another operation');
});

test("the accounts subgraph gets the caller's own token, nothing signed", async () => {
  const { send } = setup();
  const headers = await send('http://127.0.0.1:4000/accounts/graphql', JSON.stringify({ query: '{me{username}}' }));
  expect(headers['authorization']).toBe('Bearer cst_caller');
});

test('interleaved slices merge: requests over time, latencies exactly', () => {
  const run = (rps: number, seconds: number): LoadResult => ({
    name: 's', url: 'u', connections: 16, seconds, requests: rps * seconds, rps, p50: 0, p90: 0, p99: 0, errors: 0, non2xx: 1, graphqlErrors: 2,
  });
  const merged = mergeRuns('m', [run(100, 5), run(200, 5)], [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
  expect(merged).toMatchObject({ seconds: 10, requests: 1500, rps: 150, p50: 5, p90: 9, p99: 10, non2xx: 2, graphqlErrors: 4 });
  expect(percentile([], 50)).toBe(0);
  expect(percentile([7], 99)).toBe(7);
});
