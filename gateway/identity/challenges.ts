/**
 * WebAuthn challenges without stored state for sign-in, and with a lifetime for the rest.
 *
 * A sign-in challenge is self-describing: `v1 ‖ expiry ‖ 16 random bytes ‖ HMAC` (base64url,
 * 52 characters), the MAC keyed by a key derived from the session signing key, which
 * every gateway replica holds. Issuing one stores nothing, so `login/options` costs the
 * same for every caller and a flood of it leaves no rows behind. A challenge is burnt
 * only when a response to it has verified — a row keyed by the challenge, written with
 * its expiry — so it cannot be answered twice, and only the holder of a registered
 * passkey ever causes a write.
 *
 * After a rotation of the session key (`custodian keys rotate session`) challenges are
 * made with the newest key and checked against every key of the set, so one issued a
 * moment before still verifies. Decoys are keyed by the oldest key of the set, so they
 * stay the same across a rotation (until that key is removed).
 *
 * Registration challenges carry what the registration will do (the enrolment code, the
 * user) and are stored; they need a valid enrolment code or a session to be created.
 * Every stored challenge expires after CHALLENGE_TTL_MS and is pruned as new ones are
 * written, so the table holds at most the last few minutes' worth.
 */
import { createHmac, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { signingKeyOf, type OwnKeys } from '../../common/keysets';
import { safeEqual } from '../../common/secrets';
import { Challenge } from './entities';

export const CHALLENGE_TTL_MS = 5 * 60_000;
const VERSION = 1;
const NONCE_BYTES = 16;
const MAC_BYTES = 16;
const LENGTH = 1 + 6 + NONCE_BYTES + MAC_BYTES;

export type ChallengeCheck = 'ok' | 'unknown' | 'expired';

export class SignInChallenges {
  /** Derived keys by private key: derived once per key, not per request. */
  private readonly derived = new WeakMap<KeyObject, { key: Buffer; decoyKey: Buffer }>();

  constructor(private readonly sessionKeys: OwnKeys) {}

  private derive(privateKey: KeyObject): { key: Buffer; decoyKey: Buffer } {
    let keys = this.derived.get(privateKey);
    if (!keys) {
      const secret = privateKey.export({ format: 'der', type: 'pkcs8' });
      keys = {
        key: Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'custodian webauthn sign-in challenge v1', 32)),
        decoyKey: Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'custodian webauthn decoy credentials v1', 32)),
      };
      this.derived.set(privateKey, keys);
    }
    return keys;
  }

  /** Every private key of the set, newest first. */
  private privateKeys(): KeyObject[] {
    return 'privateKeys' in this.sessionKeys ? this.sessionKeys.privateKeys() : [this.sessionKeys];
  }

  private get decoyKey(): Buffer {
    return this.derive(this.privateKeys().at(-1)!).decoyKey;
  }

  /**
   * For the username form of sign-in: credential ids for a name that has no passkey,
   * shaped like real ones (one or two, 16 to 32 bytes) and the same every time the same
   * name is asked about — so the answer for an unknown account looks like a real one's,
   * and asking twice does not tell them apart. Every replica makes the same ones.
   */
  decoyCredentialIds(username: string): string[] {
    const mac = createHmac('sha256', this.decoyKey).update(username.normalize('NFC').toLowerCase()).digest();
    const count = 1 + (mac[0]! % 2);
    const lengths = [16, 20, 32];
    return Array.from({ length: count }, (_, i) => {
      const id = createHmac('sha256', this.decoyKey).update(`${i}:${username}`).digest();
      return id.subarray(0, lengths[mac[1 + i]! % lengths.length]).toString('base64url');
    });
  }

  private mac(body: Buffer, privateKey: KeyObject = signingKeyOf(this.sessionKeys).privateKey): Buffer {
    return createHmac('sha256', this.derive(privateKey).key).update(body).digest().subarray(0, MAC_BYTES);
  }

  /** A fresh challenge, valid until now + CHALLENGE_TTL_MS. */
  issue(now = Date.now()): Uint8Array<ArrayBuffer> {
    const body = Buffer.alloc(1 + 6 + NONCE_BYTES);
    body[0] = VERSION;
    body.writeUIntBE(now + CHALLENGE_TTL_MS, 1, 6);
    randomBytes(NONCE_BYTES).copy(body, 7);
    const bytes = new Uint8Array(new ArrayBuffer(LENGTH));
    bytes.set(Buffer.concat([body, this.mac(body)]));
    return bytes;
  }

  /** Whether a base64url challenge is one we issued, and still valid; and until when. */
  check(challenge: string, now = Date.now()): { result: ChallengeCheck; expiresAt?: Date } {
    const raw = /^[A-Za-z0-9_-]+$/.test(challenge) ? Buffer.from(challenge, 'base64url') : Buffer.alloc(0);
    if (raw.length !== LENGTH || raw[0] !== VERSION) return { result: 'unknown' };
    const body = raw.subarray(0, LENGTH - MAC_BYTES);
    const sent = raw.subarray(LENGTH - MAC_BYTES).toString('base64url');
    if (!this.privateKeys().some((key) => safeEqual(this.mac(body, key).toString('base64url'), sent))) return { result: 'unknown' };
    const expiresAt = new Date(body.readUIntBE(1, 6));
    return { result: expiresAt.getTime() <= now ? 'expired' : 'ok', expiresAt };
  }
}

/**
 * Deletes expired challenges. Run whenever one is written: writes are rare (a valid
 * enrolment code, a session or a verified passkey is needed, and /auth is rate-limited),
 * and the table never holds more than a few minutes of them.
 */
export async function pruneChallenges(db: DataSource | EntityManager, now = new Date()): Promise<void> {
  await db.createQueryBuilder().delete().from(Challenge).where('expires_at < :now', { now: now.toISOString() }).execute();
}
