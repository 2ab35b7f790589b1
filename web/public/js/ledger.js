// @ts-check
/**
 * Checking the ledger in the browser, with WebCrypto only — the server's word is not
 * taken for anything:
 *
 *   - RFC 6962 hashes: leaf SHA-256(0x00 ‖ data), node SHA-256(0x01 ‖ left ‖ right);
 *   - RFC 9162 §2.1.3.2 inclusion and §2.1.4.2 consistency proof verification;
 *   - C2SP signed notes with Ed25519: key id = SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[:4];
 *   - C2SP tlog-checkpoint text: origin, size, base64 root;
 *   - note key rotation (ledger/core/key-rotation.ts): a pinned key is followed to a new
 *     one only through the checkpoint that announces it, signed by both and naming it;
 *   - ledger leaves of every format (ledger/FORMAT.md): format 1 without `v`, format 2 `"v":2`.
 *
 * The same algorithms as ledger/core/verify.ts, note.ts and leaf.ts on the server, written
 * again here so that a lying server cannot also supply the verdict.
 */

export class VerifyError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'VerifyError';
  }
}

const enc = new TextEncoder();

/**
 * Strict base64 (standard alphabet, padded) to bytes.
 * @param {string} text
 */
export function fromBase64(text) {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) throw new VerifyError('not canonical base64');
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** @param {Uint8Array} bytes */
export function toBase64(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** @param {Uint8Array} bytes */
export function toHex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** @param {...Uint8Array} parts */
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
export function equalBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** @param {Uint8Array} data */
export async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', /** @type {BufferSource} */ (data)));
}

/** @param {Uint8Array} data */
export const leafHash = (data) => sha256(concat(new Uint8Array([0]), data));

/**
 * @param {Uint8Array} left
 * @param {Uint8Array} right
 */
export const nodeHash = (left, right) => sha256(concat(new Uint8Array([1]), left, right));

/** @param {bigint} x */
const bitLength = (x) => (x === 0n ? 0 : x.toString(2).length);
/** @param {bigint} x */
const popCount = (x) => [...x.toString(2)].filter((d) => d === '1').length;
/** @param {bigint} x */
function trailingZeros(x) {
  let n = 0;
  while (x > 0n && (x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}

/**
 * @param {string} what
 * @param {number} n
 */
function requireCount(what, n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new VerifyError(`${what} ${n} is not a non-negative integer`);
}

/**
 * @param {string} what
 * @param {Uint8Array} h
 */
function requireHash(what, h) {
  if (h.length !== 32) throw new VerifyError(`${what} is not a 32-byte SHA-256 hash`);
}

/**
 * The root an inclusion proof implies for a leaf (RFC 9162 §2.1.3.2).
 * @param {number} index
 * @param {number} size
 * @param {Uint8Array} leaf the leaf hash
 * @param {Uint8Array[]} proof
 */
export async function rootFromInclusionProof(index, size, leaf, proof) {
  requireCount('leaf index', index);
  requireCount('tree size', size);
  if (index >= size) throw new VerifyError(`leaf index ${index} is not below tree size ${size}`);
  requireHash('leaf hash', leaf);
  proof.forEach((p, i) => requireHash(`proof[${i}]`, p));
  const inner = bitLength(BigInt(index) ^ BigInt(size - 1));
  const border = popCount(BigInt(index) >> BigInt(inner));
  if (proof.length !== inner + border) throw new VerifyError(`the inclusion proof has ${proof.length} hashes; the sizes call for ${inner + border}`);
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new VerifyError('the inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new VerifyError('the inclusion proof is too short');
  return r;
}

/**
 * Succeeds iff the proof shows the tree of size m and root rootM is a prefix of the tree
 * of size n and root rootN (RFC 9162 §2.1.4.2).
 * @param {number} m
 * @param {number} n
 * @param {Uint8Array} rootM
 * @param {Uint8Array} rootN
 * @param {Uint8Array[]} proof
 */
export async function verifyConsistency(m, n, rootM, rootN, proof) {
  requireCount('first size', m);
  requireCount('second size', n);
  if (m > n) throw new VerifyError(`first size ${m} exceeds second size ${n}`);
  if (m === 0) throw new VerifyError('a consistency proof from the empty tree proves nothing');
  if (m === n) {
    if (proof.length !== 0) throw new VerifyError('sizes are equal but the proof is not empty');
    if (!equalBytes(rootM, rootN)) throw new VerifyError('sizes are equal but the roots differ');
    return;
  }
  requireHash('first root', rootM);
  requireHash('second root', rootN);
  proof.forEach((p, i) => requireHash(`proof[${i}]`, p));
  const bigM = BigInt(m);
  const bigN = BigInt(n);
  const mIsPowerOfTwo = (bigM & (bigM - 1n)) === 0n;
  const inner = bitLength((bigM - 1n) ^ (bigN - 1n));
  const border = popCount((bigM - 1n) >> BigInt(inner));
  const want = (mIsPowerOfTwo ? 0 : 1) + (inner - trailingZeros(bigM)) + border;
  if (proof.length !== want) throw new VerifyError(`the consistency proof has ${proof.length} hashes; the sizes call for ${want}`);
  const path = mIsPowerOfTwo ? [rootM, ...proof] : [...proof];
  let fn = bigM - 1n;
  let sn = bigN - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new VerifyError('the consistency proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new VerifyError('the consistency proof is too short');
  if (!equalBytes(fr, rootM)) throw new VerifyError('the consistency proof does not lead to the first root');
  if (!equalBytes(sr, rootN)) throw new VerifyError('the consistency proof does not lead to the second root');
}

/**
 * @typedef {{ text: string, name: string, keyId: Uint8Array, publicKey: Uint8Array, key: CryptoKey }} Verifier
 */

/**
 * Parses a C2SP verifier key, <name>+<hex key id>+base64(type ‖ 32-byte Ed25519 key),
 * checking its type byte and that the key id is SHA-256(name ‖ "\n" ‖ type ‖ key)[:4].
 * Note keys (0x01) and witness cosigner keys (0x04) differ only in the type byte.
 * @param {string} text
 * @param {number} type the signature type byte the key must have
 * @param {string} what how messages name the key ("the key", "the witness key")
 * @param {string} kind what a key of that type is ("an Ed25519 note key")
 */
async function parseTypedKey(text, type, what, kind) {
  const trimmed = text.trim();
  const first = trimmed.indexOf('+');
  const second = trimmed.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new VerifyError(`${what} is not <name>+<id>+<key>`);
  const name = trimmed.slice(0, first);
  const idHex = trimmed.slice(first + 1, second);
  if (!/^[0-9a-f]{8}$/i.test(idHex)) throw new VerifyError(`${what} id is not 8 hex digits`);
  const typed = fromBase64(trimmed.slice(second + 1));
  if (typed.length !== 33 || typed[0] !== type) throw new VerifyError(`${what} is not ${kind}`);
  const publicKey = typed.slice(1);
  const keyId = (await sha256(concat(enc.encode(name), new Uint8Array([0x0a, type]), publicKey))).slice(0, 4);
  if (toHex(keyId) !== idHex.toLowerCase()) throw new VerifyError(`${what} id does not match its name and key`);
  const key = await crypto.subtle.importKey('raw', /** @type {BufferSource} */ (publicKey), { name: 'Ed25519' }, false, ['verify']);
  return { text: trimmed, name, keyId, publicKey, key };
}

/** The signature type byte of Ed25519 note keys. */
const ED25519_NOTE = 0x01;

/**
 * Parses a note verifier key, <name>+<hex key id>+base64(0x01 ‖ 32-byte Ed25519 key),
 * and checks that the key id is the one its name and key derive.
 * @param {string} text
 * @returns {Promise<Verifier>}
 */
export const parseVerifierKey = (text) => parseTypedKey(text, ED25519_NOTE, 'the key', 'an Ed25519 note key');

/**
 * A signed note split into its text (through the final newline before the blank line)
 * and its signature lines, `— <name> base64(key id ‖ signature)`, each read strictly.
 * @param {string} note
 * @returns {{ text: string, signatures: { name: string, sig: Uint8Array }[] }}
 */
function splitNote(note) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new VerifyError('the note has no blank line before its signatures');
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) throw new VerifyError('the note does not end with a signature line');
  const signatures = block.slice(0, -1).split('\n').map((line) => {
    if (!line.startsWith('\u2014 ')) throw new VerifyError('a signature line does not start with "— "');
    const rest = line.slice(2);
    const space = rest.indexOf(' ');
    if (space <= 0) throw new VerifyError('a signature line has no signature');
    const sig = fromBase64(rest.slice(space + 1));
    if (sig.length < 5) throw new VerifyError('a signature is too short');
    return { name: rest.slice(0, space), sig };
  });
  return { text: note.slice(0, split + 1), signatures };
}

/**
 * Verifies a C2SP signed note against one trusted key; returns its text. At least one
 * signature line must be by that key (name and key id), and it must verify.
 * @param {string} note
 * @param {Verifier} verifier
 */
export async function openNote(note, verifier) {
  const { text, signatures } = splitNote(note);
  let verified = 0;
  for (const { name, sig } of signatures) {
    if (name !== verifier.name || !equalBytes(sig.slice(0, 4), verifier.keyId)) continue; // another key's: ignored
    const ok = sig.length === 68 && (await crypto.subtle.verify({ name: 'Ed25519' }, verifier.key, /** @type {BufferSource} */ (sig.slice(4)), /** @type {BufferSource} */ (enc.encode(text))));
    if (!ok) throw new VerifyError(`the signature by ${name} does not verify: the checkpoint was altered or not signed by this key`);
    verified++;
  }
  if (verified === 0) throw new VerifyError('the note has no signature by the trusted key');
  return text;
}

/**
 * @typedef {{ origin: string, size: number, root: Uint8Array, extensions: string[] }} Checkpoint
 */

/**
 * Parses C2SP tlog-checkpoint text.
 * @param {string} text
 * @returns {Checkpoint}
 */
export function parseCheckpoint(text) {
  const lines = text.slice(0, -1).split('\n');
  if (!text.endsWith('\n') || lines.length < 3 || lines.some((l) => l.length === 0)) throw new VerifyError('not a checkpoint');
  const [origin, sizeText, rootText, ...extensions] = /** @type {[string, string, string, ...string[]]} */ (lines);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new VerifyError('the checkpoint size is not a decimal count');
  const root = fromBase64(rootText);
  requireHash('the checkpoint root', root);
  return { origin, size: Number(sizeText), root, extensions };
}

/**
 * Verifies a signed checkpoint with the trusted key: signature, then text; the origin
 * must be the key's name (this log's checkpoints are signed under its origin).
 * @param {string} note
 * @param {Verifier} verifier
 */
export async function openCheckpoint(note, verifier) {
  const checkpoint = parseCheckpoint(await openNote(note, verifier));
  if (checkpoint.origin !== verifier.name) throw new VerifyError(`the checkpoint is for ${checkpoint.origin}, not ${verifier.name}`);
  return checkpoint;
}

/** The extension line of a checkpoint that announces a new key (ledger/core/key-rotation.ts). */
export const NEXT_KEY = 'next-key ';

/**
 * Verifies that `note` announces the rotation from `from` to `to`: signed by both, its
 * signed text naming `to` (a signature line alone could have been appended by anyone).
 * @param {string} note
 * @param {Verifier} from
 * @param {Verifier} to
 */
export async function openAnnouncement(note, from, to) {
  const checkpoint = await openCheckpoint(note, from);
  await openCheckpoint(note, to);
  if (!checkpoint.extensions.includes(NEXT_KEY + to.text)) throw new VerifyError(`the checkpoint of size ${checkpoint.size} does not name the new key`);
  return checkpoint;
}

/**
 * @typedef {{ verifierKey: string, fromSize: number, retiredAtSize: number | null }} ListedKey
 * @typedef {{ verifier: Verifier, fromSize: number, retiredAtSize: number | null }} TrustedKey
 * @typedef {{ current: Verifier, keys: TrustedKey[], followed: { size: number, from: Verifier, to: Verifier }[], problems: string[] }} KeyChain
 */

/**
 * The keys this browser may trust, from the pinned one and the server's list
 * (GET /ledger/keys): each key of the list after the first must be announced by its
 * predecessor (openAnnouncement on the checkpoint of its fromSize); the pinned key is
 * followed forward through such announcements only, and older keys are trusted back to
 * the first gap (the pinned key co-signed their hand-over). Every gap is a problem.
 * @param {string} pinned
 * @param {ListedKey[]} listed
 * @param {(size: number) => Promise<string | null>} checkpointOfSize the stored note of exactly that size
 * @returns {Promise<KeyChain>}
 */
export async function followKeys(pinned, listed, checkpointOfSize) {
  const pinnedVerifier = await parseVerifierKey(pinned);
  /** @type {string[]} */
  const problems = [];
  const verifiers = await Promise.all(listed.map((k) => parseVerifierKey(k.verifierKey)));
  const announced = [true];
  for (let i = 1; i < listed.length; i++) {
    const next = /** @type {ListedKey} */ (listed[i]);
    try {
      const note = await checkpointOfSize(next.fromSize);
      if (note === null) throw new VerifyError(`there is no checkpoint of size ${next.fromSize}`);
      await openAnnouncement(note, /** @type {Verifier} */ (verifiers[i - 1]), /** @type {Verifier} */ (verifiers[i]));
      announced.push(true);
    } catch (err) {
      problems.push(`The server lists key ${keyLabel(/** @type {Verifier} */ (verifiers[i]))} from size ${next.fromSize}, but no checkpoint signed by the key before it announces it (${err instanceof Error ? err.message : String(err)}).`);
      announced.push(false);
    }
  }
  const start = listed.findIndex((k) => k.verifierKey === pinnedVerifier.text);
  if (start < 0) {
    if (listed.length) problems.push(`The key pinned here, ${keyLabel(pinnedVerifier)}, is not among the keys the server lists.`);
    return { current: pinnedVerifier, keys: [{ verifier: pinnedVerifier, fromSize: 0, retiredAtSize: null }], followed: [], problems };
  }
  let low = start;
  while (low > 0 && announced[low]) low--;
  let high = start;
  while (high + 1 < listed.length && announced[high + 1]) high++;
  const keys = listed.slice(low, high + 1).map((k, i) => ({ verifier: /** @type {Verifier} */ (verifiers[low + i]), fromSize: k.fromSize, retiredAtSize: i + low === high ? null : k.retiredAtSize }));
  const followed = listed.slice(start + 1, high + 1).map((k, i) => ({ size: k.fromSize, from: /** @type {Verifier} */ (verifiers[start + i]), to: /** @type {Verifier} */ (verifiers[start + i + 1]) }));
  return { current: /** @type {Verifier} */ (verifiers[high]), keys, followed, problems };
}

/**
 * Verifies a checkpoint against the trusted keys: by the key that signs at its size (the
 * announcing checkpoint of a rotation verifies with either of its two keys).
 * @param {string} note
 * @param {TrustedKey[]} keys
 */
export async function openCheckpointWithKeys(note, keys) {
  const claimed = parseCheckpoint(note.slice(0, note.lastIndexOf('\n\n') + 1));
  const signing = keys.filter((k) => claimed.size >= k.fromSize && (k.retiredAtSize === null || claimed.size <= k.retiredAtSize));
  if (!signing.length) throw new VerifyError(`no trusted key signs checkpoints of size ${claimed.size}`);
  return openCheckpoint(note, /** @type {TrustedKey} */ (signing[signing.length - 1]).verifier);
}

/** @param {Verifier} v */
export const keyLabel = (v) => `${v.name}+${toHex(v.keyId)}`;

/** The leaf format this page reads up to (ledger/core/leaf.ts LEAF_FORMAT). */
export const LEAF_FORMAT = 2;

/**
 * @typedef {{ format: number, event: Record<string, unknown>, fields: Record<string, unknown> }} Leaf
 */

/**
 * Reads a ledger leaf's bytes, as ledger/core/leaf.ts readLeaf does: UTF-8 JSON of one
 * flat object with a string id, kind and at; no `v` is format 1 (leaves written before
 * the version field), `"v":2` is format 2. `event` is without `v`; `fields` is everything
 * the bytes say. (The hash, checked by the caller, is what makes the bytes evidence.)
 * @param {Uint8Array} data
 * @returns {Leaf}
 */
export function readLeaf(data) {
  /** @type {unknown} */
  let parsed;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    throw new VerifyError('the entry is not UTF-8 JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new VerifyError('the entry is not a JSON object');
  const fields = /** @type {Record<string, unknown>} */ (parsed);
  const { v, ...event } = fields;
  let format = 1;
  if (v === 2) format = 2;
  else if (typeof v === 'number' && Number.isSafeInteger(v) && v > LEAF_FORMAT) throw new VerifyError(`the entry is a format-${v} leaf, newer than this page reads (1 to ${LEAF_FORMAT}): reload the page`);
  else if (v !== undefined) throw new VerifyError(`the entry's format ${JSON.stringify(v)} is not one ever written`);
  for (const key of ['id', 'kind', 'at']) {
    if (typeof event[key] !== 'string') throw new VerifyError(`the entry has no string ${key}`);
  }
  return { format, event, fields };
}

// ——— Witness cosignatures (C2SP tlog-cosignature, cosignature/v1) ———————————————————

/** The signature type byte of Ed25519 cosignature/v1 keys (ledger/core/cosignature.ts). */
const COSIGNATURE_V1 = 0x04;

/**
 * @typedef {{ text: string, name: string, keyId: Uint8Array, publicKey: Uint8Array, key: CryptoKey, host: string }} Cosigner
 */

/**
 * Parses a witness's cosigner verifier key, <name>+<hex key id>+base64(0x04 ‖ 32-byte
 * Ed25519 key), checking that the key id is SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4].
 * @param {string} text
 * @param {string} [host] where the witness answers (for the page to say who it is)
 * @returns {Promise<Cosigner>}
 */
export async function parseCosignerKey(text, host = '') {
  return { ...(await parseTypedKey(text, COSIGNATURE_V1, 'the witness key', 'an Ed25519 cosignature/v1 key')), host };
}

/**
 * Whether two cosigner keys are the same key for the same name (the key id is derived
 * from both, so equal name and key bytes mean equal ids).
 * @param {Cosigner} a
 * @param {Cosigner} b
 */
export const sameCosignerKey = (a, b) => a.name === b.name && equalBytes(a.publicKey, b.publicKey);

/**
 * @typedef {{ witness: Cosigner, status: 'valid' | 'invalid' | 'missing', timestamp?: number, reason?: string }} CosignatureCheck
 * @typedef {{ witnesses: CosignatureCheck[], unknown: string[] }} CosignatureReport
 */

/**
 * Checks every witness's cosignature on a signed checkpoint, here: for each witness, the
 * line with its name and key id (`— <name> base64(key id ‖ u64 time ‖ Ed25519 sig)`) must
 * be an Ed25519 signature by its key over "cosignature/v1\ntime <t>\n" followed by the
 * checkpoint body — else "invalid" (a forged or altered cosignature is evidence, not
 * noise); no line is "missing" (the witness did not cosign). Lines by keys not in the
 * list, other than the log's own, are returned as `unknown` (name+key id), unchecked.
 * The log's signature is not checked here: openCheckpoint does that; a malformed
 * signature line is refused here as there (VerifyError).
 * @param {string} note
 * @param {Cosigner[]} witnesses
 * @param {(name: string, keyId: Uint8Array) => boolean} [isLogKey] the log's own signature lines, skipped
 * @returns {Promise<CosignatureReport>}
 */
export async function checkCosignatures(note, witnesses, isLogKey = () => false) {
  const { text: body, signatures } = splitNote(note);
  /** @type {Map<Cosigner, CosignatureCheck>} */
  const checks = new Map();
  /** @type {string[]} */
  const unknown = [];
  for (const { name, sig } of signatures) {
    const id = sig.slice(0, 4);
    if (isLogKey(name, id)) continue;
    const witness = witnesses.find((w) => w.name === name && equalBytes(w.keyId, id));
    if (!witness) {
      unknown.push(`${name}+${toHex(id)}`);
      continue;
    }
    if (checks.has(witness)) continue; // one cosignature per key; the first counts
    checks.set(witness, await checkOne(witness, body, sig));
  }
  return {
    witnesses: witnesses.map((w) => checks.get(w) ?? { witness: w, status: 'missing' }),
    unknown,
  };
}

/**
 * @param {Cosigner} witness
 * @param {string} body
 * @param {Uint8Array} sig key id (4) ‖ timestamp (8, big-endian) ‖ Ed25519 signature (64)
 * @returns {Promise<CosignatureCheck>}
 */
async function checkOne(witness, body, sig) {
  if (sig.length !== 76) return { witness, status: 'invalid', reason: `a cosignature/v1 signature is 76 bytes, not ${sig.length}` };
  const time = new DataView(sig.buffer, sig.byteOffset + 4, 8).getBigUint64(0);
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) return { witness, status: 'invalid', reason: 'its timestamp is out of range' };
  const timestamp = Number(time);
  const message = enc.encode(`cosignature/v1\ntime ${timestamp}\n${body}`);
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, witness.key, /** @type {BufferSource} */ (sig.slice(12)), /** @type {BufferSource} */ (message));
  return ok ? { witness, status: 'valid', timestamp } : { witness, status: 'invalid', timestamp, reason: 'the signature does not verify over this checkpoint and time' };
}
