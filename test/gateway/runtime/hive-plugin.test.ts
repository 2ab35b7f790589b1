/**
 * The Hive executor's plugin must send subgraphs what Apollo Gateway sends: an identity
 * token bound to the exact body of each subgraph request, which the subgraphs' own check
 * (verifyIdentity against the digest of what they received) accepts, with the gateway's
 * request id — and answer the accounts subgraph in process, with the caller's context.
 */
import { generateKeyPairSync } from 'node:crypto';
import { buildSchema } from 'graphql';
import type { DataSource } from 'typeorm';
import { operationDigest, verifyIdentity, type Identity } from '../../../common/signed-identity';
import { createLogger } from '../../../common/logger';
import type { GatewayContext } from '../../../gateway/runtime/context';
import { custodianPlugin } from '../../../gateway/runtime/hive/plugin';
import { RequestBudget } from '../../../gateway/runtime/limits/budget';
import { operationLimits } from '../../../gateway/runtime/limits/operation-limits';
import { singleService } from '../../../gateway/runtime/limits/ownership';
import { readEnv } from '../../../common/config';

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

const LABS = 'http://127.0.0.1:4002/graphql';
const ACCOUNTS = 'http://accounts.local/graphql';

function setup() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const accountsSchema = buildSchema('type Query { whoami: String }');
  const plugin = custodianPlugin({
    limits: operationLimits(readEnv({}), singleService),
    introspection: true,
    accountsSchema,
    services: new Map([
      [LABS, 'labs'],
      [ACCOUNTS, 'accounts'],
    ]),
    identityKey: privateKey,
    subgraphTimeoutMs: 1000,
    log: createLogger('test', 'silent'),
  });
  const context: GatewayContext = {
    requestId: 'req-1',
    identity,
    principal: { user: {} as never, scopes: ['read'], via: 'api-token' },
    db: {} as DataSource,
    budget: new RequestBudget(10_000, 1_000_000),
  };
  (accountsSchema.getQueryType()!.getFields()['whoami']!.resolve as unknown) = (_: unknown, __: unknown, ctx: GatewayContext) => ctx.identity.subject;
  const send = async (url: string, body: string, headers: Record<string, string> = { accept: 'application/json' }) => {
    let sent: { headers?: unknown } | undefined;
    let ended: Promise<Response> | undefined;
    await (plugin.onFetch as any)({
      url,
      options: { method: 'POST', body, headers },
      setOptions: (o: { headers?: unknown }) => (sent = o),
      context,
      fetchFn: fetch,
      setFetchFn: () => undefined,
      endResponse: (r: Promise<Response>) => (ended = r),
    });
    return { headers: sent?.headers as Record<string, string> | undefined, ended };
  };
  return { publicKey, send };
}

test('each subgraph request carries an identity bound to its exact body, and our request id', async () => {
  const { publicKey, send } = setup();
  const query = 'query PatientView($representations:[_Any!]!){_entities(representations:$representations){__typename}}';
  const variables = { representations: [{ __typename: 'Patient', id: 'pat_1' }] };
  const body = JSON.stringify({ query, variables, operationName: 'PatientView' });
  const { headers } = await send(LABS, body);
  expect(headers!['accept']).toBe('application/json');
  expect(headers!['x-request-id']).toBe('req-1');
  const token = /^Bearer (.+)$/.exec(headers!['authorization']!)![1]!;
  await expect(verifyIdentity(token, publicKey, operationDigest(query, variables))).resolves.toEqual(identity);
  // Not for any other operation.
  await expect(verifyIdentity(token, publicKey, operationDigest(query, { representations: [] }))).rejects.toThrow('another operation');
});

test('the accounts subgraph is answered in process, with the caller’s context, and nothing is sent', async () => {
  const { send } = setup();
  const { headers, ended } = await send(ACCOUNTS, JSON.stringify({ query: '{ whoami }' }));
  expect(headers).toBeUndefined();
  expect(await (await ended!).json()).toEqual({ data: { whoami: 'usr_1' } });
});
