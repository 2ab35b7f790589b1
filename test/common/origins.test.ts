/**
 * ORIGIN as a list, ANDROID_APK_KEY_HASHES, ANDROID_PACKAGE and APPLE_APP_IDS (common/
 * origins.ts, common/config.ts): what is accepted and how it is spelt afterwards, every
 * bad entry refused with its name and what to write instead, and the gateway refusing to
 * start on one. In production every web origin must be https (common/production.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readEnv } from '../../common/config';
import { certFingerprint, isApkKeyHash } from '../../common/origins';
import { projectRoot } from '../../common/paths';
import { productionProblems } from '../../common/production';

const hash = createHash('sha256').update('a signing certificate').digest('base64url');
const read = (vars: Record<string, string>) => readEnv({ NODE_ENV: 'test', ...vars });
const refusal = (vars: Record<string, string>) => {
  try {
    read(vars);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(vars)}`);
};

describe('ORIGIN', () => {
  test('unset: the single default origin, and no app origins', () => {
    const env = read({});
    expect(env.ORIGIN).toBe('http://localhost:4000');
    expect(env.WEB_ORIGINS).toEqual(['http://localhost:4000']);
    expect(env.WEBAUTHN_ORIGINS).toEqual(['http://localhost:4000']);
  });

  test('a comma-separated list, spelt as browsers spell origins; the first is the hub’s own', () => {
    const env = read({ ORIGIN: ' https://Hub.Example.org:443/ ,https://portal.example.org:8443, https://hub.example.org', ANDROID_APK_KEY_HASHES: hash });
    expect(env.ORIGIN).toBe('https://hub.example.org');
    expect(env.WEB_ORIGINS).toEqual(['https://hub.example.org', 'https://portal.example.org:8443']);
    expect(env.WEBAUTHN_ORIGINS).toEqual(['https://hub.example.org', 'https://portal.example.org:8443', `android:apk-key-hash:${hash}`]);
  });

  test.each([
    ['https://hub.example.org/app', /"https:\/\/hub\.example\.org\/app": an origin has no path/],
    ['https://hub.example.org?x=1', /no path, query or fragment/],
    ['hub.example.org', /"hub\.example\.org" is not an origin \(scheme:\/\/host\[:port\]\)/],
    ['ftp://hub.example.org', /an origin is http:\/\/ or https:\/\//],
    ['https://user:pw@hub.example.org', /carries no credentials/],
    ['https://a.example.org,,https://b.example.org', /an empty entry/],
    ['', /at least one origin/],
  ])('%j is refused with what to write', (value, message) => {
    const text = refusal({ ORIGIN: value });
    expect(text).toMatch(/^Invalid configuration:\n {2}ORIGIN: /);
    expect(text).toMatch(message);
  });

  test('every bad entry is named, not only the first', () => {
    const text = refusal({ ORIGIN: 'https://ok.example.org,https://a.example.org/x,nonsense' });
    expect(text).toContain('"https://a.example.org/x"');
    expect(text).toContain('"nonsense"');
  });
});

describe('apps', () => {
  test('an APK key hash is a base64url SHA-256; assetlinks gets it as colon-separated hex', () => {
    expect(isApkKeyHash(hash)).toBe(true);
    expect(certFingerprint(hash)).toBe(createHash('sha256').update('a signing certificate').digest('hex').toUpperCase().match(/../g)!.join(':'));
    expect(isApkKeyHash(`${hash}=`)).toBe(false);
    expect(isApkKeyHash(Buffer.alloc(32).toString('base64'))).toBe(false); // padded base64
    expect(isApkKeyHash(hash.slice(1))).toBe(false);
  });

  test('bad hashes, a package without certificates and a malformed Apple app id are refused', () => {
    expect(refusal({ ANDROID_APK_KEY_HASHES: `${hash},AB:CD:EF` })).toMatch(/ANDROID_APK_KEY_HASHES: "AB:CD:EF" is not a base64url SHA-256 digest/);
    expect(refusal({ ANDROID_PACKAGE: 'org.example.custodian' })).toMatch(/ANDROID_PACKAGE: needs ANDROID_APK_KEY_HASHES too/);
    expect(refusal({ ANDROID_PACKAGE: 'custodian', ANDROID_APK_KEY_HASHES: hash })).toMatch(/ANDROID_PACKAGE: ANDROID_PACKAGE must be an application id/);
    expect(refusal({ APPLE_APP_IDS: 'org.example.custodian' })).toMatch(/APPLE_APP_IDS: "org\.example\.custodian" is not <Team ID>\.<bundle id>/);
    expect(read({ APPLE_APP_IDS: 'ABCDE12345.org.example.custodian, ABCDE12345.org.example.custodian-ipad' }).APPLE_APP_IDS).toEqual([
      'ABCDE12345.org.example.custodian',
      'ABCDE12345.org.example.custodian-ipad',
    ]);
  });
});

test('the gateway refuses to start on a bad ORIGIN, naming the entry, before it writes anything', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-origin-'));
  try {
    const run = spawnSync(process.execPath, [path.join(projectRoot(), 'dist', 'gateway', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: '0', ORIGIN: 'https://hub.example.org/portal' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('ORIGIN: "https://hub.example.org/portal": an origin has no path, query or fragment');
    expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack
    expect(fs.readdirSync(dataDir)).toEqual([]);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 40_000);

test('in production every web origin must be https, and the hub’s own is on RP_ID', async () => {
  const problems = await productionProblems(['gateway'], {
    NODE_ENV: 'production',
    REDIS_URL: 'redis://127.0.0.1:1',
    RP_ID: 'hub.example.org',
    ORIGIN: 'https://hub.example.org,http://portal.example.net,https://other.example.com',
  });
  expect(problems).toContain('ORIGIN: must be https in production (it is http://portal.example.net)');
  expect(problems.filter((p) => p.startsWith('ORIGIN'))).toHaveLength(1);
  // Related origins may be on other sites (/.well-known/webauthn lists them); the first may not.
  expect(problems.filter((p) => p.startsWith('RP_ID'))).toEqual([]);
  const wrongSite = await productionProblems(['gateway'], { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:1', RP_ID: 'hub.example.org', ORIGIN: 'https://other.example.com,https://hub.example.org' });
  expect(wrongSite).toContain("RP_ID: must be ORIGIN's host (other.example.com) or a parent domain of it (it is hub.example.org)");
});
