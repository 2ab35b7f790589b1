/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519, byte-compatible with Go's
 * golang.org/x/mod/sumdb/note: the same key strings, key IDs and note layout, so a
 * checkpoint we publish verifies with the Go tooling and the reverse.
 *
 *   note      = text "\n" 1*signature-line     (text ends in "\n"; the blank line separates)
 *   signature = "— " key-name " " base64(key ID (4 bytes, big-endian) ‖ Ed25519 signature)
 *   key ID    = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4]
 *   verifier  = <name>+<8 hex key ID>+base64(0x01 ‖ public key)
 *   signer    = PRIVATE+KEY+<name>+<8 hex key ID>+base64(0x01 ‖ 32-byte seed)
 *
 * The text may itself contain blank lines: the spec separates text from signatures at
 * the *last* blank line, and signature lines can never contain one, so every text that
 * ends in a newline round-trips.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { decodeBase64Strict, encodeBase64 } from './encoding';

export type NoteErrorCode =
  /** Not a syntactically valid note, key name or note text. */
  | 'malformed-note'
  /** A signature from a known key (name and key ID match) does not verify. */
  | 'invalid-signature'
  /** No signature is from a known key. */
  | 'unverified-note'
  /** A signer or verifier key string is malformed or inconsistent. */
  | 'invalid-key';

export class NoteError extends Error {
  override readonly name = 'NoteError';
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface NoteSigner {
  readonly name: string;
  /** uint32 key ID. */
  readonly keyId: number;
  sign(message: Uint8Array): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteKeyPair {
  /** PRIVATE+KEY+… — keep secret. */
  readonly signerKey: string;
  /** <name>+<id>+<key> — publish (GET /ledger/key). */
  readonly verifierKey: string;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** base64(key ID ‖ signature), as on the signature line. */
  readonly base64: string;
}

export interface OpenedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  /** Signatures that verified, one per key. */
  readonly signatures: readonly NoteSignature[];
  /** Signatures from keys the caller does not know: ignored, as the spec requires. */
  readonly unverifiedSignatures: readonly NoteSignature[];
}

const ED25519 = 0x01;
const ED25519_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
// DER headers of an RFC 8410 PKCS#8 private key and SPKI public key, which precede the raw 32 bytes.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Em dash (U+2014) and a space: two UTF-16 code units. */
const SIGNATURE_PREFIX = '\u2014 ';
const SEPARATOR = Buffer.from('\n\n', 'utf8');
/** The spec asks for a limit of at least 16; Go's 100 keeps parity with the reference. */
const MAX_SIGNATURES = 100;
const NAME_FORBIDDEN = /[\p{White_Space}+]/u;
const KEY_ID_HEX = /^[0-9a-fA-F]{8}$/;

/** Key names: non-empty, no Unicode white space, no "+" (it delimits key strings). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && isWellFormedText(name) && !NAME_FORBIDDEN.test(name) && !hasControlCharacter(name, false);
}

/** SHA-256(name ‖ 0x0A ‖ 0x01 ‖ publicKey)[:4] as a uint32. */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, ED25519]))
    .update(publicKey)
    .digest()
    .readUInt32BE(0);
}

/** A fresh Ed25519 key pair for `name` (or a deterministic one from a 32-byte seed). */
export function generateNoteKey(name: string, seed: Uint8Array = randomBytes(ED25519_KEY_SIZE)): NoteKeyPair {
  if (!isValidKeyName(name)) throw new NoteError('invalid-key', `invalid key name ${JSON.stringify(name)}`);
  if (seed.length !== ED25519_KEY_SIZE) throw new NoteError('invalid-key', `Ed25519 seed must be ${ED25519_KEY_SIZE} bytes`);
  const privateKey = privateKeyFromSeed(seed);
  const publicKey = rawPublicKey(privateKey);
  const id = hexKeyId(noteKeyId(name, publicKey));
  return {
    signerKey: `PRIVATE+KEY+${name}+${id}+${encodeBase64(Buffer.concat([Buffer.from([ED25519]), seed]))}`,
    verifierKey: `${name}+${id}+${encodeBase64(Buffer.concat([Buffer.from([ED25519]), publicKey]))}`,
  };
}

/** The verifier key string for a raw 32-byte Ed25519 public key. */
export function verifierKeyFromPublicKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError('invalid-key', `invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== ED25519_KEY_SIZE) throw new NoteError('invalid-key', 'Ed25519 public key must be 32 bytes');
  return `${name}+${hexKeyId(noteKeyId(name, publicKey))}+${encodeBase64(Buffer.concat([Buffer.from([ED25519]), publicKey]))}`;
}

/** Parses PRIVATE+KEY+<name>+<id>+<key>; the ID must match the key the seed derives. */
export function parseSignerKey(signerKey: string): NoteSigner {
  const fields = splitKeyString(signerKey, 5);
  if (!fields || fields[0] !== 'PRIVATE' || fields[1] !== 'KEY') {
    throw new NoteError('invalid-key', 'signer key is not PRIVATE+KEY+<name>+<id>+<key>');
  }
  const [, , name, idHex, keyBase64] = fields;
  const seed = decodeTypedKey(name, idHex, keyBase64, 'signer');
  const privateKey = privateKeyFromSeed(seed);
  const keyId = noteKeyId(name, rawPublicKey(privateKey));
  if (keyId !== parseInt(idHex, 16)) throw new NoteError('invalid-key', 'signer key ID does not match its key');
  return { name, keyId, sign: (message) => sign(null, message, privateKey) };
}

/** Parses <name>+<id>+<key>; the ID must match the name and key. */
export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const fields = splitKeyString(verifierKey, 3);
  if (!fields) throw new NoteError('invalid-key', 'verifier key is not <name>+<id>+<key>');
  const [name, idHex, keyBase64] = fields;
  const publicKeyBytes = decodeTypedKey(name, idHex, keyBase64, 'verifier');
  const keyId = noteKeyId(name, publicKeyBytes);
  if (keyId !== parseInt(idHex, 16)) throw new NoteError('invalid-key', 'verifier key ID does not match its name and key');
  const publicKey = publicKeyFromRaw(publicKeyBytes);
  return {
    name,
    keyId,
    verify: (message, signature) =>
      signature.length === ED25519_SIGNATURE_SIZE && verify(null, message, publicKey, signature),
  };
}

/**
 * Signs `text` (which must end in a newline) with each signer and returns the note:
 * the text, a blank line, one signature line per signer.
 */
export function signNote(text: string, signers: NoteSigner | readonly NoteSigner[]): string {
  const list: readonly NoteSigner[] = Array.isArray(signers) ? signers : [signers as NoteSigner];
  if (list.length === 0) throw new NoteError('invalid-key', 'a note needs at least one signer');
  if (!text.endsWith('\n')) throw new NoteError('malformed-note', 'note text must end with a newline');
  if (!isWellFormedText(text)) throw new NoteError('malformed-note', 'note text is not valid Unicode');
  if (hasControlCharacter(text, true)) throw new NoteError('malformed-note', 'note text contains a control character');

  const message = Buffer.from(text, 'utf8');
  const lines = list.map((signer) => {
    if (!isValidKeyName(signer.name)) throw new NoteError('invalid-key', `invalid key name ${JSON.stringify(signer.name)}`);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(signer.keyId >>> 0);
    return `${SIGNATURE_PREFIX}${signer.name} ${encodeBase64(Buffer.concat([id, signer.sign(message)]))}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/**
 * Parses a note and verifies it against trusted verifiers. Succeeds only if at least one
 * signature is from a known key and every signature from a known key verifies;
 * signatures from unknown keys (name or ID differ) are reported but otherwise ignored,
 * which is what lets a log rotate keys and witnesses cosign.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const bytes = toNoteBytes(note);
  for (const byte of bytes) {
    if (byte < 0x20 && byte !== 0x0a) throw new NoteError('malformed-note', 'note contains a control character');
  }

  const split = bytes.lastIndexOf(SEPARATOR);
  if (split < 0) throw new NoteError('malformed-note', 'note has no blank line before its signatures');
  const textBytes = bytes.subarray(0, split + 1);
  const signatureBlock = bytes.subarray(split + 2);
  if (signatureBlock.length === 0 || signatureBlock[signatureBlock.length - 1] !== 0x0a) {
    throw new NoteError('malformed-note', 'note must end with a newline-terminated signature line');
  }

  const lines = signatureBlock.subarray(0, signatureBlock.length - 1).toString('utf8').split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('malformed-note', `note has more than ${MAX_SIGNATURES} signatures`);

  const verified = new Map<string, NoteSignature>();
  const unverified = new Map<string, NoteSignature>();
  for (const line of lines) {
    const signature = parseSignatureLine(line);
    const matches = verifiers.filter((v) => v.name === signature.name && v.keyId === signature.keyId);
    if (matches.length > 1) {
      throw new NoteError('invalid-key', `more than one verifier for ${signature.name}+${hexKeyId(signature.keyId)}`);
    }
    if (matches.length === 0) {
      unverified.set(line, signature);
      continue;
    }
    const raw = decodeBase64Strict(signature.base64)!.subarray(4);
    if (!matches[0].verify(textBytes, raw)) {
      throw new NoteError('invalid-signature', `signature by ${signature.name}+${hexKeyId(signature.keyId)} does not verify`);
    }
    verified.set(`${signature.name}+${signature.keyId}`, signature);
  }

  if (verified.size === 0) throw new NoteError('unverified-note', 'note has no signature from a known key');
  return {
    text: textBytes.toString('utf8'),
    signatures: [...verified.values()],
    unverifiedSignatures: [...unverified.values()],
  };
}

export function hexKeyId(keyId: number): string {
  return (keyId >>> 0).toString(16).padStart(8, '0');
}

/** One `— <name> base64(key ID ‖ signature)` line (without its newline). */
export function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw new NoteError('malformed-note', 'signature line does not start with "— "');
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw new NoteError('malformed-note', 'signature line has no signature');
  const name = rest.slice(0, space);
  const base64 = rest.slice(space + 1);
  const decoded = decodeBase64Strict(base64);
  if (!isValidKeyName(name) || !decoded || decoded.length < 5) {
    throw new NoteError('malformed-note', 'malformed signature line');
  }
  return { name, keyId: decoded.readUInt32BE(0), base64 };
}

/**
 * Splits a key string into `count` fields at the first count-1 "+" signs. Names and hex
 * IDs cannot contain "+", but the base64 key at the end can, so a plain split would
 * reject about half of all keys.
 */
export function splitKeyString(key: string, count: number): string[] | undefined {
  const fields: string[] = [];
  let rest = key;
  for (let i = 0; i < count - 1; i++) {
    const plus = rest.indexOf('+');
    if (plus < 0) return undefined;
    fields.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  fields.push(rest);
  return fields;
}

function decodeTypedKey(name: string, idHex: string, keyBase64: string, kind: string): Buffer {
  if (!isValidKeyName(name)) throw new NoteError('invalid-key', `${kind} key has an invalid name`);
  if (!KEY_ID_HEX.test(idHex)) throw new NoteError('invalid-key', `${kind} key ID is not 8 hex digits`);
  const key = decodeBase64Strict(keyBase64);
  if (!key || key.length !== 1 + ED25519_KEY_SIZE || key[0] !== ED25519) {
    throw new NoteError('invalid-key', `${kind} key is not base64(0x01 ‖ 32-byte Ed25519 key)`);
  }
  return key.subarray(1);
}

export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function rawPublicKey(privateKey: KeyObject): Buffer {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_ED25519_PREFIX.length);
}

/** A node:crypto public key from 32 raw Ed25519 bytes; throws NoteError if unusable. */
export function publicKeyFromRaw(publicKeyBytes: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKeyBytes]), format: 'der', type: 'spki' });
  } catch {
    throw new NoteError('invalid-key', 'verifier key is not a usable Ed25519 public key');
  }
}

function toNoteBytes(note: string | Uint8Array): Buffer {
  if (typeof note === 'string') {
    if (!isWellFormedText(note)) throw new NoteError('malformed-note', 'note is not valid Unicode');
    return Buffer.from(note, 'utf8');
  }
  const bytes = Buffer.from(note.buffer, note.byteOffset, note.byteLength);
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new NoteError('malformed-note', 'note is not valid UTF-8');
  }
  return bytes;
}

/** False for strings with lone surrogates, which have no UTF-8 encoding. */
function isWellFormedText(text: string): boolean {
  return !/\p{Surrogate}/u.test(text);
}

function hasControlCharacter(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && !(allowNewline && code === 0x0a)) return true;
  }
  return false;
}
