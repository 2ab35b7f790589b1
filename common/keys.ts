/**
 * Signing keys. Production passes them in the environment (PEM); for development they
 * are generated on first start into `<DATA_DIR>/keys/` (mode 0600) and reused after —
 * never committed. Every key is Ed25519.
 *
 *   identity  the gateway signs the identity it forwards to subgraphs; they verify it
 *   session   the gateway signs users' access tokens
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
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

/** Generates the development keys if missing; `npm start` calls it before any service starts. */
export function ensureDevelopmentKeys(dataDir: string): void {
  for (const name of ['identity', 'session'] as const) loadPrivateKey(name, dataDir);
}
