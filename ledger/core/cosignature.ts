/**
 * C2SP tlog-cosignature v1 (c2sp.org/tlog-cosignature), the Ed25519 type: a witness's
 * timestamped statement that, as of `time`, the checkpoint is the largest consistent
 * tree head it has seen for the log. Pure functions, no I/O; keys and lines are
 * byte-compatible with the spec and with the signed-note code in note.ts.
 *
 *   key ID    = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4]
 *   verifier  = <name>+<8 hex key ID>+base64(0x04 ‖ public key)          (a C2SP vkey)
 *   signer    = PRIVATE+KEY+<name>+<8 hex key ID>+base64(0x04 ‖ 32-byte seed)
 *   message   = "cosignature/v1\n" "time " <decimal seconds> "\n" <checkpoint note body>
 *   line      = "— " name " " base64(key ID (4) ‖ timestamp u64 BE (8) ‖ Ed25519 sig (64))
 *
 * The key ID uses type 0x04, not 0x01, so a cosignature can never be mistaken for (or
 * replayed as) a plain note signature by the same key, and note verifiers that know only
 * the log's 0x01 key simply ignore cosignature lines (signed-note: unknown keys are
 * skipped) — which is why Go's sumdb/note still opens a cosigned checkpoint. The Ed25519
 * message does not commit to the cosigner's name, so one key must serve one cosigner.
 */
import { createHash, randomBytes, sign, verify } from 'node:crypto';
import { decodeBase64Strict, encodeBase64 } from './encoding';
import {
  hexKeyId,
  isValidKeyName,
  parseSignatureLine,
  privateKeyFromSeed,
  publicKeyFromRaw,
  rawPublicKey,
  splitKeyString,
  NoteError,
} from './note';

/** The signature type byte of Ed25519 cosignature/v1 in key IDs and vkeys. */
export const COSIGNATURE_V1_TYPE = 0x04;
const HEADER = 'cosignature/v1\n';
const ED25519_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
/** key ID ‖ timestamp ‖ signature. */
const SIGNATURE_BYTES = 4 + 8 + ED25519_SIGNATURE_SIZE;
const SIGNATURE_PREFIX = '\u2014 ';
const KEY_ID_HEX = /^[0-9a-fA-F]{8}$/;
const SIGNER_PREFIX = 'PRIVATE+KEY+';

export type CosignatureErrorCode =
  /** A cosigner key string is malformed, of another type, or its ID does not match. */
  | 'invalid-key'
  /** A cosignature line is not `— <name> base64(76 bytes)`, or its timestamp is out of range. */
  | 'malformed-cosignature'
  /** A cosignature from a known key (name and key ID match) does not verify. */
  | 'invalid-cosignature'
  /** A cosignature is timestamped later than the caller allows. */
  | 'future-timestamp';

export class CosignatureError extends Error {
  override readonly name = 'CosignatureError';
  constructor(
    readonly code: CosignatureErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One verified (or freshly made) cosignature. */
export interface Cosignature {
  /** The cosigner's key name. */
  readonly name: string;
  /** uint32 key ID (type 0x04). */
  readonly keyId: number;
  /** POSIX seconds at which the cosigner signed. */
  readonly timestamp: number;
  /** The note signature line, without its newline. */
  readonly line: string;
}

export interface CosignatureSigner {
  readonly name: string;
  readonly keyId: number;
  /** `<name>+<id>+base64(0x04 ‖ public key)`: what verifiers configure. */
  readonly verifierKey: string;
  /** Cosigns a checkpoint note body (text ending in "\n", no signature lines) at `timestamp`. */
  cosign(checkpointBody: string, timestamp: number): Cosignature;
}

export interface CosignatureVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly verifierKey: string;
  /** The raw 32-byte Ed25519 public key (for WebCrypto and other verifiers). */
  readonly publicKey: Buffer;
  /** True iff the Ed25519 signature is this key's over cosignedMessage(body, timestamp). */
  verify(checkpointBody: string, timestamp: number, signature: Uint8Array): boolean;
}

export interface CosignerKeyPair {
  /** PRIVATE+KEY+… — keep secret. */
  readonly signerKey: string;
  /** <name>+<id>+base64(0x04 ‖ key) — give to logs and verifiers. */
  readonly verifierKey: string;
}

/** SHA-256(name ‖ 0x0A ‖ 0x04 ‖ publicKey)[:4] as a uint32. */
export function cosignatureKeyId(name: string, publicKey: Uint8Array): number {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.from([0x0a, COSIGNATURE_V1_TYPE]))
    .update(publicKey)
    .digest()
    .readUInt32BE(0);
}

/** The cosigner vkey for a raw 32-byte Ed25519 public key. */
export function cosignerVerifierKey(name: string, publicKey: Uint8Array): string {
  requireName(name);
  if (publicKey.length !== ED25519_KEY_SIZE) throw new CosignatureError('invalid-key', 'Ed25519 public key must be 32 bytes');
  return `${name}+${hexKeyId(cosignatureKeyId(name, publicKey))}+${typedKey(publicKey)}`;
}

/** A fresh cosigner key pair for `name` (or a deterministic one from a 32-byte seed). */
export function generateCosignerKey(name: string, seed: Uint8Array = randomBytes(ED25519_KEY_SIZE)): CosignerKeyPair {
  requireName(name);
  if (seed.length !== ED25519_KEY_SIZE) throw new CosignatureError('invalid-key', `Ed25519 seed must be ${ED25519_KEY_SIZE} bytes`);
  const publicKey = rawPublicKey(privateKeyFromSeed(seed));
  const id = hexKeyId(cosignatureKeyId(name, publicKey));
  return { signerKey: `${SIGNER_PREFIX}${name}+${id}+${typedKey(seed)}`, verifierKey: `${name}+${id}+${typedKey(publicKey)}` };
}

/** Parses PRIVATE+KEY+<name>+<id>+base64(0x04 ‖ seed); the ID must match the derived public key. */
export function parseCosignerSignerKey(signerKey: string): CosignatureSigner {
  const fields = splitKeyString(signerKey.trim(), 5);
  if (!fields || fields[0] !== 'PRIVATE' || fields[1] !== 'KEY') {
    throw new CosignatureError('invalid-key', 'cosigner signer key is not PRIVATE+KEY+<name>+<id>+<key>');
  }
  const [, , name, idHex, keyBase64] = fields;
  const seed = decodeTypedKey(name, idHex, keyBase64, 'signer');
  const privateKey = privateKeyFromSeed(seed);
  const publicKey = rawPublicKey(privateKey);
  const keyId = cosignatureKeyId(name, publicKey);
  if (keyId !== parseInt(idHex, 16)) throw new CosignatureError('invalid-key', 'cosigner signer key ID does not match its key');
  const verifierKey = `${name}+${hexKeyId(keyId)}+${typedKey(publicKey)}`;
  return {
    name,
    keyId,
    verifierKey,
    cosign(checkpointBody, timestamp) {
      const signature = sign(null, cosignedMessage(checkpointBody, timestamp), privateKey);
      return { name, keyId, timestamp, line: formatLine(name, keyId, timestamp, signature) };
    },
  };
}

/** Parses <name>+<id>+base64(0x04 ‖ public key); the ID must match the name and key. */
export function parseCosignerVerifierKey(verifierKey: string): CosignatureVerifier {
  const fields = splitKeyString(verifierKey.trim(), 3);
  if (!fields) throw new CosignatureError('invalid-key', 'cosigner verifier key is not <name>+<id>+<key>');
  const [name, idHex, keyBase64] = fields;
  const publicKey = decodeTypedKey(name, idHex, keyBase64, 'verifier');
  const keyId = cosignatureKeyId(name, publicKey);
  if (keyId !== parseInt(idHex, 16)) throw new CosignatureError('invalid-key', 'cosigner verifier key ID does not match its name and key');
  let keyObject;
  try {
    keyObject = publicKeyFromRaw(publicKey);
  } catch (err) {
    throw new CosignatureError('invalid-key', err instanceof NoteError ? err.message : 'unusable Ed25519 public key');
  }
  return {
    name,
    keyId,
    verifierKey: `${name}+${hexKeyId(keyId)}+${keyBase64}`,
    publicKey: Buffer.from(publicKey),
    verify: (checkpointBody, timestamp, signature) =>
      signature.length === ED25519_SIGNATURE_SIZE && verify(null, cosignedMessage(checkpointBody, timestamp), keyObject, signature),
  };
}

/** The exact bytes an Ed25519 cosignature/v1 signs. */
export function cosignedMessage(checkpointBody: string, timestamp: number): Buffer {
  requireTimestamp(timestamp);
  if (!checkpointBody.endsWith('\n')) throw new CosignatureError('malformed-cosignature', 'checkpoint body must end with a newline');
  return Buffer.from(`${HEADER}time ${timestamp}\n${checkpointBody}`, 'utf8');
}

/** The fields of a cosignature line (not yet verified). */
export interface ParsedCosignatureLine {
  readonly name: string;
  readonly keyId: number;
  readonly timestamp: number;
  readonly signature: Buffer;
}

/** Parses `— <name> base64(keyID ‖ u64 timestamp ‖ sig)` (with or without its newline). */
export function parseCosignatureLine(line: string): ParsedCosignatureLine {
  const text = line.endsWith('\n') ? line.slice(0, -1) : line;
  let parsed;
  try {
    parsed = parseSignatureLine(text);
  } catch (err) {
    throw new CosignatureError('malformed-cosignature', err instanceof Error ? err.message : 'malformed signature line');
  }
  const bytes = decodeBase64Strict(parsed.base64)!;
  if (bytes.length !== SIGNATURE_BYTES) {
    throw new CosignatureError('malformed-cosignature', `a cosignature/v1 signature is ${SIGNATURE_BYTES} bytes, not ${bytes.length}`);
  }
  const raw = bytes.readBigUInt64BE(4);
  // The spec caps it at 2^63-1; anything beyond 2^53 is no plausible time and would lose precision.
  if (raw > BigInt(Number.MAX_SAFE_INTEGER)) throw new CosignatureError('malformed-cosignature', 'cosignature timestamp is out of range');
  return { name: parsed.name, keyId: parsed.keyId, timestamp: Number(raw), signature: bytes.subarray(12) };
}

export interface VerifyCosignatureOptions {
  /** Refuse timestamps after this POSIX time (seconds); the spec lets verifiers do so. */
  readonly notAfter?: number;
}

/**
 * Verifies one cosignature line against one cosigner key over a checkpoint body. Throws
 * CosignatureError: malformed line, a line by another key ('invalid-key'), a signature
 * that does not verify, or a timestamp after options.notAfter.
 */
export function verifyCosignature(
  verifier: CosignatureVerifier,
  checkpointBody: string,
  line: string,
  options: VerifyCosignatureOptions = {},
): Cosignature {
  const parsed = parseCosignatureLine(line);
  if (parsed.name !== verifier.name || parsed.keyId !== verifier.keyId) {
    throw new CosignatureError('invalid-key', `cosignature is by ${parsed.name}+${hexKeyId(parsed.keyId)}, not ${verifier.name}+${hexKeyId(verifier.keyId)}`);
  }
  if (!verifier.verify(checkpointBody, parsed.timestamp, parsed.signature)) {
    throw new CosignatureError('invalid-cosignature', `cosignature by ${verifier.name}+${hexKeyId(verifier.keyId)} does not verify`);
  }
  if (options.notAfter !== undefined && parsed.timestamp > options.notAfter) {
    throw new CosignatureError('future-timestamp', `cosignature by ${verifier.name} is timestamped ${parsed.timestamp}, after ${options.notAfter}`);
  }
  return { name: parsed.name, keyId: parsed.keyId, timestamp: parsed.timestamp, line: line.endsWith('\n') ? line.slice(0, -1) : line };
}

/**
 * The cosignatures on a signed note by the given cosigners. Lines by other keys (the
 * log's own signature, unknown witnesses) are skipped, as signed-note requires; a line
 * by a known cosigner that does not verify throws, like a bad signature by a known key
 * in openNote — a forged cosignature is evidence, not noise. The note's text and its log
 * signature are NOT checked here: open it with openCheckpoint first.
 */
export function cosignaturesOnNote(
  note: string,
  cosigners: readonly CosignatureVerifier[],
  options: VerifyCosignatureOptions = {},
): Cosignature[] {
  const { body, lines } = splitNote(note);
  const found = new Map<string, Cosignature>();
  for (const line of lines) {
    let parsed: ParsedCosignatureLine;
    try {
      parsed = parseCosignatureLine(line);
    } catch {
      continue; // not a cosignature/v1 line (the log's own signature has another length)
    }
    const verifier = cosigners.find((c) => c.name === parsed.name && c.keyId === parsed.keyId);
    if (!verifier) continue;
    found.set(`${verifier.name}+${verifier.keyId}`, verifyCosignature(verifier, body, line, options));
  }
  return [...found.values()];
}

/**
 * Adds signature lines to a signed note, after its existing ones, skipping any line
 * already present and any second line by the same name and key ID (a note holds at most
 * one signature per key).
 */
export function addSignatureLines(note: string, lines: readonly string[]): string {
  const { lines: existing } = splitNote(note);
  const keyOf = (line: string): string => {
    const parsed = parseSignatureLine(line);
    return `${parsed.name}+${parsed.keyId}`;
  };
  const present = new Set(existing.map(keyOf));
  let out = note;
  for (const raw of lines) {
    const line = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    const key = keyOf(line);
    if (present.has(key)) continue;
    present.add(key);
    out += `${line}\n`;
  }
  return out;
}

/** The body (text up to and including its last newline before the blank line) and signature lines of a note. */
export function splitNote(note: string): { body: string; lines: string[] } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new CosignatureError('malformed-cosignature', 'not a signed note');
  return { body: note.slice(0, split + 1), lines: note.slice(split + 2, -1).split('\n') };
}

function formatLine(name: string, keyId: number, timestamp: number, signature: Buffer): string {
  const head = Buffer.alloc(12);
  head.writeUInt32BE(keyId >>> 0, 0);
  head.writeBigUInt64BE(BigInt(timestamp), 4);
  return `${SIGNATURE_PREFIX}${name} ${encodeBase64(Buffer.concat([head, signature]))}`;
}

function typedKey(key: Uint8Array): string {
  return encodeBase64(Buffer.concat([Buffer.from([COSIGNATURE_V1_TYPE]), key]));
}

function decodeTypedKey(name: string, idHex: string, keyBase64: string, kind: string): Buffer {
  requireName(name);
  if (!KEY_ID_HEX.test(idHex)) throw new CosignatureError('invalid-key', `cosigner ${kind} key ID is not 8 hex digits`);
  const key = decodeBase64Strict(keyBase64);
  if (!key || key.length !== 1 + ED25519_KEY_SIZE || key[0] !== COSIGNATURE_V1_TYPE) {
    throw new CosignatureError('invalid-key', `cosigner ${kind} key is not base64(0x04 ‖ 32-byte Ed25519 key)`);
  }
  return key.subarray(1);
}

function requireName(name: string): void {
  if (!isValidKeyName(name)) throw new CosignatureError('invalid-key', `invalid cosigner name ${JSON.stringify(name)}`);
}

function requireTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new CosignatureError('malformed-cosignature', `timestamp ${timestamp} is not a non-negative safe integer`);
  }
}
