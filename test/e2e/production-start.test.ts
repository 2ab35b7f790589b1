/**
 * Production start, with real processes (common/production.ts):
 *
 *  - refused: the gateway, a subgraph, the research subgraph, the ledger and `custodian
 *    start`, each with NODE_ENV=production, an empty DATA_DIR, no DATABASE_URL, a Redis
 *    that does not answer, an http ORIGIN and no keys, exit non-zero with one message
 *    naming every missing thing — and leave DATA_DIR empty (no key generated, no SQLite
 *    file);
 *  - started: the same processes given everything (PostgreSQL, Redis, keys in the
 *    environment and in files) start; the subgraph takes the gateway's identity keys from
 *    its JWKS URL and refuses a token of any other key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { projectRoot } from '../../common/paths';
import { freePort } from '../../common/ports';
import { newStoredKey, writeKeySetFile } from '../../common/keysets';
import { operationDigest, signIdentity } from '../../common/signed-identity';
import { generateNoteKey } from '../../ledger/core/note';
import { TRUSTED_CLINICIAN } from '../support/identity';

jest.setTimeout(120_000);

const dist = path.join(projectRoot(), 'dist');
const SCRIPTS = {
  gateway: ['gateway/main.js'],
  labs: ['subgraphs/labs/main.js'],
  research: ['subgraphs/research/main.js'],
  ledger: ['ledger/main.js'],
  start: ['cli/main.js', 'start'],
} as const;

interface Child {
  process: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function run(script: readonly string[], env: Record<string, string>): Child {
  // Only what is given: nothing from the test runner's environment (its DATABASE_URL…) leaks in.
  const child = spawn(process.execPath, [path.join(dist, script[0]!), ...script.slice(1)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { process: child, output: () => output, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe('a production start missing everything', () => {
  const dataDir = tmp('custodian-prod-empty-');
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const env = { NODE_ENV: 'production', DATA_DIR: dataDir, REDIS_URL: 'redis://127.0.0.1:1', ORIGIN: 'http://hub.example.test', RP_ID: 'hub.example.test', LOG_LEVEL: 'info' };

  const common = [/DATABASE_URL: required in production/, /REDIS_URL: Redis at redis:\/\/127\.0\.0\.1:1\/? does not answer PING/];
  const origin = /ORIGIN: must be https in production \(it is http:\/\/hub\.example\.test\)/;
  const cases: [keyof typeof SCRIPTS, RegExp[], RegExp[]][] = [
    ['gateway', [...common, origin, /no session signing key: set SESSION_PRIVATE_KEY or SESSION_PRIVATE_KEY_FILE/, /no identity signing key: set IDENTITY_PRIVATE_KEY or IDENTITY_PRIVATE_KEY_FILE/], [/PSEUDONYM_KEY/, /IDENTITY_JWKS/, /LEDGER_NOTE_KEY/]],
    ['labs', [...common, origin, /no identity verification key: set IDENTITY_JWKS or IDENTITY_PUBLIC_KEY/, /PSEUDONYM_KEY: required by the research, labs and devices subgraphs/], [/PRIVATE_KEY/, /LEDGER_NOTE_KEY/]],
    ['research', [...common, origin, /no identity verification key/, /PSEUDONYM_KEY: required by the research, labs and devices subgraphs/], [/PRIVATE_KEY/, /LEDGER_NOTE_KEY/]],
    ['ledger', [...common, /LEDGER_NOTE_KEY: required by the ledger worker/], [/ORIGIN/, /PRIVATE_KEY/, /PSEUDONYM_KEY/]],
    ['start', [...common, origin, /SESSION_PRIVATE_KEY/, /IDENTITY_PRIVATE_KEY/, /IDENTITY_JWKS/, /PSEUDONYM_KEY/, /LEDGER_NOTE_KEY/], []],
  ];

  test.each(cases)('%s exits non-zero with one message listing every problem, and writes nothing', async (name, expected, notExpected) => {
    const child = run(SCRIPTS[name], env);
    expect(await child.exited).not.toBe(0);
    const output = child.output();
    for (const line of expected) expect(output).toMatch(line);
    for (const line of notExpected) expect(output).not.toMatch(line); // each process asks only for what it uses
    // One message: a single "refuses to start" with the count of what follows.
    expect(output.match(/refuses to start/g)).toHaveLength(1);
    expect(output).toMatch(new RegExp(`${expected.length} problems:`));
    expect(output).not.toMatch(/ready|running/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });

  test('a subgraph refuses a JWKS over plain http from another host: whoever answers it would choose the keys believed', async () => {
    const child = run(SCRIPTS.labs, { ...env, IDENTITY_JWKS: 'http://gateway.example.test/.well-known/identity-jwks.json' });
    expect(await child.exited).not.toBe(0);
    expect(child.output()).toMatch(/IDENTITY_JWKS: must be an https URL in production/);
    expect(child.output()).not.toMatch(/no identity verification key/);
  });
});

describe('a production start given everything', () => {
  const admin = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const dbName = `custodian_prod_${randomBytes(5).toString('hex')}`;
  const dataDir = tmp('custodian-prod-full-');
  const secrets = tmp('custodian-prod-secrets-');
  const children: Child[] = [];

  beforeAll(async () => {
    const client = new Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`CREATE DATABASE ${dbName}`);
    await client.end();
  });
  afterAll(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGTERM');
    await Promise.all(children.map((c) => c.exited));
    const client = new Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await client.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(secrets, { recursive: true, force: true });
  });

  async function until(what: string, check: () => Promise<boolean>, child: Child, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (child.process.exitCode !== null) throw new Error(`${what} exited ${child.process.exitCode}:\n${child.output()}`);
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${what} not ready in ${ms} ms:\n${child.output()}`);
  }

  test('the gateway, a subgraph (keys from the gateway’s JWKS URL) and the ledger start; outsiders’ tokens are refused', async () => {
    const url = new URL(admin);
    url.pathname = `/${dbName}`;
    // The session key as a PEM in the environment, the identity key as a key-set file, the
    // ledger's note key and the database URL as files (<NAME>_FILE).
    const session = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const identity = newStoredKey();
    const identityFile = path.join(secrets, 'identity.keys.json');
    writeKeySetFile(identityFile, { keys: [identity] }, 0o600);
    fs.writeFileSync(path.join(secrets, 'ledger-note.key'), generateNoteKey('hub.example.test/ledger').signerKey, { mode: 0o600 });
    fs.writeFileSync(path.join(secrets, 'database-url'), url.toString(), { mode: 0o600 });
    const [gatewayPort, labsPort] = [await freePort(), await freePort()];
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const base = {
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      DATABASE_URL_FILE: path.join(secrets, 'database-url'),
      REDIS_URL: 'redis://127.0.0.1:6379',
      ORIGIN: 'https://hub.example.test',
      RP_ID: 'hub.example.test',
      LOG_LEVEL: 'info',
      LABS_URL: `http://127.0.0.1:${labsPort}/graphql`,
    };

    const gateway = run(SCRIPTS.gateway, { ...base, PORT: String(gatewayPort), SESSION_PRIVATE_KEY: session, IDENTITY_PRIVATE_KEY_FILE: identityFile });
    const labs = run(SCRIPTS.labs, { ...base, PORT: String(labsPort), IDENTITY_JWKS: `${gatewayUrl}/.well-known/identity-jwks.json`, PSEUDONYM_KEY: randomBytes(32).toString('base64') });
    const ledger = run([...SCRIPTS.ledger, 'worker'], { ...base, LEDGER_NOTE_KEY_FILE: path.join(secrets, 'ledger-note.key') });
    children.push(gateway, labs, ledger);

    await until('gateway', async () => (await fetch(`${gatewayUrl}/.well-known/identity-jwks.json`)).ok, gateway);
    await until('labs subgraph', async () => (await fetch(`http://127.0.0.1:${labsPort}/healthz`)).ok, labs);
    await until('ledger worker', async () => /ledger running/.test(ledger.output()), ledger);

    const jwks = (await (await fetch(`${gatewayUrl}/.well-known/identity-jwks.json`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([identity.kid]);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(((await (await fetch(`${gatewayUrl}/.well-known/jwks.json`)).json()) as { keys: unknown[] }).keys).toHaveLength(1);

    // The subgraph, called as the gateway calls it: the gateway's key is accepted, any other refused.
    const query = '{ __typename }';
    const ask = async (key: Parameters<typeof signIdentity>[2]) =>
      fetch(`http://127.0.0.1:${labsPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await signIdentity(TRUSTED_CLINICIAN, operationDigest(query, undefined), key)}` },
        body: JSON.stringify({ query }),
      });
    const gatewayKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: identity.x, d: identity.d! }, format: 'jwk' });
    expect((await ask(gatewayKey)).status).toBe(200);
    expect((await ask(generateKeyPairSync('ed25519').privateKey)).status).toBe(401);

    // Nothing was generated: DATA_DIR holds no keys, no SQLite file.
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });
});
