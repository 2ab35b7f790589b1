/**
 * The Ed25519 note keys that sign checkpoints. Production passes them as LEDGER_NOTE_KEY
 * (the `PRIVATE+KEY+…` signer string, or the path of a file holding it) and, during a
 * rotation, LEDGER_NOTE_KEY_PREVIOUS (the key being replaced). For development the
 * current key is generated on first use into `<DATA_DIR>/keys/ledger-note.key` (mode
 * 0600) and reused — like common/keys.ts, and race-safe the same way: the file is created
 * exclusively and losers read the winner's. `custodian keys rotate ledger` moves it to
 * `ledger-note.previous.key` and writes a new one (rotateNoteKeyFiles).
 *
 * A key source is read again before every checkpoint (noteKeySource), so a running
 * worker picks up a rotation written to files without a restart; keys given as strings
 * in the environment change with a (rolling) restart.
 *
 * The key is the log's identity: verifiers pin its verifier key and follow a rotation
 * only through a checkpoint signed by both keys (ledger/FORMAT.md, "Key rotation"), so
 * losing the current key means the log cannot rotate away from it. Back it up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeBase64Strict } from './encoding';
import { generateNoteKey, NoteError, parseSignerKey, type NoteSigner } from './note';

export interface LedgerNoteKey {
  readonly signer: NoteSigner;
  /** `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, served as GET /ledger/key. */
  readonly verifierKey: string;
}

/** What a publisher may sign with: the current key and, while a rotation is announced, the one it replaces. */
export interface LedgerNoteKeys {
  readonly current: LedgerNoteKey;
  readonly previous?: LedgerNoteKey;
}

/** Returns the keys as they are now; called before every checkpoint. */
export type NoteKeySource = () => LedgerNoteKeys;

export const noteKeyPath = (dataDir: string): string => path.join(dataDir, 'keys', 'ledger-note.key');
export const previousNoteKeyPath = (dataDir: string): string => path.join(dataDir, 'keys', 'ledger-note.previous.key');

const SIGNER_PREFIX = 'PRIVATE+KEY+';

/** A signer key string, or the path of a file that holds one. */
function readSignerKeySetting(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith(SIGNER_PREFIX)) return trimmed;
  try {
    return fs.readFileSync(trimmed, 'utf8').trim();
  } catch (err) {
    throw new NoteError('invalid-key', `the note key is neither PRIVATE+KEY+… nor a readable file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/**
 * LEDGER_NOTE_KEY if given (a key or a file path), else the key file, else a new key
 * named `name` written there.
 */
export function loadLedgerNoteKey(options: { dataDir: string; name: string; signerKey?: string }): LedgerNoteKey {
  if (options.signerKey) return fromSignerKey(readSignerKeySetting(options.signerKey));
  const file = noteKeyPath(options.dataDir);
  if (!fs.existsSync(file)) {
    // Production never generates a key (common/production.ts checks first; this is the
    // second line): a replica minting its own would sign a different ledger's checkpoints.
    if (process.env.NODE_ENV === 'production') throw new NoteError('invalid-key', 'LEDGER_NOTE_KEY (or LEDGER_NOTE_KEY_FILE) is required in production; nothing is generated');
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${generateNoteKey(options.name).signerKey}\n`, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return fromSignerKey(fs.readFileSync(file, 'utf8').trim());
}

/**
 * The keys a publisher signs with, read again on every call: the current key as
 * loadLedgerNoteKey finds it; the previous one from `previousSignerKey` (a key or a file
 * path) when given, else — only when the current key is the development file — from
 * `<DATA_DIR>/keys/ledger-note.previous.key` if present. Parsed keys are cached by their
 * text, so a poll costs two small file reads.
 */
export function noteKeySource(options: { dataDir: string; name: string; signerKey?: string; previousSignerKey?: string }): NoteKeySource {
  const cache = new Map<string, LedgerNoteKey>();
  const parse = (text: string): LedgerNoteKey => {
    let key = cache.get(text);
    if (!key) {
      key = fromSignerKey(text);
      cache.clear(); // only the keys in use stay cached
      cache.set(text, key);
    }
    return key;
  };
  const devPrevious = previousNoteKeyPath(options.dataDir);
  return () => {
    const current = options.signerKey ? parse(readSignerKeySetting(options.signerKey)) : loadLedgerNoteKey(options);
    let previousText: string | undefined;
    if (options.previousSignerKey) previousText = readSignerKeySetting(options.previousSignerKey);
    else if (!options.signerKey && fs.existsSync(devPrevious)) previousText = fs.readFileSync(devPrevious, 'utf8').trim();
    const previous = previousText ? fromSignerKey(previousText) : undefined;
    return previous && previous.verifierKey !== current.verifierKey ? { current, previous } : { current };
  };
}

/**
 * Development rotation: the current key file becomes `ledger-note.previous.key` and a
 * new key of the same name (the origin) becomes the current one — same name, another
 * key, so another key id (C2SP: the id hashes the name and the public key). Each file is
 * written whole and renamed into place, so a publisher reading them meanwhile sees either
 * the old pair or the new one, never half a key.
 */
export function rotateNoteKeyFiles(dataDir: string, name: string): { previous: LedgerNoteKey; current: LedgerNoteKey } {
  const currentFile = noteKeyPath(dataDir);
  loadLedgerNoteKey({ dataDir, name }); // there is a current key to rotate from
  const previousText = fs.readFileSync(currentFile, 'utf8').trim();
  const previous = fromSignerKey(previousText);
  const next = generateNoteKey(previous.signer.name);
  writeAtomically(previousNoteKeyPath(dataDir), `${previousText}\n`);
  writeAtomically(currentFile, `${next.signerKey}\n`);
  return { previous, current: fromSignerKey(next.signerKey) };
}

/** The key pair a signer key string stands for. */
export function fromSignerKey(signerKey: string): LedgerNoteKey {
  const signer = parseSignerKey(signerKey); // validates the name, the ID and the key
  // The verifier key follows from the seed: regenerate the pair deterministically.
  // PRIVATE+KEY+<name>+<id>+<base64>: the base64 itself may contain '+'.
  const keyBytes = decodeBase64Strict(signerKey.split('+').slice(4).join('+'));
  if (!keyBytes) throw new NoteError('invalid-key', 'signer key is not base64');
  return { signer, verifierKey: generateNoteKey(signer.name, keyBytes.subarray(1)).verifierKey };
}

function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text, { mode: 0o600 });
  fs.renameSync(temp, file);
}
