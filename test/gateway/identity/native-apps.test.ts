/**
 * Native apps and related origins (issue 15) against the real gateway over HTTP: a
 * passkey registered and used from an Android app (clientDataJSON origin
 * `android:apk-key-hash:<hash>`) is accepted when ANDROID_APK_KEY_HASHES lists the app's
 * certificate and refused otherwise, at registration and at sign-in; a related web origin
 * of ORIGIN works; and the three /.well-known documents say what is configured, or 404.
 */
import { createHash } from 'node:crypto';
import { readEnv } from '../../../common/config';
import { createInvite } from '../../../gateway/identity/enrolment';
import { Passkey, User } from '../../../gateway/identity/entities';
import { startGateway, type RunningGateway } from '../../../gateway/server';
import { SoftwareAuthenticator } from '../../support/authenticator';
import { freshDatabase, type TestDatabase } from '../../support/database';

const RP_ID = 'localhost';
/** A signing certificate's SHA-256, as Android puts it in the origin (base64url, no padding). */
const certHash = (name: string) => createHash('sha256').update(`certificate of ${name}`).digest('base64url');
const APP_HASH = certHash('our app');
const OTHER_APP_HASH = certHash('a look-alike app');
const RELATED = 'https://portal.example.org';
const SETTINGS = {
  ORIGIN: `http://localhost:4000, ${RELATED}`,
  ANDROID_APK_KEY_HASHES: `${APP_HASH},${certHash('our second signing key')}`,
  ANDROID_PACKAGE: 'org.example.custodian',
  APPLE_APP_IDS: 'ABCDE12345.org.example.custodian',
};

let database: TestDatabase;
/** Configured for the apps above. */
let configured: RunningGateway;
/** Same database, nothing configured: the single default origin. */
let plain: RunningGateway;

beforeAll(async () => {
  database = await freshDatabase();
  const env = (extra: Record<string, string>) => readEnv({ ...process.env, ...database.vars, NODE_ENV: 'test', RATE_LIMIT_AUTH_PER_MINUTE: '0', ORIGIN: undefined, ...extra });
  configured = await startGateway({ env: env(SETTINGS), port: 0 });
  plain = await startGateway({ env: env({}), port: 0 });
}, 90_000);
afterAll(async () => {
  await configured?.close();
  await plain?.close();
  await database?.drop();
});

async function post(gateway: RunningGateway, path: string, body: unknown) {
  const res = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() };
}

let users = 0;
/** Registration options for a new clinician, as an app would ask for them. */
async function registrationOptions(gateway: RunningGateway) {
  const username = `app.user${++users}`;
  const { code } = await createInvite(gateway.db, { role: 'clinician', institutionId: 'inst_x' });
  const options = await post(gateway, '/auth/webauthn/register/options', { code, username });
  expect(options.status).toBe(200);
  return { username, options: options.body };
}

async function signIn(gateway: RunningGateway, device: SoftwareAuthenticator, origin: string) {
  const options = await post(gateway, '/auth/webauthn/login/options', {});
  expect(options.status).toBe(200);
  return post(gateway, '/auth/webauthn/login/verify', { response: device.get(options.body, { origin }) });
}

describe('passkeys from an Android app', () => {
  test('an app whose certificate is listed registers a passkey and signs in with it', async () => {
    const origin = `android:apk-key-hash:${APP_HASH}`;
    const device = new SoftwareAuthenticator({ origin, rpId: RP_ID });
    const { username, options } = await registrationOptions(configured);
    const registered = await post(configured, '/auth/webauthn/register/verify', { username, response: device.create(options) });
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({ verified: true, username, passkeyId: device.id });

    const session = await signIn(configured, device, origin);
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ username, tokenType: 'Bearer' });
    expect((await configured.db.getRepository(Passkey).findOneByOrFail({ id: device.id })).counter).toBe(1);
  });

  test('an app whose certificate is not listed is refused, registering and signing in', async () => {
    const stranger = `android:apk-key-hash:${OTHER_APP_HASH}`;
    const device = new SoftwareAuthenticator({ origin: stranger, rpId: RP_ID });
    const { username, options } = await registrationOptions(configured);
    const refused = await post(configured, '/auth/webauthn/register/verify', { username, response: device.create(options) });
    expect(refused.type).toMatch(/^application\/json/);
    expect([refused.status, refused.body.error.code]).toEqual([401, 'VERIFICATION_FAILED']);
    expect(refused.body.error.message).toContain(stranger);
    expect(await configured.db.getRepository(User).findOneBy({ username })).toBeNull();

    // A passkey registered from the listed app, then used by the look-alike: the same key, another origin.
    const ours = `android:apk-key-hash:${APP_HASH}`;
    const phone = new SoftwareAuthenticator({ origin: ours, rpId: RP_ID });
    const second = await registrationOptions(configured);
    expect((await post(configured, '/auth/webauthn/register/verify', { username: second.username, response: phone.create(second.options) })).status).toBe(201);
    const signIn1 = await signIn(configured, phone, stranger);
    expect([signIn1.status, signIn1.body.error.code]).toEqual([401, 'VERIFICATION_FAILED']);
    expect(signIn1.body).not.toHaveProperty('token');
    // The counter did not move: the refused assertion changed nothing.
    expect((await configured.db.getRepository(Passkey).findOneByOrFail({ id: phone.id })).counter).toBe(0);
  });

  test('a hub configured without apps refuses an app origin, even one listed elsewhere', async () => {
    const origin = `android:apk-key-hash:${APP_HASH}`;
    const device = new SoftwareAuthenticator({ origin, rpId: RP_ID });
    const { username, options } = await registrationOptions(plain);
    const refused = await post(plain, '/auth/webauthn/register/verify', { username, response: device.create(options) });
    expect([refused.status, refused.body.error.code]).toEqual([401, 'VERIFICATION_FAILED']);
  });
});

describe('web origins', () => {
  test('a related origin listed in ORIGIN completes a ceremony; the same origin is refused where it is not listed', async () => {
    const device = new SoftwareAuthenticator({ origin: RELATED, rpId: RP_ID });
    const { username, options } = await registrationOptions(configured);
    expect((await post(configured, '/auth/webauthn/register/verify', { username, response: device.create(options) })).status).toBe(201);
    expect((await signIn(configured, device, RELATED)).status).toBe(200);
    const elsewhere = await signIn(plain, device, RELATED);
    expect([elsewhere.status, elsewhere.body.error.code]).toEqual([401, 'VERIFICATION_FAILED']);
    // The hub's own origin still works beside the others.
    expect((await signIn(configured, device, 'http://localhost:4000')).status).toBe(200);
  });
});

describe('/.well-known documents', () => {
  const get = async (gateway: RunningGateway, path: string) => {
    const res = await fetch(`${gateway.url}${path}`);
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() };
  };

  test('assetlinks.json: the package and each certificate as colon-separated upper-case hex', async () => {
    const res = await get(configured, '/.well-known/assetlinks.json');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    const fingerprint = (hash: string) => Buffer.from(hash, 'base64url').toString('hex').toUpperCase().match(/../g)!.join(':');
    expect(res.body).toEqual([
      {
        relation: ['delegate_permission/common.handle_all_urls', 'delegate_permission/common.get_login_creds'],
        target: { namespace: 'android_app', package_name: 'org.example.custodian', sha256_cert_fingerprints: [fingerprint(APP_HASH), fingerprint(certHash('our second signing key'))] },
      },
    ]);
    expect(res.body[0].target.sha256_cert_fingerprints[0]).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  test('apple-app-site-association: webcredentials.apps, as application/json', async () => {
    const res = await get(configured, '/.well-known/apple-app-site-association');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    expect(res.body).toEqual({ webcredentials: { apps: ['ABCDE12345.org.example.custodian'] } });
  });

  test('webauthn: the web origins, never the app origins', async () => {
    const res = await get(configured, '/.well-known/webauthn');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/json/);
    expect(res.body).toEqual({ origins: ['http://localhost:4000', RELATED] });
  });

  test('each is a 404 JSON where it is not configured', async () => {
    for (const path of ['/.well-known/assetlinks.json', '/.well-known/apple-app-site-association', '/.well-known/webauthn']) {
      const res = await get(plain, path);
      expect([path, res.status, res.type.split(';')[0], res.body.error.code]).toEqual([path, 404, 'application/json', 'NOT_CONFIGURED']);
    }
  });
});
