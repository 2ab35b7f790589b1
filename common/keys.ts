/**
 * Signing keys and secrets: where each comes from. Every key is Ed25519, with an id, in
 * a key set (common/keysets.ts), so it can be rotated while everything runs
 * (`custodian keys rotate`, cli/keys.ts).
 *
 *   identity  the gateway signs the identity it forwards to subgraphs; they verify it
 *   session   the gateway signs users' access tokens
 *
 * Signers (the gateway) read, in this order: `<NAME>_PRIVATE_KEY` (a PEM or a JWKS, in the
 * environment: fixed until restart), `<NAME>_PRIVATE_KEY_FILE` (a PEM or a key-set file,
 * watched: rotated in place), else — development only — `<DATA_DIR>/keys/<name>.keys.json`,
 * generated on first start (mode 0600) and never committed. Verifiers (subgraphs) read
 * `IDENTITY_JWKS` (a file or an http(s) URL, e.g. the gateway's
 * /.well-known/identity-jwks.json), `IDENTITY_PUBLIC_KEY` (PEM or JWKS text), else —
 * development only — `<DATA_DIR>/keys/identity.jwks.json`.
 *
 * In production (NODE_ENV=production) nothing is generated: a missing key is an error
 * naming the settings that would provide it.
 *
 * and one secret (not a key pair):
 *
 *   pseudonym  research pseudonyms are an HMAC of the patient keyed with it
 *              (PSEUDONYM_KEY; required in production)
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { KeySet, newStoredKey, publicDocument, storedKeyFromPem, writeKeySetFile, type KeyName, type KeySetOptions, type KeySource } from './keysets';

export type { KeyName } from './keysets';

export const keySettings = (name: KeyName) => {
  const upper = name.toUpperCase();
  return {
    privateKey: `${upper}_PRIVATE_KEY`,
    privateKeyFile: `${upper}_PRIVATE_KEY_FILE`,
    publicKey: `${upper}_PUBLIC_KEY`,
    jwks: `${upper}_JWKS`,
  };
};

const keyDir = (dataDir: string) => path.join(dataDir, 'keys');
/** The development key set of `name` (private halves) and its public JWKS. */
export const keySetPath = (dataDir: string, name: KeyName) => path.join(keyDir(dataDir), `${name}.keys.json`);
export const jwksPath = (dataDir: string, name: KeyName) => path.join(keyDir(dataDir), `${name}.jwks.json`);
/** Before key sets: one PEM per key. Still read, and turned into a key set, so a `.data/` keeps its keys. */
const legacyPrivatePath = (dataDir: string, name: KeyName) => path.join(keyDir(dataDir), `${name}.key.pem`);

export function isProduction(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === 'production' || process.env.NODE_ENV === 'production';
}

/** Thrown instead of generating anything in production. */
export class MissingInProduction extends Error {}

function refuseToGenerate(what: string, settings: string[]): never {
  throw new MissingInProduction(`${what}: set ${settings.join(' or ')} (NODE_ENV=production generates nothing)`);
}

/** Where the signing keys of `name` come from. */
export function signingKeySource(name: KeyName, dataDir: string, env: NodeJS.ProcessEnv = process.env): KeySource {
  const s = keySettings(name);
  if (env[s.privateKey]) return { kind: 'text', text: env[s.privateKey]!, setting: s.privateKey };
  if (env[s.privateKeyFile]) return { kind: 'file', path: env[s.privateKeyFile]!, setting: s.privateKeyFile };
  if (isProduction(env)) refuseToGenerate(`no ${name} signing key`, [s.privateKey, s.privateKeyFile]);
  ensureDevelopmentKeySet(name, dataDir);
  return { kind: 'file', path: keySetPath(dataDir, name), setting: `DATA_DIR/keys/${name}.keys.json` };
}

/** Where the keys that verify `name` tokens come from (for a process that does not sign them). */
export function verifyingKeySource(name: KeyName, dataDir: string, env: NodeJS.ProcessEnv = process.env): KeySource {
  const s = keySettings(name);
  const jwks = env[s.jwks];
  if (jwks) return /^https?:\/\//.test(jwks) ? { kind: 'url', url: jwks, setting: s.jwks } : { kind: 'file', path: jwks, setting: s.jwks };
  if (env[s.publicKey]) return { kind: 'text', text: env[s.publicKey]!, setting: s.publicKey };
  if (isProduction(env)) refuseToGenerate(`no ${name} verification key`, [s.jwks, s.publicKey]);
  const file = jwksPath(dataDir, name);
  if (!fs.existsSync(file) && fs.existsSync(legacyPrivatePath(dataDir, name))) ensureDevelopmentKeySet(name, dataDir);
  if (!fs.existsSync(file)) {
    throw new Error(`No ${name} public key: set ${s.jwks} or ${s.publicKey}, or start the gateway (or \`npm start\`) once so that it generates ${file}`);
  }
  return { kind: 'file', path: file, setting: `DATA_DIR/keys/${name}.jwks.json` };
}

/** The signing key set of `name`, watched for rotations. */
export function openSigningKeys(name: KeyName, dataDir: string, env: NodeJS.ProcessEnv = process.env, options: KeySetOptions = {}): KeySet {
  return KeySet.open(name, signingKeySource(name, dataDir, env), options);
}

/** The verification key set of `name`; a URL source is read before this resolves. */
export function openVerifyingKeys(name: KeyName, dataDir: string, env: NodeJS.ProcessEnv = process.env, options: KeySetOptions = {}): Promise<KeySet> {
  return KeySet.open(name, verifyingKeySource(name, dataDir, env), options).ready();
}

/**
 * The development key set of `name` in DATA_DIR: made from the PEM of an older `.data/`,
 * else generated. Race-safe: several processes starting at once agree on one set, because
 * the file is created exclusively and the losers read the winner's.
 */
function ensureDevelopmentKeySet(name: KeyName, dataDir: string): void {
  if (isProduction()) refuseToGenerate(`no ${name} key`, [keySettings(name).privateKey, keySettings(name).privateKeyFile]);
  const file = keySetPath(dataDir, name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(keyDir(dataDir), { recursive: true, mode: 0o700 });
    const legacy = legacyPrivatePath(dataDir, name);
    const key = fs.existsSync(legacy) ? { ...storedKeyFromPem(fs.readFileSync(legacy, 'utf8')), created: new Date().toISOString() } : newStoredKey();
    try {
      fs.writeFileSync(file, `${JSON.stringify({ keys: [key] }, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (!fs.existsSync(jwksPath(dataDir, name))) {
    writeKeySetFile(jwksPath(dataDir, name), publicDocument(JSON.parse(fs.readFileSync(file, 'utf8'))), 0o644);
  }
}

/** The private key `name` signs with now (a snapshot: long-running signers use openSigningKeys). */
export function loadPrivateKey(name: KeyName, dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyObject {
  const set = openSigningKeys(name, dataDir, env);
  set.close();
  return createPrivateKey(set.signingKey().privateKey.export({ format: 'pem', type: 'pkcs8' }));
}

/** The public half of the key `name` signs with now (a snapshot, for tests and tools). */
export function loadPublicKey(name: KeyName, dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyObject {
  const source = verifyingKeySource(name, dataDir, env);
  if (source.kind === 'url') throw new Error(`${source.setting} is a URL: open it with openVerifyingKeys`);
  const set = KeySet.open(name, source);
  set.close();
  const newest = set.list().find((k) => k.stored.retiring === undefined) ?? set.list()[0]!;
  return createPublicKey(newest.publicKey.export({ format: 'pem', type: 'spki' }));
}

/** Fewer random bytes than this make a pseudonym key that can be searched. */
export const MIN_SECRET_BYTES = 32;

/**
 * The pseudonym secret: PSEUDONYM_KEY (base64), else DATA_DIR/keys/pseudonym.key, else
 * generated there (race-safe as above). Never derived from anything a client can see.
 */
export function loadPseudonymKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.PSEUDONYM_KEY;
  const file = path.join(keyDir(dataDir), 'pseudonym.key');
  if (!fromEnv && isProduction(env)) refuseToGenerate('no pseudonym key', ['PSEUDONYM_KEY', 'PSEUDONYM_KEY_FILE']);
  if (!fromEnv && !fs.existsSync(file)) {
    fs.mkdirSync(keyDir(dataDir), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, randomBytes(MIN_SECRET_BYTES).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return decodeSecret('PSEUDONYM_KEY', fromEnv ?? fs.readFileSync(file, 'utf8'));
}

/** A base64 secret of at least MIN_SECRET_BYTES, or a start-up error naming the setting. */
export function decodeSecret(setting: string, base64: string): Buffer {
  const text = base64.trim();
  const secret = Buffer.from(text, 'base64');
  if (secret.length < MIN_SECRET_BYTES || secret.toString('base64').replace(/=+$/, '') !== text.replace(/=+$/, '')) {
    throw new Error(`${setting} must be base64 of at least ${MIN_SECRET_BYTES} random bytes (e.g. \`openssl rand -base64 32\`)`);
  }
  return secret;
}

/** Generates the development keys if missing; `npm start` calls it before any service starts. */
export function ensureDevelopmentKeys(dataDir: string): void {
  for (const name of ['identity', 'session'] as const) signingKeySource(name, dataDir);
  loadPseudonymKey(dataDir);
}
