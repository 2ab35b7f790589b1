/**
 * Keys with ids (common/keysets.ts): tokens name their key (an RFC 7638 thumbprint, as
 * jose computes it); verifiers hold a set — a JWKS file or URL — read again, at most once
 * a second, when a token names a key they do not know; a token signed by a key outside
 * the set is refused, whatever kid it claims. Rotation (cli/keys.ts) adds a key that
 * activates later and retires the old one without removing it. Where keys and secrets
 * come from (common/keys.ts, common/production.ts): generated only in development, from
 * the environment or files otherwise.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SignJWT, calculateJwkThumbprint, decodeProtectedHeader, exportJWK } from 'jose';
import { readSecretFiles } from '../../common/production';
import { jwksPath, keySetPath, loadPseudonymKey, signingKeySource, verifyingKeySource } from '../../common/keys';
import { KeySet, kidOf, newStoredKey, publicDocument, writeKeySetFile, type KeySetDocument } from '../../common/keysets';
import { IdentityError, operationDigest, signIdentity, verifyIdentity } from '../../common/signed-identity';
import { rotateKeySet } from '../../cli/keys';
import { SignInChallenges } from '../../gateway/identity/challenges';
import { TRUSTED_CLINICIAN } from '../support/identity';

const QUERY = '{ patients { nodes { id } } }';
const DIGEST = operationDigest(QUERY, {});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-keysets-'));
const sets: KeySet[] = [];
afterAll(() => {
  for (const set of sets) set.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function fileSet(doc: KeySetDocument, name = `set-${sets.length}.json`): { set: KeySet; file: string } {
  const file = path.join(dir, name);
  writeKeySetFile(file, doc, 0o600);
  const set = KeySet.open('identity', { kind: 'file', path: file, setting: 'TEST' });
  sets.push(set);
  return { set, file };
}

describe('key ids', () => {
  test('the kid is the RFC 7638 thumbprint jose computes, and signed tokens carry it', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    expect(kidOf(privateKey)).toBe(await calculateJwkThumbprint(await exportJWK(publicKey)));
    expect(kidOf(publicKey)).toBe(kidOf(privateKey));
    const { set } = fileSet({ keys: [newStoredKey()] });
    const token = await signIdentity(TRUSTED_CLINICIAN, DIGEST, set);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'EdDSA', kid: set.signingKey().kid, typ: 'custodian-identity+jwt' });
  });
});

describe('verifying against a set', () => {
  test('every key of the set verifies its own tokens; a key outside the set is refused, whatever kid it claims', async () => {
    const [a, b] = [newStoredKey(Date.now() - 2000), newStoredKey()];
    const signerA = fileSet({ keys: [a] }).set;
    const signerB = fileSet({ keys: [b] }).set;
    const verifier = fileSet(publicDocument({ keys: [a, b] })).set;
    await expect(verifyIdentity(await signIdentity(TRUSTED_CLINICIAN, DIGEST, signerA), verifier, DIGEST)).resolves.toMatchObject({ subject: TRUSTED_CLINICIAN.subject });
    await expect(verifyIdentity(await signIdentity(TRUSTED_CLINICIAN, DIGEST, signerB), verifier, DIGEST)).resolves.toMatchObject({ subject: TRUSTED_CLINICIAN.subject });

    const outsider = generateKeyPairSync('ed25519').privateKey;
    // Its own kid: unknown, even after reading the set again.
    await expect(verifyIdentity(await signIdentity(TRUSTED_CLINICIAN, DIGEST, outsider), verifier, DIGEST)).rejects.toThrow(new IdentityError('identity token signed with an unknown key'));
    // A kid of the set, but not its signature.
    const forged = await new SignJWT({ role: 'clinician', pur: 'TREATMENT', opd: DIGEST })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'custodian-identity+jwt', kid: a.kid })
      .setSubject('usr_x').setIssuer('custodian-gateway').setAudience('custodian-subgraph').setIssuedAt().setExpirationTime('60s')
      .sign(outsider);
    await expect(verifyIdentity(forged, verifier, DIGEST)).rejects.toThrow(new IdentityError('identity token invalid'));
    // No kid at all (tokens from before key ids): tried against every key of the set, and refused by all.
    const noKid = await new SignJWT({ role: 'clinician', pur: 'TREATMENT', opd: DIGEST })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'custodian-identity+jwt' })
      .setSubject('usr_x').setIssuer('custodian-gateway').setAudience('custodian-subgraph').setIssuedAt().setExpirationTime('60s');
    await expect(verifyIdentity(await noKid.sign(outsider), verifier, DIGEST)).rejects.toThrow(IdentityError);
    await expect(verifyIdentity(await noKid.sign(signerB.signingKey().privateKey), verifier, DIGEST)).resolves.toMatchObject({ subject: 'usr_x' });
  });

  test('a key published to the file while the verifier runs is picked up on its first token', async () => {
    const old = newStoredKey();
    const { set: verifier, file } = fileSet(publicDocument({ keys: [old] }));
    const added = newStoredKey();
    writeKeySetFile(file, publicDocument({ keys: [added, old] }), 0o644);
    const signer = fileSet({ keys: [added] }).set;
    await expect(verifyIdentity(await signIdentity(TRUSTED_CLINICIAN, DIGEST, signer), verifier, DIGEST)).resolves.toBeDefined();
  });

  test('a JWKS URL: unknown kids read it again at most once a second, however many tokens ask', async () => {
    let doc = publicDocument({ keys: [newStoredKey()] });
    let reads = 0;
    const server = http.createServer((_req, res) => {
      reads += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(doc));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const verifier = await KeySet.open('identity', { kind: 'url', url, setting: 'IDENTITY_JWKS' }).ready();
      sets.push(verifier);
      expect(reads).toBe(1);
      // A flood of tokens of keys nobody published: one more read, every token refused.
      const outsiders = await Promise.all(Array.from({ length: 30 }, () => signIdentity(TRUSTED_CLINICIAN, DIGEST, generateKeyPairSync('ed25519').privateKey)));
      const results = await Promise.allSettled(outsiders.map((t) => verifyIdentity(t, verifier, DIGEST)));
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      expect(reads).toBe(2);
      // The gateway publishes a new key: its first token makes the verifier read the URL again.
      const added = newStoredKey();
      doc = publicDocument({ keys: [added, ...doc.keys] });
      const signer = fileSet({ keys: [added] }).set;
      await expect(verifyIdentity(await signIdentity(TRUSTED_CLINICIAN, DIGEST, signer), verifier, DIGEST)).resolves.toBeDefined();
      expect(reads).toBe(3);
      // A URL never lends private halves, even if it serves them.
      doc = { keys: [newStoredKey()] };
      await verifier.reload();
      expect(verifier.privateKeys()).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('rotation', () => {
  test('the new key signs only once it activates; the old one retires and stays to verify, until its tokens have expired', () => {
    const t0 = Date.parse('2026-12-03T00:00:00Z');
    const first = newStoredKey(t0);
    const { doc, added, removed } = rotateKeySet('identity', { keys: [first] }, 10, t0 + 1000);
    expect(removed).toEqual([]);
    expect(doc.keys.map((k) => k.kid)).toEqual([added, first.kid]);
    expect(doc.keys[1]!.retiring).toBe(new Date(t0 + 11_000).toISOString());
    const { set } = fileSet(doc);
    expect(set.signingKey(t0 + 5000).kid).toBe(first.kid); // still pending: verifiers first
    expect(set.signingKey(t0 + 11_000).kid).toBe(added);
    // Identity tokens live 60 s (+5 s skew) and a minute of margin: removed at a rotation after that, not before.
    expect(rotateKeySet('identity', doc, 10, t0 + 11_000 + 120_000).removed).toEqual([]);
    expect(rotateKeySet('identity', doc, 10, t0 + 11_000 + 126_000).removed).toEqual([first.kid]);
    // Access tokens live 15 minutes: a retired session key stays far longer.
    expect(rotateKeySet('session', doc, 10, t0 + 11_000 + 126_000).removed).toEqual([]);
  });

  test('a sign-in challenge issued just before a rotation still verifies after it', () => {
    const old = newStoredKey(Date.now() - 60_000);
    const { set, file } = fileSet({ keys: [old] }, 'session.json');
    const challenges = new SignInChallenges(set);
    const issued = Buffer.from(challenges.issue()).toString('base64url');
    const decoys = challenges.decoyCredentialIds('nobody');
    writeKeySetFile(file, rotateKeySet('session', { keys: [old] }, 0).doc, 0o600);
    return set.reload().then(() => {
      expect(set.signingKey().kid).not.toBe(old.kid);
      expect(challenges.check(issued).result).toBe('ok');
      expect(challenges.decoyCredentialIds('nobody')).toEqual(decoys);
      // A challenge MAC'd with a key outside the set is not one of ours.
      const stranger = new SignInChallenges(generateKeyPairSync('ed25519').privateKey);
      expect(challenges.check(Buffer.from(stranger.issue()).toString('base64url')).result).toBe('unknown');
    });
  });
});

describe('where keys come from', () => {
  test('production generates nothing: a missing key or secret is an error naming its settings, and DATA_DIR stays empty', () => {
    const empty = fs.mkdtempSync(path.join(dir, 'prod-'));
    const production = { NODE_ENV: 'production' };
    expect(() => signingKeySource('session', empty, production)).toThrow(/no session signing key: set SESSION_PRIVATE_KEY or SESSION_PRIVATE_KEY_FILE \(NODE_ENV=production generates nothing\)/);
    expect(() => signingKeySource('identity', empty, production)).toThrow(/IDENTITY_PRIVATE_KEY or IDENTITY_PRIVATE_KEY_FILE/);
    expect(() => verifyingKeySource('identity', empty, production)).toThrow(/IDENTITY_JWKS or IDENTITY_PUBLIC_KEY/);
    expect(() => loadPseudonymKey(empty, production)).toThrow(/PSEUDONYM_KEY or PSEUDONYM_KEY_FILE/);
    expect(fs.readdirSync(empty)).toEqual([]);
    // Given, they are used as given.
    const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(signingKeySource('session', empty, { ...production, SESSION_PRIVATE_KEY: pem })).toMatchObject({ kind: 'text', setting: 'SESSION_PRIVATE_KEY' });
    // A PEM whose line breaks are written as the two characters \n, as in many .env files, is the same key.
    const escaped = KeySet.open('session', { kind: 'text', text: pem.replace(/\n/g, '\\n'), setting: 'SESSION_PRIVATE_KEY' });
    expect(escaped.signingKey().kid).toBe(kidOf(createPrivateKey(pem)));
    expect(verifyingKeySource('identity', empty, { ...production, IDENTITY_JWKS: 'https://hub.example/.well-known/identity-jwks.json' })).toMatchObject({ kind: 'url' });
  });

  test('development: a key set is generated once, and an older .data/ keeps its PEM key (same kid)', () => {
    const dev = fs.mkdtempSync(path.join(dir, 'dev-'));
    signingKeySource('session', dev, {});
    const generated = JSON.parse(fs.readFileSync(keySetPath(dev, 'session'), 'utf8')) as KeySetDocument;
    signingKeySource('session', dev, {});
    expect(JSON.parse(fs.readFileSync(keySetPath(dev, 'session'), 'utf8'))).toEqual(generated);
    expect((fs.statSync(keySetPath(dev, 'session')).mode & 0o777).toString(8)).toBe('600');

    const { privateKey } = generateKeyPairSync('ed25519');
    fs.writeFileSync(path.join(dev, 'keys', 'identity.key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    signingKeySource('identity', dev, {});
    const migrated = JSON.parse(fs.readFileSync(keySetPath(dev, 'identity'), 'utf8')) as KeySetDocument;
    expect(migrated.keys.map((k) => k.kid)).toEqual([kidOf(privateKey)]);
    expect(JSON.parse(fs.readFileSync(jwksPath(dev, 'identity'), 'utf8'))).toEqual(publicDocument(migrated));
  });
});

describe('secrets from files', () => {
  test('<NAME>_FILE becomes <NAME> once; an unreadable file or a conflicting value is a problem', () => {
    const file = path.join(dir, 'pseudonym.key');
    fs.writeFileSync(file, 'c2VjcmV0\n');
    const env: NodeJS.ProcessEnv = { PSEUDONYM_KEY_FILE: file, LEDGER_NOTE_KEY_FILE: path.join(dir, 'missing'), METRICS_TOKEN_FILE: file, METRICS_TOKEN: 'other' };
    expect(readSecretFiles(env)).toEqual([
      expect.stringMatching(/^LEDGER_NOTE_KEY_FILE: cannot read .*missing \(ENOENT\)$/),
      'METRICS_TOKEN and METRICS_TOKEN_FILE are both set, to different values: give one',
    ]);
    expect(env.PSEUDONYM_KEY).toBe('c2VjcmV0');
    expect(env.PSEUDONYM_KEY_FILE).toBeUndefined();
    // What a child inherits reads the same again without complaint.
    expect(readSecretFiles({ PSEUDONYM_KEY: 'c2VjcmV0', PSEUDONYM_KEY_FILE: file })).toEqual([]);
  });
});
