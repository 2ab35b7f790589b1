/**
 * Devices sign what they send. A batch of readings is accepted only with an Ed25519
 * signature, by the key registered for that device, over the RFC 8785 canonical JSON of
 *
 *   {"deviceId": …, "sequence": n, "readings": [{"metric", "value", "recordedAt"}, …]}
 *
 * with `recordedAt` in the form `2026-01-31T08:00:00.000Z` (what Date#toISOString
 * prints). `sequence` must grow from batch to batch, which is how replays are refused.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import canonicalize from 'canonicalize';

export interface SignedReading {
  metric: string;
  value: number;
  recordedAt: Date | string;
}

export interface BatchToSign {
  deviceId: string;
  sequence: number;
  readings: SignedReading[];
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function batchBytes(batch: BatchToSign): Buffer {
  const canonical = canonicalize({
    deviceId: batch.deviceId,
    sequence: batch.sequence,
    readings: batch.readings.map((r) => ({
      metric: r.metric,
      value: r.value,
      recordedAt: new Date(r.recordedAt).toISOString(),
    })),
  });
  return Buffer.from(canonical!, 'utf8');
}

/** An Ed25519 private key from its 32-byte seed. */
export function deviceKeyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/** The raw 32-byte public key, base64url: how a device's key is registered and stored. */
export function rawPublicKey(privateKey: KeyObject): string {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return spki.subarray(SPKI_ED25519_PREFIX.length).toString('base64url');
}

export function publicKeyFromRaw(raw: string): KeyObject {
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, bytes]), format: 'der', type: 'spki' });
}

export function signBatch(batch: BatchToSign, key: KeyObject): string {
  return sign(null, batchBytes(batch), key).toString('base64url');
}

export function verifyBatch(batch: BatchToSign, signature: string, publicKey: KeyObject): boolean {
  const sig = Buffer.from(signature, 'base64url');
  return sig.length === 64 && verify(null, batchBytes(batch), publicKey, sig);
}
