/**
 * Passkey sign-in against the real gateway over HTTP, with a software authenticator
 * producing real WebAuthn registrations and assertions — and every refusal.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { IsNull, Not } from 'typeorm';
import { createInvite } from '../../../gateway/identity/enrolment';
import { CHALLENGE_TTL_MS, SignInChallenges } from '../../../gateway/identity/challenges';
import { ApiToken, Challenge, EnrolmentCode, Passkey, Session, User } from '../../../gateway/identity/entities';
import { loadPrivateKey } from '../../../common/keys';
import { startGateway, type RunningGateway } from '../../../gateway/server';
import { seed } from '../../../seed/write';
import { Patient } from '../../../subgraphs/patients/entities';
import { openDatabase } from '../../../common/database';
import { SUBGRAPHS } from '../../../subgraphs';
import { CLI } from '../../support/hub';
import { SoftwareAuthenticator } from '../../support/authenticator';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { codes, gql, ok } from '../../support/graphql';

const ORIGIN = 'http://localhost:4000';

/**
 * The /auth refusal's own code: `extensions.reason` (or `extensions.code` when that is
 * already as fine), checked against the deprecated `error.code` still sent beside it.
 */
function reasonOf(body: { errors: { extensions: { code: string; reason?: string } }[]; error: { code: string } }): string {
  const { code, reason } = body.errors[0]!.extensions;
  expect(body.error.code).toBe(reason ?? code);
  return reason ?? code;
}
const RP_ID = 'localhost';

let database: TestDatabase;
let gateway: RunningGateway;
let patientId: string;

beforeAll(async () => {
  database = await freshDatabase();
  await seed({ patients: 5, seed: 3 }, database.env);
  const patients = await openDatabase({ name: 'patients', ...SUBGRAPHS.patients.database }, database.env);
  patientId = (await patients.getRepository(Patient).find({ take: 1 }))[0]!.id;
  await patients.destroy();
  // Dozens of ceremonies from one address in a minute: the /auth rate limit has its own
  // tests (test/gateway/hostile/floods.test.ts); here it would only get in the way.
  gateway = await startGateway({ env: { ...database.env, RATE_LIMIT_AUTH_PER_MINUTE: 0 }, port: 0 });
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await database?.drop();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const authenticator = () => new SoftwareAuthenticator({ origin: ORIGIN, rpId: RP_ID });
const invite = async (role: 'patient' | 'clinician' = 'patient') =>
  (await createInvite(gateway.db, role === 'patient' ? { role, patientId } : { role, institutionId: 'inst_x' })).code;

async function register(username: string, device = authenticator(), code?: string) {
  const options = await post('/auth/webauthn/register/options', { code: code ?? (await invite()), username });
  expect(options.status).toBe(200);
  return { device, options: options.body, verify: await post('/auth/webauthn/register/verify', { username, response: device.create(options.body) }) };
}

async function login(username: string, device: SoftwareAuthenticator, knobs: Parameters<SoftwareAuthenticator['get']>[1] = {}) {
  const options = await post('/auth/webauthn/login/options', { username });
  expect(options.status).toBe(200);
  return post('/auth/webauthn/login/verify', { username, response: device.get(options.body, knobs) });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
/** The gateway's own sign-in challenges (same session key), to mint one at another time. */
const signInChallenges = () => new SignInChallenges(loadPrivateKey('session', database.env.DATA_DIR));
const graphql = (query: string, token: string, variables?: Record<string, unknown>) => gql(`${gateway.url}/graphql`, query, variables, bearer(token));

describe('registration and sign-in', () => {
  test('an invited patient registers a passkey, signs in, and is who the invite said', async () => {
    const { device, options, verify } = await register('ada.patient');
    expect(options.rp.id).toBe(RP_ID);
    expect(options.attestation).toBe('none');
    expect(verify.status).toBe(201);
    expect(verify.body).toMatchObject({ verified: true, username: 'ada.patient', role: 'patient', passkeyId: device.id });

    const session = await login('ada.patient', device);
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const me = ok(await graphql('{ me { username role authenticatedWith purposeOfUse patient { id } passkeys { id } } }', session.body.token));
    expect(me.me).toEqual({
      username: 'ada.patient',
      role: 'PATIENT',
      authenticatedWith: 'PASSKEY_SESSION',
      purposeOfUse: 'TREATMENT',
      patient: { id: patientId },
      passkeys: [{ id: device.id }],
    });
    const stored = await gateway.db.getRepository(Passkey).findOneByOrFail({ id: device.id });
    expect(stored.counter).toBe(1);
  });

  test('nobody registers without an invite, and an invite works once, before it expires', async () => {
    const noCode = await post('/auth/webauthn/register/options', { username: 'mallory' });
    expect([noCode.status, reasonOf(noCode.body)]).toEqual([401, 'CODE_REQUIRED']);
    const wrong = await post('/auth/webauthn/register/options', { code: 'AAAAA-BBBBB-CCCCC-DDDDD', username: 'mallory' });
    expect([wrong.status, reasonOf(wrong.body)]).toEqual([401, 'UNKNOWN_CODE']);

    const code = await invite();
    expect((await register('first.user', authenticator(), code)).verify.status).toBe(201);
    const again = await post('/auth/webauthn/register/options', { code, username: 'second.user' });
    expect([again.status, reasonOf(again.body)]).toEqual([410, 'CODE_USED']);

    const stale = await invite();
    await gateway.db.getRepository(EnrolmentCode).update({ usedAt: IsNull() }, { expiresAt: new Date(Date.now() - 1000) });
    const expired = await post('/auth/webauthn/register/options', { code: stale, username: 'late.user' });
    expect([expired.status, reasonOf(expired.body)]).toEqual([410, 'CODE_EXPIRED']);
    expect(await gateway.db.getRepository(User).findOneBy({ username: 'late.user' })).toBeNull();
  });

  test('a taken username, a malformed one, and a malformed body are refused', async () => {
    await register('taken.name');
    const taken = await post('/auth/webauthn/register/options', { code: await invite(), username: 'taken.name' });
    expect([taken.status, reasonOf(taken.body)]).toEqual([409, 'USERNAME_TAKEN']);
    const bad = await post('/auth/webauthn/register/options', { code: await invite(), username: 'X' });
    expect([bad.status, reasonOf(bad.body)]).toEqual([400, 'INVALID_USERNAME']);
    const notJson = await post('/auth/webauthn/login/options', '{"username":');
    expect([notJson.status, reasonOf(notJson.body)]).toEqual([400, 'INVALID_REQUEST']);
    const noResponse = await post('/auth/webauthn/login/verify', { username: 'taken.name' });
    expect([noResponse.status, reasonOf(noResponse.body)]).toEqual([400, 'INVALID_REQUEST']);
  });

  test('a registration for another origin or RP id, or answering no challenge of ours, is refused', async () => {
    for (const [ceremony, code] of [
      [{ origin: 'https://evil.example' }, 'VERIFICATION_FAILED'],
      [{ rpId: 'evil.example' }, 'VERIFICATION_FAILED'],
      [{ challenge: 'bm90LW91ci1jaGFsbGVuZ2U' }, 'UNKNOWN_CHALLENGE'],
    ] as const) {
      const username = `rp.${Math.random().toString(36).slice(2, 8)}`;
      const options = await post('/auth/webauthn/register/options', { code: await invite(), username });
      const res = await post('/auth/webauthn/register/verify', { username, response: authenticator().create(options.body, ceremony) });
      expect([res.status, reasonOf(res.body)]).toEqual([401, code]);
      expect(await gateway.db.getRepository(User).findOneBy({ username })).toBeNull();
    }
  });

  test('a replayed registration and an expired challenge are refused', async () => {
    const device = authenticator();
    const options = await post('/auth/webauthn/register/options', { code: await invite(), username: 'replay.reg' });
    const response = device.create(options.body);
    expect((await post('/auth/webauthn/register/verify', { username: 'replay.reg', response })).status).toBe(201);
    const replay = await post('/auth/webauthn/register/verify', { username: 'replay.reg', response });
    expect([replay.status, reasonOf(replay.body)]).toEqual([401, 'CHALLENGE_USED']);

    // A sign-in challenge issued more than five minutes ago, by this gateway's key.
    expect((await login('replay.reg', device)).status).toBe(200);
    const stale = Buffer.from(signInChallenges().issue(Date.now() - CHALLENGE_TTL_MS - 1000)).toString('base64url');
    const late = await post('/auth/webauthn/login/verify', { username: 'replay.reg', response: device.get({ challenge: stale, rpId: RP_ID }) });
    expect([late.status, reasonOf(late.body)]).toEqual([401, 'CHALLENGE_EXPIRED']);
  });

  test('sign-in refuses unknown passkeys, tampered signatures, other origins, replays and rewound counters', async () => {
    const { device } = await register('careful.user');
    expect((await login('careful.user', device)).status).toBe(200);

    const stranger = authenticator();
    const unknown = await login('careful.user', stranger);
    expect([unknown.status, reasonOf(unknown.body)]).toEqual([401, 'UNKNOWN_CREDENTIAL']);

    const tampered = await login('careful.user', device, { tamper: true });
    expect([tampered.status, reasonOf(tampered.body)]).toEqual([401, 'VERIFICATION_FAILED']);
    const elsewhere = await login('careful.user', device, { origin: 'http://localhost:9999' });
    expect([elsewhere.status, reasonOf(elsewhere.body)]).toEqual([401, 'VERIFICATION_FAILED']);

    const options = await post('/auth/webauthn/login/options', { username: 'careful.user' });
    const assertion = device.get(options.body);
    expect((await post('/auth/webauthn/login/verify', { username: 'careful.user', response: assertion })).status).toBe(200);
    const replayed = await post('/auth/webauthn/login/verify', { username: 'careful.user', response: assertion });
    expect([replayed.status, reasonOf(replayed.body)]).toEqual([401, 'CHALLENGE_USED']);

    // A cloned authenticator shows itself by a counter that does not move forward.
    const cloned = await login('careful.user', device, { counter: 1 });
    expect([cloned.status, reasonOf(cloned.body)]).toEqual([401, 'VERIFICATION_FAILED']);

    // A username sent along must be the passkey's own account.
    await register('other.user');
    const options2 = await post('/auth/webauthn/login/options', {});
    const crossed = await post('/auth/webauthn/login/verify', { username: 'other.user', response: device.get(options2.body) });
    expect([crossed.status, reasonOf(crossed.body)]).toEqual([401, 'UNKNOWN_CREDENTIAL']);
    // A challenge we never issued (or one forged without our key) is refused.
    const forged = await post('/auth/webauthn/login/verify', { response: device.get({ challenge: 'bm90LW91ci1jaGFsbGVuZ2U', rpId: RP_ID }) });
    expect([forged.status, reasonOf(forged.body)]).toEqual([401, 'UNKNOWN_CHALLENGE']);
  });

  test('login/options answers every caller the same, whoever they name, and stores nothing', async () => {
    await register('known.user');
    const rows = await gateway.db.getRepository(Challenge).count();
    const answers: { status: number; type: string | null; body: Record<string, any> }[] = [];
    for (const body of [{ username: 'known.user' }, { username: 'nobody.here' }, {}, { username: 'nobody.here' }]) {
      const res = await fetch(`${gateway.url}/auth/webauthn/login/options`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      answers.push({ status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, any> });
    }
    // Same status and shape for all; only the challenge and the credential ids differ.
    const credentialShape = (c: any) => ({ id: typeof c.id, type: c.type, transports: Array.isArray(c.transports) });
    const shape = (a: (typeof answers)[number]) => ({
      status: a.status,
      type: a.type,
      body: { ...a.body, challenge: typeof a.body.challenge, allowCredentials: Array.isArray(a.body.allowCredentials) },
    });
    for (const a of answers) expect(shape(a)).toEqual(shape(answers[0]!));
    expect(new Set(answers.map((a) => a.body.challenge)).size).toBe(answers.length);
    // Without a name: no list. With one, known or not: a list of credentials shaped alike —
    // for an unknown name, decoys, the same each time it is asked about.
    expect(answers[2]!.body.allowCredentials).toEqual([]);
    const [known, unknown, , unknownAgain] = answers.map((a) => a.body.allowCredentials as any[]);
    expect(known!.length).toBeGreaterThan(0);
    expect(unknown!.length).toBeGreaterThan(0);
    expect(new Set([...known!, ...unknown!].map((c) => JSON.stringify(credentialShape(c)))).size).toBe(1);
    expect(unknown).toEqual(unknownAgain);
    expect(unknown!.every((c) => /^[A-Za-z0-9_-]{22,43}$/.test(c.id))).toBe(true);
    expect(await gateway.db.getRepository(Challenge).count()).toBe(rows);
    // For an unknown user the options can never verify, and say so like for anyone else.
    const res = await post('/auth/webauthn/login/verify', { username: 'nobody.here', response: authenticator().get(answers[1]!.body as never) });
    expect([res.status, reasonOf(res.body)]).toEqual([401, 'UNKNOWN_CREDENTIAL']);
  });

  test('the username form still signs in a passkey that answers without its user handle (made before sign-in was discoverable)', async () => {
    const { device } = await register('older.passkey');
    const options = await post('/auth/webauthn/login/options', { username: 'older.passkey' });
    expect(options.body.allowCredentials.map((c: any) => c.id)).toEqual([device.id]);
    const session = await post('/auth/webauthn/login/verify', { username: 'older.passkey', response: device.get(options.body, { withoutUserHandle: true }) });
    expect([session.status, session.body.username]).toEqual([200, 'older.passkey']);
    // Without a handle and without a username nobody is named: refused like an unknown passkey.
    const nameless = await post('/auth/webauthn/login/verify', { response: device.get((await post('/auth/webauthn/login/options', {})).body, { withoutUserHandle: true }) });
    expect([nameless.status, reasonOf(nameless.body)]).toEqual([401, 'UNKNOWN_CREDENTIAL']);
    // And another account's name with this passkey is refused the same way.
    await register('someone.else');
    const crossed = await post('/auth/webauthn/login/verify', { username: 'someone.else', response: device.get((await post('/auth/webauthn/login/options', { username: 'someone.else' })).body, { withoutUserHandle: true }) });
    expect([crossed.status, reasonOf(crossed.body)]).toEqual([401, 'UNKNOWN_CREDENTIAL']);
  });

  test('a passkey signs in without a username: it is discoverable, and says whose it is', async () => {
    const { options, device } = await register('no.name.needed');
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', requireResidentKey: true });
    const challenge = await post('/auth/webauthn/login/options', {});
    const session = await post('/auth/webauthn/login/verify', { response: device.get(challenge.body) });
    expect(session.status).toBe(200);
    expect(session.body.username).toBe('no.name.needed');
    expect(ok(await graphql('{ me { username } }', session.body.token)).me.username).toBe('no.name.needed');
  });

  test('expired challenges are pruned as new ones are written: a flood of them does not stay', async () => {
    const repo = gateway.db.getRepository(Challenge);
    for (let i = 0; i < 3; i++) await post('/auth/webauthn/register/options', { code: await invite(), username: `pruned.${i}` });
    await repo.createQueryBuilder().update().set({ expiresAt: new Date(Date.now() - 1000) }).execute();
    const stale = await repo.count();
    expect(stale).toBeGreaterThanOrEqual(3);
    await post('/auth/webauthn/register/options', { code: await invite(), username: 'fresh.one' });
    expect(await repo.count()).toBe(1);
  });
});

describe('several passkeys', () => {
  test('a signed-in user adds a second passkey, uses either, removes one, never the last', async () => {
    const { device: phone } = await register('two.keys');
    const session = (await login('two.keys', phone)).body;

    const laptop = authenticator();
    const options = await post('/auth/webauthn/register/options', { username: 'two.keys' }, bearer(session.token));
    expect(options.status).toBe(200);
    expect(options.body.excludeCredentials.map((c: { id: string }) => c.id)).toEqual([phone.id]);
    expect((await post('/auth/webauthn/register/verify', { username: 'two.keys', response: laptop.create(options.body) })).status).toBe(201);
    expect((await login('two.keys', laptop)).status).toBe(200);

    // Nobody adds a passkey to someone else's account.
    const foreign = await post('/auth/webauthn/register/options', { username: 'careful.user' }, bearer(session.token));
    expect([foreign.status, reasonOf(foreign.body)]).toEqual([403, 'NOT_YOURS']);

    const removed = ok(await graphql('mutation($id: ID!) { removePasskey(id: $id) { passkeys { id } } }', session.token, { id: phone.id }));
    expect(removed.removePasskey.passkeys).toEqual([{ id: laptop.id }]);
    expect((await login('two.keys', phone)).status).toBe(401);
    const last = await graphql('mutation($id: ID!) { removePasskey(id: $id) { id } }', session.token, { id: laptop.id });
    expect(codes(last)).toEqual(['CONFLICT']);
  });
});

describe('sessions', () => {
  test('refresh rotates the token; a reused refresh token revokes the session', async () => {
    const { device } = await register('rotating.user');
    const first = (await login('rotating.user', device)).body;
    const second = await post('/auth/refresh', { refreshToken: first.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    ok(await graphql('{ me { username } }', second.body.token));

    const stolen = await post('/auth/refresh', { refreshToken: first.refreshToken });
    expect([stolen.status, reasonOf(stolen.body)]).toEqual([401, 'REFRESH_TOKEN_REUSED']);
    // The whole session is gone: the newest access token too.
    const after = await graphql('{ me { username } }', second.body.token);
    expect([after.status, codes(after)]).toEqual([401, ['UNAUTHENTICATED']]);
    expect((await post('/auth/refresh', { refreshToken: second.body.refreshToken })).status).toBe(401);
  });

  test('sign-out revokes at once', async () => {
    const { device } = await register('leaving.user');
    const session = (await login('leaving.user', device)).body;
    ok(await graphql('{ me { username } }', session.token));
    expect((await post('/auth/logout', {}, bearer(session.token))).status).toBe(204);
    const after = await graphql('{ me { username } }', session.token);
    expect([after.status, codes(after)]).toEqual([401, ['UNAUTHENTICATED']]);
  });

  test('forged, expired-looking and absent tokens are refused with 401', async () => {
    for (const header of [{}, bearer('garbage'), bearer('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln'), { authorization: 'Basic YTpi' }]) {
      const res = await gql(`${gateway.url}/graphql`, '{ me { username } }', undefined, header);
      expect([res.status, codes(res)]).toEqual([401, ['UNAUTHENTICATED']]);
      expect(res.data ?? null).toBeNull();
    }
  });
});

describe('API tokens', () => {
  test('minted from a passkey session, usable, listed, stored only as a digest, revocable', async () => {
    const { device } = await register('script.owner');
    const session = (await login('script.owner', device)).body;
    const created = ok(
      await graphql(
        'mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id name scopes active expiresAt } } }',
        session.token,
        { input: { name: 'nightly export', scopes: ['READ'], expiresInDays: 7 } },
      ),
    ).createApiToken;
    expect(created.token).toMatch(/^cus_tok_[0-9a-f]{20}_[\w-]{43}$/);
    expect(created.apiToken).toMatchObject({ name: 'nightly export', scopes: ['READ'], active: true });

    const viaToken = ok(await graphql('{ me { username authenticatedWith apiTokens { name active } } }', created.token)).me;
    expect(viaToken).toEqual({ username: 'script.owner', authenticatedWith: 'API_TOKEN', apiTokens: [{ name: 'nightly export', active: true }] });

    const row = await gateway.db.getRepository(ApiToken).findOneByOrFail({ id: created.apiToken.id });
    // The secret is what follows cus_<token id>_ (it may itself contain '_').
    const secret = /^cus_tok_[0-9a-f]{20}_(.+)$/.exec(created.token)![1]!;
    expect(JSON.stringify(row)).not.toContain(secret);

    // A read-only token cannot mutate, and no API token can mint another.
    const write = await graphql('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', created.token, { id: created.apiToken.id });
    expect([write.status, codes(write)]).toEqual([403, ['FORBIDDEN']]);

    const revoked = ok(await graphql('mutation($id: ID!) { revokeApiToken(id: $id) { active revokedAt } }', session.token, { id: created.apiToken.id }));
    expect(revoked.revokeApiToken.active).toBe(false);
    const refused = await graphql('{ me { username } }', created.token);
    expect([refused.status, codes(refused)]).toEqual([401, ['UNAUTHENTICATED']]);
  });

  test('the accounts subgraph is also served at the URL the supergraph names, for other routers, under the same rules', async () => {
    const { device } = await register('router.user');
    const session = (await login('router.user', device)).body;
    const minted = await graphql('mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }', session.token, { input: { name: 'ro', scopes: ['READ'], expiresInDays: 1 } });
    const readOnly: string = ok(minted).createApiToken.token;
    const direct = (query: string, token?: string) => gql(`${gateway.url}/accounts/graphql`, query, undefined, token ? { authorization: `Bearer ${token}` } : {});
    expect(ok(await direct('{ me { username authenticatedWith } }', session.token)).me).toEqual({ username: 'router.user', authenticatedWith: 'PASSKEY_SESSION' });
    expect(ok(await direct('{ _service { sdl } }', session.token))._service.sdl).toContain('type Account');
    const anonymous = await direct('{ me { username } }');
    expect([anonymous.status, codes(anonymous)]).toEqual([401, ['UNAUTHENTICATED']]);
    const write = await direct('mutation { createApiToken(input: { name: "x", scopes: [READ], expiresInDays: 1 }) { token } }', readOnly);
    expect([write.status, codes(write)]).toEqual([403, ['FORBIDDEN']]);
  });

  test('tokens expire, and bad requests for tokens are typed errors', async () => {
    const { device } = await register('careful.scripter');
    const session = (await login('careful.scripter', device)).body;
    const make = (input: Record<string, unknown>) =>
      graphql('mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }', session.token, { input });
    expect(codes(await make({ name: 'x', scopes: ['READ'], expiresInDays: 0 }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await make({ name: 'x', scopes: [], expiresInDays: 5 }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await make({ name: 'x', scopes: ['ROOT'], expiresInDays: 5 }))).toEqual(['BAD_USER_INPUT']);
    const { token, apiToken } = ok(await make({ name: 'short lived', scopes: ['READ', 'WRITE'], expiresInDays: 1 })).createApiToken;
    expect(codes(await make({ name: 'short lived', scopes: ['READ'], expiresInDays: 1 }))).toEqual(['BAD_USER_INPUT']);
    const minted = await graphql('mutation { createApiToken(input: {name: "child", scopes: [READ], expiresInDays: 1}) { token } }', token);
    expect(codes(minted)).toEqual(['FORBIDDEN']);

    await gateway.db.getRepository(ApiToken).update({ id: apiToken.id }, { expiresAt: new Date(Date.now() - 1000) });
    const expired = await graphql('{ me { username } }', token);
    expect([expired.status, expired.errors?.[0]?.extensions?.reason]).toEqual([401, 'TOKEN_EXPIRED']);
  });
});

describe('purpose of use', () => {
  test('defaults per role, and a role may claim only the purposes that fit it', async () => {
    const { device } = await register('purposeful');
    const { token } = (await login('purposeful', device)).body;
    const as = (purpose: string) => gql(`${gateway.url}/graphql`, '{ me { purposeOfUse } }', undefined, { ...bearer(token), 'x-purpose-of-use': purpose });
    expect(ok(await as('treatment')).me.purposeOfUse).toBe('TREATMENT');
    const research = await as('RESEARCH');
    expect([research.status, codes(research)]).toEqual([403, ['FORBIDDEN']]);
    const nonsense = await as('CURIOSITY');
    expect([nonsense.status, codes(nonsense)]).toEqual([400, ['BAD_USER_INPUT']]);
  });
});

describe('operator CLI', () => {
  test('`custodian invite` prints a code that registers a clinician; `custodian token` mints a working token', async () => {
    // Asynchronous, so that the gateway living in this process keeps serving meanwhile.
    const run = async (...args: string[]) =>
      (await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...database.vars }, encoding: 'utf8' })).stdout.trim();
    const institution = (await gateway.db.getRepository(User).findOneByOrFail({ role: 'clinician', institutionId: Not(IsNull()) })).institutionId!;
    const code = await run('invite', '--role', 'clinician', '--institution', institution);
    expect(code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    const { verify } = await register('dr.cli', authenticator(), code.toLowerCase());
    expect(verify.body.role).toBe('clinician');
    await expect(run('invite', '--role', 'patient', '--patient', 'pat_missing')).rejects.toThrow(/no patient pat_missing/);
    await expect(run('invite', '--role', 'wizard')).rejects.toThrow(/--role must be one of/);

    const token = await run('token', 'dr.cli', '--scopes', 'read');
    const me = ok(await graphql('{ me { username role purposeOfUse } }', token)).me;
    expect(me).toEqual({ username: 'dr.cli', role: 'CLINICIAN', purposeOfUse: 'TREATMENT' });
  });
});

test('sessions and refresh tokens are stored as digests only', async () => {
  const sessions = await gateway.db.getRepository(Session).find();
  expect(sessions.length).toBeGreaterThan(0);
  for (const s of sessions) expect(s.refreshHash).toMatch(/^[\w-]{43}$/);
});
