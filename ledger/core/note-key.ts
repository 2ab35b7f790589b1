/**
 * The Ed25519 note key that signs checkpoints. Production passes it as LEDGER_NOTE_KEY
 * (the `PRIVATE+KEY+…` signer string); for development it is generated on first use into
 * `<DATA_DIR>/keys/ledger-note.key` (mode 0600) and reused — like common/keys.ts, and
 * race-safe the same way: the file is created exclusively and losers read the winner's.
 *
 * The key is the log's identity: verifiers pin its verifier key, so losing it means
 * every old checkpoint can only be checked against a key published elsewhere. Back it up.
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

export const noteKeyPath = (dataDir: string): string => path.join(dataDir, 'keys', 'ledger-note.key');

/**
 * LEDGER_NOTE_KEY if given, else the key file, else a new key named `name` written there.
 */
export function loadLedgerNoteKey(options: { dataDir: string; name: string; signerKey?: string }): LedgerNoteKey {
  if (options.signerKey) return fromSignerKey(options.signerKey.trim());
  const file = noteKeyPath(options.dataDir);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${generateNoteKey(options.name).signerKey}\n`, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return fromSignerKey(fs.readFileSync(file, 'utf8').trim());
}

function fromSignerKey(signerKey: string): LedgerNoteKey {
  const signer = parseSignerKey(signerKey); // validates the name, the ID and the key
  // The verifier key follows from the seed: regenerate the pair deterministically.
  // PRIVATE+KEY+<name>+<id>+<base64>: the base64 itself may contain '+'.
  const keyBytes = decodeBase64Strict(signerKey.split('+').slice(4).join('+'));
  if (!keyBytes) throw new NoteError('invalid-key', 'signer key is not base64');
  return { signer, verifierKey: generateNoteKey(signer.name, keyBytes.subarray(1)).verifierKey };
}
