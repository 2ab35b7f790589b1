/**
 * Where passkey ceremonies may come from (issue 15, "Native apps"): the web origins of
 * ORIGIN (a comma-separated list; the first is the hub's own, the others WebAuthn
 * related origins) and the Android apps of ANDROID_APK_KEY_HASHES, whose clientDataJSON
 * origin is `android:apk-key-hash:<base64url SHA-256 of the signing certificate>`.
 *
 * Parsed and validated here, once, by common/config.ts: a bad entry stops every process at
 * start with the entry named, instead of a sign-in that fails later with "unexpected
 * origin". Pure functions, no I/O.
 */

/** `scheme://host[:port]`, exactly as a browser writes an origin: no path, query, fragment or credentials. */
export function parseWebOrigin(entry: string): { origin?: string; problem?: string } {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return { problem: `${JSON.stringify(entry)} is not an origin (scheme://host[:port])` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: `${JSON.stringify(entry)}: an origin is http:// or https://` };
  if (url.username || url.password) return { problem: `${JSON.stringify(entry)}: an origin carries no credentials` };
  // URL() normalises "https://a.org/" to a path of "/": only a bare trailing slash is tolerated.
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || /[?#]/.test(entry) || /^[a-z]+:\/\/[^/]+\/./i.test(entry)) {
    return { problem: `${JSON.stringify(entry)}: an origin has no path, query or fragment (scheme://host[:port])` };
  }
  // The browser's spelling (lower-case host, no default port, no slash): clientDataJSON compares exactly.
  return { origin: url.origin };
}

/** Origins from ORIGIN: each entry validated; duplicates dropped, order kept (the first is the hub's own). */
export function parseOriginList(value: string): { origins: string[]; problems: string[] } {
  const entries = value.split(',').map((s) => s.trim());
  const origins: string[] = [];
  const problems: string[] = [];
  if (entries.every((e) => e === '')) return { origins, problems: ['at least one origin, e.g. https://hub.example.org'] };
  for (const entry of entries) {
    if (entry === '') {
      problems.push('an empty entry (two commas, or a trailing comma)');
      continue;
    }
    const { origin, problem } = parseWebOrigin(entry);
    if (problem) problems.push(problem);
    else if (!origins.includes(origin!)) origins.push(origin!);
  }
  return { origins, problems };
}

/** A SHA-256 digest in unpadded base64url: 43 characters that decode to exactly 32 bytes. */
export function isApkKeyHash(value: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) return false;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.length === 32 && bytes.toString('base64url') === value;
}

/** ANDROID_APK_KEY_HASHES: comma-separated base64url SHA-256 signing-certificate digests. */
export function parseApkKeyHashes(value: string): { hashes: string[]; problems: string[] } {
  const hashes: string[] = [];
  const problems: string[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!isApkKeyHash(entry)) {
      problems.push(`${JSON.stringify(entry)} is not a base64url SHA-256 digest (43 characters, no padding; e.g. from \`keytool -list -v\`'s SHA256 hex, converted)`);
    } else if (!hashes.includes(entry)) hashes.push(entry);
  }
  return { hashes, problems };
}

/** The origin an Android app's passkey ceremony carries in its clientDataJSON. */
export const androidOrigin = (hash: string): string => `android:apk-key-hash:${hash}`;

/** Digital Asset Links wants the same digest as colon-separated upper-case hex ("AB:CD:…"). */
export function certFingerprint(hash: string): string {
  return Buffer.from(hash, 'base64url').toString('hex').toUpperCase().match(/../g)!.join(':');
}

/** Loopback hosts, for which browsers treat plain http as a secure context. */
export function isLoopbackOrigin(origin: string): boolean {
  const host = new URL(origin).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}
