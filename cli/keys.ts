/**
 * `custodian keys rotate <identity|session>` and `custodian keys list`: the key sets of
 * common/keysets.ts, changed in place while everything runs.
 *
 * A rotation adds a new key that activates `--activate-in` seconds later (10 by default:
 * long enough for every verifier polling the set, every 2 s, or reading the gateway's
 * JWKS on an unknown kid, to hold it before any token names it). Every older key is marked
 * retiring from that moment and stays, to verify what it signed, for at least the longest
 * lifetime of a token it signs; a later rotation removes the keys retired longer than
 * that. Signers watch their file and switch at activation, without a restart.
 *
 * Which file: `--file <key-set file>` (production: the file `<NAME>_PRIVATE_KEY_FILE`
 * names, which is also the default when that is set), else `--data-dir` (default
 * DATA_DIR) for development's `<DATA_DIR>/keys/<name>.keys.json`. The public JWKS is
 * written first (`--jwks <file>`, `<NAME>_JWKS` when it is a file, or beside the
 * development set), then the private set, each atomically.
 */
import fs from 'node:fs';
import { readEnv } from '../common/config';
import { jwksPath, keySetPath, keySettings, signingKeySource } from '../common/keys';
import { newStoredKey, parseKeySetText, publicDocument, statusOf, writeKeySetFile, type KeyName, type KeySetDocument } from '../common/keysets';
import { IDENTITY_TTL_SECONDS } from '../common/signed-identity';
import { ACCESS_TTL_SECONDS } from '../gateway/identity/lifetimes';
import { KEYS_USAGE } from './usage';

export { KEYS_USAGE };

/** The longest lifetime of a token each key signs (+ the verifiers' allowance for skew). */
const LONGEST_TOKEN_SECONDS: Record<KeyName, number> = {
  identity: IDENTITY_TTL_SECONDS + 5,
  session: ACCESS_TTL_SECONDS,
};
/** Kept this much longer than that: clocks differ between machines. */
const MARGIN_SECONDS = 60;
const DEFAULT_ACTIVATE_IN_SECONDS = 10;
const NAMES: KeyName[] = ['identity', 'session'];

interface Target {
  privateFile: string;
  publicFile?: string;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const value = argv[i + 1];
  if (!value || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

function target(name: KeyName, argv: string[]): Target {
  const s = keySettings(name);
  const file = option(argv, '--file');
  if (file) return { privateFile: file, publicFile: option(argv, '--jwks') };
  const dataDir = option(argv, '--data-dir');
  if (!dataDir) {
    if (process.env[s.privateKeyFile]) {
      const jwks = process.env[s.jwks];
      return { privateFile: process.env[s.privateKeyFile]!, publicFile: option(argv, '--jwks') ?? (jwks && !/^https?:/.test(jwks) ? jwks : undefined) };
    }
    if (process.env[s.privateKey]) {
      throw new Error(`${s.privateKey} is set: a key in the environment cannot be rotated in place. Give the gateway ${s.privateKeyFile} (a key-set file) and rotate with --file`);
    }
  }
  const dir = dataDir ?? readEnv().DATA_DIR;
  // The development set, made first if it is not there yet (refused in production).
  signingKeySource(name, dir, { ...process.env, [s.privateKey]: undefined, [s.privateKeyFile]: undefined });
  return { privateFile: keySetPath(dir, name), publicFile: jwksPath(dir, name) };
}

function readSet(file: string): KeySetDocument {
  if (!fs.existsSync(file)) throw new Error(`no key set at ${file}`);
  return parseKeySetText(fs.readFileSync(file, 'utf8'), file);
}

function keyName(value: string | undefined): KeyName {
  if (!NAMES.includes(value as KeyName)) throw new Error(`which keys? ${NAMES.join(' or ')} (ledger: keys rotate ledger)`);
  return value as KeyName;
}

/** Adds a key to the set; returns what changed. Exported for tests. */
export function rotateKeySet(name: KeyName, doc: KeySetDocument, activateInSeconds: number, now = Date.now()): { doc: KeySetDocument; added: string; removed: string[] } {
  const added = newStoredKey(now, activateInSeconds);
  const keepFor = (LONGEST_TOKEN_SECONDS[name] + MARGIN_SECONDS) * 1000;
  const removed: string[] = [];
  const kept = doc.keys.filter((key) => {
    const gone = key.retiring !== undefined && Date.parse(key.retiring) + keepFor < now;
    if (gone) removed.push(key.kid);
    return !gone;
  });
  // Every key that signs until the new one activates retires at that moment.
  const keys = kept.map((key) => (key.retiring ? key : { ...key, retiring: added.activates }));
  return { doc: { keys: [added, ...keys] }, added: added.kid, removed };
}

async function rotate(argv: string[]): Promise<void> {
  const [which, ...rest] = argv;
  if (which === 'ledger') {
    // The ledger's note key is rotated by a checkpoint both keys sign (cli/keys-ledger.ts).
    // Required here: it opens the ledger database (TypeORM), which `keys list` never needs.
    const { rotateLedgerKey } = require('./keys-ledger') as typeof import('./keys-ledger');
    return rotateLedgerKey(argv.slice(1));
  }
  const name = keyName(which);
  const activateIn = Number(option(rest, '--activate-in') ?? DEFAULT_ACTIVATE_IN_SECONDS);
  if (!Number.isFinite(activateIn) || activateIn < 0) throw new Error('--activate-in is a number of seconds, 0 or more');
  const where = target(name, rest);
  const { doc, added, removed } = rotateKeySet(name, readSet(where.privateFile), activateIn);
  // Public first: a verifier must hold the key before a signer can use it.
  if (where.publicFile) writeKeySetFile(where.publicFile, publicDocument(doc), 0o644);
  writeKeySetFile(where.privateFile, doc, 0o600);
  const activates = doc.keys[0]!.activates!;
  process.stdout.write(
    [
      `${name}: added key ${added}, signing from ${activates}`,
      ...doc.keys.slice(1).map((k) => `${name}: key ${k.kid} retiring from ${k.retiring}; kept at least ${LONGEST_TOKEN_SECONDS[name]} s more to verify what it signed`),
      ...removed.map((kid) => `${name}: removed key ${kid} (retired longer than its tokens live)`),
      `written: ${where.privateFile}${where.publicFile ? `, ${where.publicFile}` : ' (publish its public keys to the verifiers: the gateway serves them at /.well-known/)'}`,
    ].join('\n') + '\n',
  );
}

async function list(argv: string[]): Promise<void> {
  const names = argv[0] && !argv[0].startsWith('--') ? [keyName(argv[0])] : NAMES;
  const rest = argv[0] && !argv[0].startsWith('--') ? argv.slice(1) : argv;
  const lines = ['keys      kid                                           status    created                   activates                 retiring'];
  for (const name of names) {
    const where = target(name, rest);
    for (const key of readSet(where.privateFile).keys) {
      const cols = [name.padEnd(9), key.kid.padEnd(45), statusOf(key, Date.now()).padEnd(9), (key.created ?? '-').padEnd(25), (key.activates ?? '-').padEnd(25), key.retiring ?? '-'];
      lines.push(cols.join(' '));
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

export async function keysCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'rotate') return rotate(rest);
  if (sub === 'list') return list(rest);
  throw new Error(`usage:\n${KEYS_USAGE}`);
}
