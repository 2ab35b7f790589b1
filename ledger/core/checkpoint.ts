/**
 * C2SP tlog-checkpoint note text (c2sp.org/tlog-checkpoint):
 *
 *   <origin>\n<tree size, decimal>\n<base64 root hash>\n[<extension line>\n]*
 *
 * Parsing is strict about what the spec makes mandatory (non-empty lines, a canonical
 * decimal size with no leading zeros, a canonical base64 32-byte root) and accepts the
 * optional extension lines. Formatting emits only what the spec recommends, so an origin
 * with white space or "+" — legal but discouraged, and unusable as our key name — is
 * refused rather than published.
 */
import { HASH_SIZE } from './hashing';
import { decodeBase64Strict, encodeBase64, isSafeCount } from './encoding';
import { isValidKeyName, openNote, signNote, type NoteSigner, type NoteVerifier, type OpenedNote } from './note';

export interface Checkpoint {
  /** Identifies the log; we use the note key name. */
  readonly origin: string;
  /** Number of leaves. */
  readonly size: number;
  /** RFC 6962 root of the first `size` leaves. */
  readonly rootHash: Buffer;
  /** Opaque extra lines; NOT RECOMMENDED by the spec, kept only so parsing accepts them. */
  readonly extensions: readonly string[];
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  readonly code = 'malformed-checkpoint';
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

export function formatCheckpoint(checkpoint: {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: readonly string[];
}): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  if (!isValidKeyName(origin)) {
    throw new CheckpointError(`origin ${JSON.stringify(origin)} must be non-empty, without white space or "+"`);
  }
  if (!isSafeCount(size)) throw new CheckpointError(`tree size ${size} is not a non-negative safe integer`);
  if (rootHash.length !== HASH_SIZE) throw new CheckpointError(`root hash is not ${HASH_SIZE} bytes`);
  for (const line of extensions) {
    if (line.length === 0 || hasControlCharacter(line)) {
      throw new CheckpointError('extension lines must be non-empty single lines without control characters');
    }
  }
  return [origin, String(size), encodeBase64(rootHash), ...extensions].map((line) => `${line}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new CheckpointError('checkpoint text must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointError('checkpoint needs origin, size and root hash lines');
  if (lines.some((line) => line.length === 0)) throw new CheckpointError('checkpoint lines must be non-empty');
  if (lines.some(hasControlCharacter)) throw new CheckpointError('checkpoint contains a control character');

  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!DECIMAL.test(sizeText)) throw new CheckpointError(`tree size ${JSON.stringify(sizeText)} is not canonical decimal`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointError(`tree size ${sizeText} is too large`);
  const rootHash = decodeBase64Strict(rootText);
  if (!rootHash || rootHash.length !== HASH_SIZE) {
    throw new CheckpointError(`root hash is not canonical base64 of ${HASH_SIZE} bytes`);
  }
  return { origin, size, rootHash, extensions };
}

/** formatCheckpoint, then signNote. */
export function signCheckpoint(checkpoint: Parameters<typeof formatCheckpoint>[0], signers: NoteSigner | readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(checkpoint), signers);
}

/**
 * Verifies a signed checkpoint and parses its text. When `origin` is given the
 * checkpoint must be for that log: a valid signature on another log's checkpoint (a key
 * shared between logs) must not pass as this one's.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: { origin?: string } = {},
): { checkpoint: Checkpoint; note: OpenedNote } {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw new CheckpointError(`checkpoint origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(options.origin)}`);
  }
  return { checkpoint, note: opened };
}

function hasControlCharacter(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) < 0x20) return true;
  return false;
}
