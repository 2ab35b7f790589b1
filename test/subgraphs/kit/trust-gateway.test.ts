/**
 * Calling a subgraph directly gets nothing: each of the four is asked, with no identity
 * token, an expired one, one signed by another key, one minted for another query, and a
 * user's own access token — and refuses every one with a 401 and no data.
 */
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { SUBGRAPH_NAMES } from '../../../common/config';
import { operationDigest, signIdentity } from '../../../common/signed-identity';
import { SUBGRAPHS } from '../../../subgraphs';
import { startSubgraph, type RunningSubgraph } from '../../../subgraphs/kit/server';
import { seed } from '../../../seed/write';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { codes, gql } from '../../support/graphql';
import { ADMIN, gatewayKeys } from '../../support/identity';

let database: TestDatabase;
const keys = gatewayKeys();
const running: RunningSubgraph[] = [];

beforeAll(async () => {
  database = await freshDatabase();
  await seed({ patients: 5, seed: 9 }, database.env);
  for (const name of SUBGRAPH_NAMES) running.push(await startSubgraph(SUBGRAPHS[name], { env: database.env, port: 0, identityKey: keys.publicKey }));
}, 60_000);
afterAll(async () => {
  for (const s of running) await s.close();
  await database?.drop();
});

/** A query each subgraph would answer with real data. */
const PROBE: Record<string, string> = {
  patients: '{ patients(first: 5) { totalCount nodes { id name { text } } } }',
  labs: '{ _entities(representations: [{__typename: "Patient", id: "x"}]) { ... on Patient { labResults { totalCount } } } }',
  devices: '{ _entities(representations: [{__typename: "Patient", id: "x"}]) { ... on Patient { devices { id } } } }',
  research: '{ researchProjects { totalCount nodes { title } } }',
  audit: '{ ledgerCheckpoint { size root } }',
};

async function expired(query: string) {
  const past = Math.floor(Date.now() / 1000) - 3600;
  return new SignJWT({ role: 'admin', pur: 'OPERATIONS', scp: ['read'], rid: 'r', opd: operationDigest(query, undefined) })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'custodian-identity+jwt' })
    .setSubject('usr_x')
    .setIssuer('custodian-gateway')
    .setAudience('custodian-subgraph')
    .setIssuedAt(past - 60)
    .setExpirationTime(past)
    .sign(keys.privateKey);
}

describe.each(SUBGRAPH_NAMES.map((name, i) => [name, i] as const))('the %s subgraph, called directly', (name, i) => {
  const url = () => running[i]!.url;
  const query = PROBE[name]!;

  test('answers the gateway (a token signed for exactly this query)', async () => {
    const token = await signIdentity(ADMIN, operationDigest(query, undefined), keys.privateKey);
    const res = await gql(url(), query, undefined, { authorization: `Bearer ${token}` });
    // Accepted as coming from the gateway; what an admin may then see is consent's business.
    expect(res.status).toBe(200);
    expect(codes(res)).not.toContain('UNAUTHENTICATED');
    expect(res.data).toBeTruthy();
  });

  test.each([
    ['no token', async () => ({})],
    ['an expired token', async () => ({ authorization: `Bearer ${await expired(query)}` })],
    ['a token forged with another key', async () => ({ authorization: `Bearer ${await signIdentity(ADMIN, operationDigest(query, undefined), generateKeyPairSync('ed25519').privateKey)}` })],
    ['a token minted for another query', async () => ({ authorization: `Bearer ${await signIdentity(ADMIN, operationDigest('{ __typename }', undefined), keys.privateKey)}` })],
    ['a token with the same query but other variables', async () => ({ authorization: `Bearer ${await signIdentity(ADMIN, operationDigest(query, { first: 1 }), keys.privateKey)}` })],
    ['a malformed token', async () => ({ authorization: 'Bearer abc.def.ghi' })],
  ])('refuses %s with 401 and no data', async (_why, headers) => {
    const res = await gql(url(), query, undefined, await headers());
    expect(res.status).toBe(401);
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    expect(res.data ?? null).toBeNull();
  });
});
