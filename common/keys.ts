/**
 * Signing keys. Production passes them in the environment (PEM); for development they
 * are generated on first start into `<DATA_DIR>/keys/` (mode 0600) and reused after —
 * never committed. Every key is Ed25519.
 *
 *   identity  the gateway signs the identity it forwards to subgraphs; they verify it
 *   session   the gateway signs users' access tokens
 *
 * and one secret (not a key pair):
 *
 *   pseudonym  research pseudonyms are an HMAC of the patient keyed with it
 *              (PSEUDONYM_KEY; required in production)
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type KeyName = 'identity' | 'session';

const ENV_PRIVATE: Record<KeyName, string> = {
  identity: 'IDENTITY_PRIVATE_KEY',
  session: 'SESSION_PRIVATE_KEY',
};
const ENV_PUBLIC: Record<KeyName, string> = {
  identity: 'IDENTITY_PUBLIC_KEY',
  session: 'SESSION_PUBLIC_KEY',
};

const keyDir = (dataDir: string) => path.join(dataDir, 'keys');
const privatePath = (dataDir: string, name: KeyName) => path.join(keyDir(dataDir), `${name}.key.pem`);
const publicPath = (dataDir: string, name: KeyName) => path.join(keyDir(dataDir), `${name}.pub.pem`);

/**
 * The private key `name`: from the environment, else from DATA_DIR, else generated there.
 * Generation is race-safe: several processes starting at once agree on one key, because
 * the file is created exclusively and the losers read the winner's.
 */
export function loadPrivateKey(name: KeyName, dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyObject {
  const fromEnv = env[ENV_PRIVATE[name]];
  if (fromEnv) return createPrivateKey(fromEnv.replace(/\\n/g, '\n'));
  const file = privatePath(dataDir, name);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(keyDir(dataDir), { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    try {
      fs.writeFileSync(file, pem, { flag: 'wx', mode: 0o600 });
      fs.writeFileSync(publicPath(dataDir, name), publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return createPrivateKey(fs.readFileSync(file, 'utf8'));
}

/** The public half of `name`: from the environment, else derived from the key in DATA_DIR. */
export function loadPublicKey(name: KeyName, dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyObject {
  const fromEnv = env[ENV_PUBLIC[name]];
  if (fromEnv) return createPublicKey(fromEnv.replace(/\\n/g, '\n'));
  const file = publicPath(dataDir, name);
  if (fs.existsSync(file)) return createPublicKey(fs.readFileSync(file, 'utf8'));
  throw new Error(
    `No ${name} public key: set ${ENV_PUBLIC[name]}, or start the gateway (or \`npm start\`) once so that it generates ${file}`,
  );
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
  for (const name of ['identity', 'session'] as const) loadPrivateKey(name, dataDir);
  loadPseudonymKey(dataDir);
}
