/**
 * Strict base64 (RFC 4648 §4, standard alphabet, padded). Node's own decoder silently
 * skips invalid characters and accepts the URL alphabet and missing padding, so two
 * different strings could decode to the same hash or signature. For signed, published
 * artefacts we accept exactly one spelling of every byte string: the canonical one.
 */

const BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes canonical standard base64; returns undefined for anything else. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64_SHAPE.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // Non-zero bits in the padding position survive the shape check; re-encoding rejects them.
  return bytes.toString('base64') === text ? bytes : undefined;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A tree size or index: a non-negative integer that a JS number holds exactly (< 2^53). */
export function isSafeCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
