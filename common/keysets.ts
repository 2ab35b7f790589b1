/**
 * Key sets: every Ed25519 key that signs tokens (identity, session) has an id, and
 * verifiers hold a set of keys, so a key can be replaced while everything runs.
 *
 *  - A key's id (`kid`) is its RFC 7638 JWK thumbprint: the same key has the same id in
 *    every process, whether it came from a PEM, a key-set file or a JWKS URL.
 *  - A key-set file is a JWKS (`{"keys":[…]}`) whose keys may carry their private half
 *    (`d`, files of mode 0600) and three dates of our own: `created`, `activates` (a
 *    signer uses a key only from then on, so verifiers have it before any token does) and
 *    `retiring` (from when a newer key signs; the key stays to verify what it signed).
 *  - Signers sign with the newest key that has activated; they watch their file and switch
 *    without a restart (`custodian keys rotate`, cli/keys.ts).
 *  - Verifiers pick the key by the token's `kid`; an unknown `kid` makes them read their
 *    source again — at most once per MIN_RELOAD_MS, however many tokens ask — before the
 *    token is refused, so a key published while they run is picked up.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';

export type KeyName = 'identity' | 'session';

/** One key as stored and served: a JWK with our dates. `d` only in private files. */
export interface StoredKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
  created?: string;
  activates?: string;
  retiring?: string;
}

export interface KeySetDocument {
  keys: StoredKey[];
}

export type KeyStatus = 'pending' | 'active' | 'retiring';

export interface LoadedKey {
  kid: string;
  publicKey: KeyObject;
  privateKey?: KeyObject;
  stored: StoredKey;
}

/** Where a set comes from: text (an environment variable), a file, or a JWKS URL. */
export type KeySource =
  | { kind: 'text'; text: string; setting: string }
  | { kind: 'file'; path: string; setting: string }
  | { kind: 'url'; url: string; setting: string };

/** A signer: the key to sign with now. A KeyObject signs as itself. */
export interface Signer {
  signingKey(now?: number): { kid: string; privateKey: KeyObject };
}

/** A verifier: the keys a token with this `kid` may have been signed with. */
export interface Verifier {
  verificationKeys(kid: string | undefined): Promise<KeyObject[]>;
}

export type SignWith = KeyObject | Signer;
export type VerifyWith = KeyObject | Verifier;
/** What signs and checks its own tokens (the gateway's session keys): a set, or one private key. */
export type OwnKeys = KeyObject | KeySet;

/** RFC 7638 thumbprint of an Ed25519 public JWK: SHA-256 of `{"crv","kty","x"}` in that order. */
export function thumbprint(x: string): string {
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
}

/** The `kid` of a key (private or public). */
export function kidOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('only Ed25519 keys sign tokens here');
  return thumbprint(jwk.x);
}

const kidCache = new WeakMap<KeyObject, string>();

export function signingKeyOf(signer: SignWith): { kid: string; privateKey: KeyObject } {
  if (!isKeyObject(signer)) return signer.signingKey();
  let kid = kidCache.get(signer);
  if (!kid) kidCache.set(signer, (kid = kidOf(signer)));
  return { kid, privateKey: signer };
}

export async function verificationKeysOf(verifier: VerifyWith, kid: string | undefined): Promise<KeyObject[]> {
  if (isKeyObject(verifier)) return [verifier.type === 'private' ? createPublicKey(verifier) : verifier];
  return verifier.verificationKeys(kid);
}

function isKeyObject(value: unknown): value is KeyObject {
  return typeof value === 'object' && value !== null && 'asymmetricKeyType' in value && 'export' in value;
}

/** A new key as stored: private half included, activating `activateInSeconds` from now. */
export function newStoredKey(now = Date.now(), activateInSeconds = 0): StoredKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return {
    kty: 'OKP',
    crv: 'Ed25519',
    x: jwk.x!,
    d: jwk.d!,
    kid: thumbprint(jwk.x!),
    alg: 'EdDSA',
    use: 'sig',
    created: new Date(now).toISOString(),
    activates: new Date(now + activateInSeconds * 1000).toISOString(),
  };
}

export function storedKeyFromPem(pem: string): StoredKey {
  const text = pem.replace(/\\n/g, '\n');
  const isPrivate = /PRIVATE KEY/.test(text);
  const key = isPrivate ? createPrivateKey(text) : createPublicKey(text);
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('expected an Ed25519 key');
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x, ...(isPrivate ? { d: jwk.d! } : {}), kid: thumbprint(jwk.x), alg: 'EdDSA', use: 'sig' };
}

/** A PEM (one key) or a JWKS document, as text. */
export function parseKeySetText(text: string, setting: string): KeySetDocument {
  const trimmed = text.trim();
  // A PEM in an environment variable often has its line breaks written as "\n".
  if (trimmed.replace(/\\n/g, '\n').trimStart().startsWith('-----BEGIN')) return { keys: [storedKeyFromPem(trimmed)] };
  let doc: unknown;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    throw new Error(`${setting}: neither a PEM key nor a JWKS document`);
  }
  const keys = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new Error(`${setting}: a JWKS document has a "keys" array`);
  const ours = keys.filter((k): k is StoredKey => typeof k === 'object' && k !== null && (k as StoredKey).kty === 'OKP' && (k as StoredKey).crv === 'Ed25519' && typeof (k as StoredKey).x === 'string');
  // The kid is ours to compute: a document cannot make one key pass for another.
  return { keys: ours.map((k) => ({ ...k, kid: thumbprint(k.x), alg: 'EdDSA', use: 'sig' })) };
}

/** The status of a key in a set at `now`. */
export function statusOf(key: StoredKey, now = Date.now()): KeyStatus {
  if (key.retiring && Date.parse(key.retiring) <= now) return 'retiring';
  if (key.activates && Date.parse(key.activates) > now) return 'pending';
  return 'active';
}

/** What may be published: the public halves only. */
export function publicDocument(doc: KeySetDocument): KeySetDocument {
  return { keys: doc.keys.map(({ d: _d, ...rest }) => rest) };
}

/** Writes atomically (a reader never sees half a file): a temporary file, then rename. */
export function writeKeySetFile(file: string, doc: KeySetDocument, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode });
  fs.renameSync(tmp, file);
}

/** Unknown kids make a verifier read its source again at most this often. */
export const MIN_RELOAD_MS = 1000;
/** How often a file source is checked for a change (a stat). */
export const DEFAULT_POLL_MS = 2000;
/** A JWKS URL is read again this often even when every kid is known, so removed keys go. */
const URL_REFRESH_MS = 5 * 60_000;
const URL_TIMEOUT_MS = 3000;

export interface KeySetOptions {
  pollMs?: number;
  /** Told when the set read from the source holds other keys than before. */
  onReload?: (kids: string[]) => void;
  /** Told when signing moves to another key (at its activation, not at the file change). */
  onSigningKey?: (kid: string) => void;
  onError?: (err: Error) => void;
}

/**
 * A set of keys from one source, kept current. Signs (when it holds private keys) with
 * the newest activated key; verifies by kid with a rate-limited reload on an unknown one.
 */
export class KeySet implements Signer, Verifier {
  private keys = new Map<string, LoadedKey>();
  /** The keys newest first, sorted once per read: signing asks for it on every token. */
  private sorted: LoadedKey[] = [];
  private lastLoad = 0;
  private reloading: Promise<void> | null = null;
  private fingerprint = '';
  private timer: NodeJS.Timeout | null = null;
  private lastSigningKid: string | null = null;

  private constructor(
    readonly name: KeyName,
    readonly source: KeySource,
    private readonly options: KeySetOptions,
  ) {}

  /** Opens a set; text and file sources are read at once (a bad key stops the start). */
  static open(name: KeyName, source: KeySource, options: KeySetOptions = {}): KeySet {
    const set = new KeySet(name, source, options);
    if (source.kind !== 'url') set.apply(set.readSync());
    if (source.kind !== 'text') {
      const every = source.kind === 'file' ? (options.pollMs ?? DEFAULT_POLL_MS) : URL_REFRESH_MS;
      set.timer = setInterval(() => void set.poll(), every);
      set.timer.unref();
    }
    return set;
  }

  /** Resolves once a URL source has been read (or failed to be: tokens will retry it). */
  async ready(): Promise<this> {
    if (this.source.kind === 'url' && this.keys.size === 0) await this.reload().catch((err: Error) => this.options.onError?.(err));
    return this;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Every key, newest first. */
  list(): LoadedKey[] {
    return this.sorted;
  }

  signingKey(now = Date.now()): { kid: string; privateKey: KeyObject } {
    const candidates = this.list().filter((k) => k.privateKey && statusOf(k.stored, now) !== 'pending');
    // Prefer a key not yet retiring; a set whose only keys retire still signs with the newest.
    const key = candidates.find((k) => statusOf(k.stored, now) === 'active') ?? candidates[0];
    if (!key) throw new Error(`the ${this.name} key set (${describe(this.source)}) holds no private key that has activated`);
    if (key.kid !== this.lastSigningKid) {
      const first = this.lastSigningKid === null;
      this.lastSigningKid = key.kid;
      if (!first) this.options.onSigningKey?.(key.kid);
    }
    return { kid: key.kid, privateKey: key.privateKey! };
  }

  /** Every private key in the set (e.g. to check a MAC made with an older one). */
  privateKeys(): KeyObject[] {
    return this.list().flatMap((k) => (k.privateKey ? [k.privateKey] : []));
  }

  async verificationKeys(kid: string | undefined): Promise<KeyObject[]> {
    // A token without a kid predates key ids: any key of the set may have signed it.
    if (kid === undefined) return this.list().map((k) => k.publicKey);
    const known = this.keys.get(kid);
    if (known) return [known.publicKey];
    await this.reload().catch((err: Error) => this.options.onError?.(err));
    const found = this.keys.get(kid);
    return found ? [found.publicKey] : [];
  }

  /** The public JWKS, as served at /.well-known/… and written beside a private file. */
  publicJwks(): KeySetDocument {
    return publicDocument({ keys: this.list().map((k) => k.stored) });
  }

  /**
   * Reads the source again — at most once per MIN_RELOAD_MS: callers arriving meanwhile
   * share the next read instead of starting their own.
   */
  reload(): Promise<void> {
    if (this.reloading) return this.reloading;
    const wait = Math.max(0, this.lastLoad + MIN_RELOAD_MS - Date.now());
    this.reloading = (async () => {
      if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
      try {
        this.apply(this.source.kind === 'url' ? await this.readUrl(this.source.url) : this.readSync());
      } finally {
        this.lastLoad = Date.now();
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  private async poll(): Promise<void> {
    try {
      if (this.source.kind === 'url') return await this.reload();
      if (this.source.kind !== 'file') return;
      const stat = fs.statSync(this.source.path);
      if (`${stat.ino}:${stat.size}:${stat.mtimeMs}` !== this.fingerprint) await this.reload();
    } catch (err) {
      this.options.onError?.(err as Error);
    }
  }

  private readSync(): KeySetDocument {
    const source = this.source;
    if (source.kind === 'text') return parseKeySetText(source.text, source.setting);
    if (source.kind !== 'file') throw new Error('not a local source');
    let text: string;
    try {
      const stat = fs.statSync(source.path);
      this.fingerprint = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      text = fs.readFileSync(source.path, 'utf8');
    } catch (err) {
      throw new Error(`${source.setting}: cannot read ${source.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    return parseKeySetText(text, `${source.setting} (${source.path})`);
  }

  private async readUrl(url: string): Promise<KeySetDocument> {
    const response = await fetch(url, { signal: AbortSignal.timeout(URL_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${this.source.setting}: ${url} answered ${response.status}`);
    const doc = parseKeySetText(await response.text(), `${this.source.setting} (${url})`);
    // Whatever a URL says, only public halves are used from it.
    return publicDocument(doc);
  }

  private apply(doc: KeySetDocument): void {
    if (doc.keys.length === 0) throw new Error(`the ${this.name} key set (${describe(this.source)}) is empty`);
    const beforeKids = [...this.keys.keys()].sort().join(',');
    const next = new Map<string, LoadedKey>();
    for (const stored of doc.keys) {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: stored.x }, format: 'jwk' });
      const privateKey = stored.d ? createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: stored.x, d: stored.d }, format: 'jwk' }) : undefined;
      next.set(stored.kid, { kid: stored.kid, publicKey, privateKey, stored });
    }
    this.keys = next;
    this.sorted = [...next.values()].sort((a, b) => order(b.stored) - order(a.stored));
    const kids = [...next.keys()].sort();
    if (beforeKids !== '' && beforeKids !== kids.join(',')) this.options.onReload?.(kids);
  }
}

function order(key: StoredKey): number {
  return Date.parse(key.activates ?? key.created ?? '') || 0;
}

export function describe(source: KeySource): string {
  return source.kind === 'file' ? `${source.setting}=${source.path}` : source.kind === 'url' ? `${source.setting}=${source.url}` : source.setting;
}

/** A token whose kid no key of the set has, even after reading the source again. */
export class UnknownKey extends Error {}

/**
 * Verifies a JWT against a key set: the key its `kid` names (after at most one reload),
 * or — for a token without a kid — each key in turn. Throws jose's errors, or UnknownKey.
 */
export async function verifyWithKeySet(token: string, keys: VerifyWith, options: JWTVerifyOptions): Promise<JWTPayload> {
  const header = decodeProtectedHeader(token); // throws on a malformed token
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const candidates = await verificationKeysOf(keys, kid);
  if (candidates.length === 0) throw new UnknownKey(`no key with id ${kid}`);
  let lastError: unknown;
  for (const key of candidates) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}
