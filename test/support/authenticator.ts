/**
 * A software passkey authenticator for tests: real ECDSA P-256 keys, attestation
 * "none", real assertions — the same bytes a platform authenticator would produce,
 * so @simplewebauthn/server verifies them exactly as it would a phone's. Knobs let a
 * test produce what an attacker or a broken device would: another origin, another RP
 * id, a rewound counter, a tampered signature.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encodeCBOR } from '@levischuck/tiny-cbor';

const b64u = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();

export interface Ceremony {
  origin?: string;
  rpId?: string;
  /** Overrides the challenge answered (e.g. one that was never issued). */
  challenge?: string;
}

interface RegistrationOptions {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}

interface AuthenticationOptions {
  challenge: string;
  rpId?: string;
}

export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly keys: { privateKey: KeyObject; publicKey: KeyObject };
  counter = 0;
  private userHandle = '';

  constructor(private readonly defaults: { origin: string; rpId: string }) {
    this.keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  private authData(rpId: string, flags: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  /** navigator.credentials.create(), as JSON (RegistrationResponseJSON). */
  create(options: RegistrationOptions, c: Ceremony = {}) {
    const rpId = c.rpId ?? options.rp.id ?? this.defaults.rpId;
    this.userHandle = options.user.id;
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    const coseKey = encodeCBOR(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, Buffer.from(coseKey)]);
    const authData = this.authData(rpId, 0x01 | 0x04 | 0x40, attested); // UP, UV, AT
    const attestationObject = encodeCBOR(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.create',
      challenge: c.challenge ?? options.challenge,
      origin: c.origin ?? this.defaults.origin,
      crossOrigin: false,
    });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(Buffer.from(clientDataJSON)),
        attestationObject: b64u(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get(), as JSON (AuthenticationResponseJSON). */
  get(options: AuthenticationOptions, c: Ceremony & { tamper?: boolean; counter?: number; withoutUserHandle?: boolean } = {}) {
    this.counter = c.counter ?? this.counter + 1;
    const authData = this.authData(c.rpId ?? options.rpId ?? this.defaults.rpId, 0x01 | 0x04);
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge: c.challenge ?? options.challenge, origin: c.origin ?? this.defaults.origin, crossOrigin: false }),
    );
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.keys.privateKey);
    if (c.tamper) signature[signature.length - 1]! ^= 0x01;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        // A non-discoverable (server-side) credential may answer without its user handle.
        ...(c.withoutUserHandle ? {} : { userHandle: this.userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
