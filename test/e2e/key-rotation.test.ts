/**
 * Rotating the session and identity keys of a running hub under load, with 0 failed
 * requests (common/keysets.ts, cli/keys.ts): continuous concurrent GraphQL requests —
 * each crossing subgraphs, so each carries identity tokens — with an access token minted
 * before the rotation and an API token; `custodian keys rotate session` and `identity`
 * mid-load. Every response must succeed; the gateway moves to the new keys without a
 * restart (new access tokens and identity tokens name the new kid); the old access token
 * still works; tokens of keys outside the sets are refused, at the gateway and at a
 * subgraph.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import { SignJWT, decodeProtectedHeader } from 'jose';
import { jwksPath, keySetPath } from '../../common/keys';
import type { KeySetDocument } from '../../common/keysets';
import { operationDigest, signIdentity } from '../../common/signed-identity';
import { openIdentityDatabase } from '../../gateway/identity/database';
import { User } from '../../gateway/identity/entities';
import { startSession } from '../../gateway/identity/sessions';
import { seed } from '../../seed/write';
import { startHub, type Hub } from '../support/hub';
import { TRUSTED_CLINICIAN } from '../support/identity';

jest.setTimeout(180_000);

let hub: Hub;
beforeAll(async () => {
  hub = await startHub({
    prepare: async (database) => void (await seed({ patients: 40, seed: 3 }, database.env)),
    // The test is about keys: no rate limit in the way; the gateway's key switches are logged at info.
    env: { RATE_LIMIT_GRAPHQL_PER_MINUTE: '0', LOG_LEVEL: 'info' },
  });
}, 180_000);
afterAll(async () => {
  if (hub && hub.process.exitCode === null) await hub.stop();
});

const QUERY = '{ patients(first: 5) { nodes { id name { text } labResults(first: 2) { nodes { value unit } } } } }';

interface Outcome {
  status: number;
  codes: string[];
}

async function ask(token: string, query = QUERY): Promise<Outcome> {
  const res = await fetch(`${hub.gateway}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
  return { status: res.status, codes: (body.errors ?? []).map((e) => e.extensions?.code ?? '?') };
}
/** A success: 200, and no error but consent's own refusals of single fields. */
const succeeded = (o: Outcome) => o.status === 200 && o.codes.every((c) => c === 'FORBIDDEN');

const readSet = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as KeySetDocument;
const addedKid = (output: string) => /added key (\S+),/.exec(output)![1]!;

test('session and identity keys rotate under load with 0 failed requests; old tokens stay valid, strangers are refused', async () => {
  const dataDir = hub.database.env.DATA_DIR;
  // A passkey session's access token, minted before the rotation (as sign-in does), and an API token.
  const db = await openIdentityDatabase(hub.database.env);
  const clinician = await db.getRepository(User).findOneByOrFail({ role: 'clinician' });
  const signer = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', ...pick(readSet(keySetPath(dataDir, 'session')).keys[0]!) }, format: 'jwk' });
  const session = await startSession(db, clinician, signer);
  await db.destroy();
  const oldSessionKid = decodeProtectedHeader(session.token).kid as string;
  const oldIdentityKid = readSet(keySetPath(dataDir, 'identity')).keys[0]!.kid;
  const apiToken = hub.token(clinician.username, 'read');
  expect(succeeded(await ask(session.token))).toBe(true);

  // The load: 4 callers, back to back, until told to stop.
  const outcomes: Outcome[] = [];
  let stop = false;
  const caller = async (token: string) => {
    while (!stop) outcomes.push(await ask(token).catch((err: Error) => ({ status: 0, codes: [err.message] })));
  };
  const load = Promise.all([caller(session.token), caller(session.token), caller(apiToken), caller(session.token)]);

  await sleep(1500);
  const sessionRotation = hub.cli('keys', 'rotate', 'session', '--activate-in', '2');
  const identityRotation = hub.cli('keys', 'rotate', 'identity', '--activate-in', '2');
  const newSessionKid = addedKid(sessionRotation);
  const newIdentityKid = addedKid(identityRotation);
  expect(sessionRotation).toMatch(new RegExp(`key ${oldSessionKid} retiring from`));
  expect(identityRotation).toMatch(new RegExp(`key ${oldIdentityKid} retiring from`));

  // The gateway signs identity tokens with the new key once it activates — no restart.
  await waitFor(() => hub.output().includes(`"kid":"${newIdentityKid}"`) && /"msg":"signing with a new key"/.test(hub.output()), 15_000);
  // New access tokens name the new key, and work; the old token, of the retiring key, still works.
  const refreshed = await (
    await fetch(`${hub.gateway}/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken: session.refreshToken }) })
  ).json() as { token: string };
  expect(decodeProtectedHeader(refreshed.token).kid).toBe(newSessionKid);
  const loadWithNewToken = caller(refreshed.token);
  await sleep(3000);
  stop = true;
  await Promise.all([load, loadWithNewToken]);

  const failed = outcomes.filter((o) => !succeeded(o));
  expect(failed).toEqual([]);
  expect(outcomes.length).toBeGreaterThan(40);
  expect(succeeded(await ask(session.token))).toBe(true);

  // The sets hold both keys: the new one active, the old one retiring.
  const list = hub.cli('keys', 'list');
  expect(list).toMatch(new RegExp(`session\\s+${newSessionKid}\\s+active`));
  expect(list).toMatch(new RegExp(`session\\s+${oldSessionKid}\\s+retiring`));
  expect(list).toMatch(new RegExp(`identity\\s+${oldIdentityKid}\\s+retiring`));
  const published = (await (await fetch(`${hub.gateway}/.well-known/jwks.json`)).json()) as KeySetDocument;
  expect(published.keys.map((k) => k.kid).sort()).toEqual([newSessionKid, oldSessionKid].sort());
  expect(published.keys.every((k) => k.d === undefined)).toBe(true);

  // Refused at the gateway: an access token of a key outside the set — with its own kid, or claiming the old one.
  const stranger = generateKeyPairSync('ed25519').privateKey;
  const forge = (kid?: string) =>
    new SignJWT({ sid: 'ses_00000000000000000000', role: 'clinician' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', ...(kid ? { kid } : {}) })
      .setSubject(clinician.id).setIssuer('custodian-gateway').setAudience('custodian').setIssuedAt().setExpirationTime('15m')
      .sign(stranger);
  for (const token of [await forge('unknown-kid'), await forge(oldSessionKid), await forge()]) {
    const refused = await ask(token);
    expect(refused.status).toBe(401);
    expect(refused.codes).toEqual(['UNAUTHENTICATED']);
  }

  // At a subgraph: the new identity key verifies (it took it from the rotated set), a stranger's does not.
  const probe = '{ __typename }';
  const direct = async (key: Parameters<typeof signIdentity>[2]) =>
    (await fetch(hub.subgraphs.patients, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await signIdentity(TRUSTED_CLINICIAN, operationDigest(probe, undefined), key)}` },
      body: JSON.stringify({ query: probe }),
    })).status;
  const identityKeys = readSet(keySetPath(dataDir, 'identity')).keys;
  expect(readSet(jwksPath(dataDir, 'identity')).keys.map((k) => k.kid)).toEqual(identityKeys.map((k) => k.kid));
  const newIdentity = identityKeys.find((k) => k.kid === newIdentityKid)!;
  expect(await direct(createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', ...pick(newIdentity) }, format: 'jwk' }))).toBe(200);
  expect(await direct(stranger)).toBe(401);
});

function pick(key: { x: string; d?: string }): { x: string; d: string } {
  return { x: key.x, d: key.d! };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms; hub output:\n${hub.output().slice(-3000)}`);
    await sleep(200);
  }
}
