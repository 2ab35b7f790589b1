/**
 * The portal's ledger view shows each checkpoint's witness cosignatures and checks them
 * in the browser (web/public/js/ledger.js checkCosignatures, views/ledger-view.js), in real
 * headless Chromium against the real gateway, with two real witnesses (`custodian witness`
 * processes) cosigning through the real publisher (LEDGER_WITNESSES' WitnessPool):
 *
 *   - GET /ledger/witnesses lists them (name, key id, verifier key, host), public;
 *   - every checkpoint shows who cosigned, when, valid — the times the witnesses signed;
 *   - a witness that was down is shown as not having cosigned;
 *   - a cosignature altered in the stored note (the log's signature still valid) is shown
 *     invalid, by the browser's own check — the server says nothing about it;
 *   - witness keys are pinned on first use (web/public/js/witness-pins.js): a hub restarted
 *     to list a key it holds under beta's name, whose cosignature verifies under that key,
 *     is not shown valid but as a changed key, until the officer accepts it by keyboard;
 *     a dropped witness is "no longer listed", a new one is not counted; a key pasted out
 *     of band is pinned only when it is a well-formed witness key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { createApiToken } from '../../gateway/identity/api-tokens';
import { openIdentityDatabase } from '../../gateway/identity/database';
import { createUser } from '../../gateway/identity/users';
import { cosignaturesOnNote, parseCosignatureLine, splitNote } from '../../ledger/core/cosignature';
import { hexKeyId } from '../../ledger/core/note';
import { loadLedgerNoteKey, type LedgerNoteKey } from '../../ledger/core/note-key';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { WitnessPool } from '../../ledger/pipeline/witnesses';
import { appendEvents } from '../../ledger/store/append';
import { openLedgerDatabase } from '../../ledger/store/database';
import { LedgerCheckpoint } from '../../ledger/store/entities';
import { parseWitnessList } from '../../ledger/witness/endpoints';
import { freshDatabase, type TestDatabase } from '../support/database';
import { testEvent } from '../support/ledger-pipeline';
import { newWitness, startWitness, witnessList, type TestWitness } from '../support/witnesses';
import { accessibilityProblems, launchChromium, loadPage, person, type Chromium, type Person } from './browser';

jest.setTimeout(120_000);
const ORIGIN = 'custodian.test/portal-witnesses';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-portal-witnesses-'));
let database: TestDatabase;
let gateway: RunningGateway;
let ledger: DataSource;
let identity: DataSource;
let key: LedgerNoteKey;
let pool: WitnessPool;
let alpha: TestWitness;
let beta: TestWitness;
let liar: TestWitness; // a key the hub holds, under beta's name
let gamma: TestWitness; // a witness the hub starts listing later (never run: it only needs a key)
let chrome: Chromium;
let officer: Person;
let appended = 0;
const savedWitnesses = process.env.LEDGER_WITNESSES;

async function appendAndPublish(count: number): Promise<LedgerCheckpoint> {
  await appendEvents(ledger, Array.from({ length: count }, (_, k) => testEvent(appended + k)));
  appended += count;
  await publishCheckpoint(ledger, key, ORIGIN, undefined, pool);
  return ledger.getRepository(LedgerCheckpoint).findOneByOrFail({ size: appended });
}

/** The cosignature times node's own verifier finds on a stored note, by witness name. */
function times(note: string): Record<string, string> {
  const found = cosignaturesOnNote(note, [alpha.verifier, beta.verifier]);
  return Object.fromEntries(found.map((c) => [c.name, new Date(c.timestamp * 1000).toISOString().replace('.000Z', 'Z')]));
}

async function openLedgerView(): Promise<void> {
  await loadPage(officer.page, `${gateway.url}/#/compliance/ledger`);
  await officer.page.locator('[data-testid="latest-cosignatures"] li').first().waitFor();
  await officer.page.locator('table tbody tr').first().waitFor();
  await officer.page.locator('table tbody tr li.cosignature').first().waitFor();
}

const PINS = 'custodian.witnessKeys';
const pins = () => officer.page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null'), PINS);
const label = (w: TestWitness) => `${w.name}.test/w+${hexKeyId(w.verifier.keyId)}`;
const gatewayEnv = () => ({ ...database.env, RATE_LIMIT_LEDGER_PER_MINUTE: 0 });

/** The gateway again, on the same port (the browser's pins are per origin), listing `witnesses`. */
async function restartGateway(witnesses: readonly TestWitness[]): Promise<void> {
  const port = gateway.port;
  await gateway.close();
  process.env.LEDGER_WITNESSES = witnessList(witnesses);
  gateway = await startGateway({ env: gatewayEnv(), port });
}

const item = (scope: string, witness: string) => officer.page.locator(`${scope} li.cosignature[data-witness="${witness}"]`);
const row = (size: number) => `table tbody tr[data-size="${size}"]`;

beforeAll(async () => {
  database = await freshDatabase();
  ledger = await openLedgerDatabase(database.env);
  key = loadLedgerNoteKey({ dataDir: `${database.env.DATA_DIR}/signer`, name: ORIGIN });
  [alpha, beta, gamma] = await Promise.all(['alpha', 'beta', 'gamma'].map((name) => newWitness(dir, name)));
  fs.mkdirSync(path.join(dir, 'hub-held'));
  liar = await newWitness(path.join(dir, 'hub-held'), 'beta');
  await Promise.all([alpha, beta].map((w) => startWitness(w, key.verifierKey)));
  // The gateway reads LEDGER_WITNESSES as the ledger worker does (ledger/config.ts), to list them.
  process.env.LEDGER_WITNESSES = witnessList([alpha, beta]);
  pool = new WitnessPool(parseWitnessList(process.env.LEDGER_WITNESSES), 3_000);
  [gateway, chrome] = await Promise.all([startGateway({ env: gatewayEnv(), port: 0 }), launchChromium()]);
  identity = await openIdentityDatabase(database.env);
  const user = await createUser(identity, { username: 'witness.portal', role: 'compliance' });
  const { token } = await createApiToken(identity, user.id, { name: 'portal', scopes: ['read'], expiresInDays: 1 });
  officer = await person(chrome, 'ledger-witnesses');
  await officer.page.goto(`${gateway.url}/`);
  await officer.page.evaluate((s) => sessionStorage.setItem('custodian.session', s), JSON.stringify({ token, refreshToken: null, username: 'witness.portal' }));
}, 120_000);

afterAll(async () => {
  if (savedWitnesses === undefined) delete process.env.LEDGER_WITNESSES;
  else process.env.LEDGER_WITNESSES = savedWitnesses;
  await chrome?.close();
  for (const w of [alpha, beta, liar]) await w?.proc?.kill();
  await identity?.destroy();
  await ledger?.destroy();
  await gateway?.close();
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('GET /ledger/witnesses lists the configured witnesses, without a token', async () => {
  const res = await fetch(`${gateway.url}/ledger/witnesses`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({
    witnesses: [alpha, beta].map((w) => ({ name: `${w.name}.test/w`, keyId: hexKeyId(w.verifier.keyId), verifierKey: w.verifier.verifierKey, host: `127.0.0.1:${w.port}` })),
  });
});

test('each checkpoint shows who cosigned and when, checked valid in the browser; a witness that was down did not cosign', async () => {
  const first = await appendAndPublish(5);
  const second = await appendAndPublish(5);
  await beta.proc!.kill();
  const third = await appendAndPublish(5); // beta down: alpha's cosignature only
  expect(Object.keys(times(third.note))).toEqual(['alpha.test/w']);

  await openLedgerView();
  // First use: both listed keys are pinned, and the page says so.
  expect(await officer.page.locator('.witness-first-use').innerText()).toContain(`${label(alpha)}, ${label(beta)}`);
  expect(await pins()).toEqual({ 'alpha.test/w': alpha.verifier.verifierKey, 'beta.test/w': beta.verifier.verifierKey });
  const latest = '[data-testid="latest-cosignatures"]';
  expect(await item(latest, 'alpha.test/w').innerText()).toBe(`✓ valid alpha.test/w (127.0.0.1:${alpha.port}), cosigned at ${times(third.note)['alpha.test/w']}`);
  expect(await item(latest, 'beta.test/w').innerText()).toBe(`— beta.test/w (127.0.0.1:${beta.port}) did not cosign`);
  for (const cp of [first, second]) {
    for (const w of ['alpha.test/w', 'beta.test/w']) {
      expect(await item(row(cp.size), w).innerText()).toMatch(new RegExp(`^✓ valid ${w.replace('.', '\\.')} \\(127\\.0\\.0\\.1:\\d+\\), cosigned at ${times(cp.note)[w]}$`));
    }
  }
  expect(await item(row(third.size), 'beta.test/w').innerText()).toMatch(/^— beta\.test\/w \(127\.0\.0\.1:\d+\) did not cosign$/);
  expect(await officer.page.locator('li.cosignature.invalid').count()).toBe(0);
  expect(officer.problems).toEqual([]);
  await officer.shot('cosigned');
});

test('a forged cosignature — beta\'s line altered in the stored note, the log\'s signature intact — is shown invalid', async () => {
  const repo = ledger.getRepository(LedgerCheckpoint);
  const target = await repo.findOneByOrFail({ size: 10 });
  const { lines } = splitNote(target.note);
  const betaLine = lines.find((l) => l.startsWith('\u2014 beta.test/w '))!;
  const parsed = parseCosignatureLine(betaLine);
  // Same name, key id and time; one bit of the Ed25519 signature flipped.
  const bytes = Buffer.from(betaLine.split(' ')[2]!, 'base64');
  bytes[40] ^= 0x01;
  const forged = target.note.replace(betaLine, `\u2014 beta.test/w ${bytes.toString('base64')}`);
  expect(() => cosignaturesOnNote(forged, [beta.verifier])).toThrow(/does not verify/); // node agrees it is forged
  await repo.update({ size: 10 }, { note: forged });
  try {
    await openLedgerView();
    const claimed = new Date(parsed.timestamp * 1000).toISOString().replace('.000Z', 'Z');
    expect(await item(row(10), 'beta.test/w').innerText()).toBe(
      `✗ invalid beta.test/w (127.0.0.1:${beta.port}): the signature does not verify over this checkpoint and time (claims ${claimed})`,
    );
    expect(await item(row(10), 'alpha.test/w').innerText()).toMatch(/^✓ valid alpha\.test\/w/);
    expect(await officer.page.locator(`${row(10)} td .verdict.ok`, { hasText: '✓ signed' }).count()).toBe(1); // the log's own signature is unaffected
    expect(await item(row(5), 'beta.test/w').innerText()).toMatch(/^✓ valid/);
    expect(await officer.page.locator('li.cosignature.invalid').count()).toBe(1);
    await officer.shot('forged-cosignature');
  } finally {
    await repo.update({ size: 10 }, { note: target.note });
  }
});

test('a hub that lists its own key under a witness\'s name is not believed: the cosignature is not counted until the key is accepted', async () => {
  await startWitness(liar, key.verifierKey);
  pool = new WitnessPool(parseWitnessList(witnessList([alpha, liar])), 3_000);
  const lied = await appendAndPublish(5);
  // The hub-held cosignature is well formed: it verifies under the key the hub will list.
  const [forgedByHub] = cosignaturesOnNote(lied.note, [liar.verifier]);
  expect(forgedByHub?.name).toBe('beta.test/w');
  const hubTime = new Date(forgedByHub!.timestamp * 1000).toISOString().replace('.000Z', 'Z');
  // Restarted listing that key for beta, gamma (new) and no longer alpha.
  await restartGateway([liar, gamma]);
  await openLedgerView();

  const latest = '[data-testid="latest-cosignatures"]';
  expect(await item(latest, 'beta.test/w').innerText()).toBe(
    `⚠ not counted beta.test/w (127.0.0.1:${liar.port}): key changed since you pinned it — compare with what the witness publishes`,
  );
  expect(await officer.page.locator(`${latest} li.cosignature.valid[data-witness="beta.test/w"]`).count()).toBe(0);
  expect(await item(latest, 'alpha.test/w').innerText()).toBe(`✓ valid alpha.test/w, cosigned at ${times(lied.note)['alpha.test/w']} — no longer listed by the hub`);
  expect(await item(latest, 'gamma.test/w').innerText()).toBe(
    `— gamma.test/w (127.0.0.1:${gamma.port}) did not cosign (not pinned in this browser — compare its key with what the witness publishes)`,
  );
  // Before the hub's key cosigned anything, beta's row says its key changed, not that something was refused.
  expect(await item(row(15), 'beta.test/w').innerText()).toBe(
    `— beta.test/w (127.0.0.1:${liar.port}) did not cosign (key changed since you pinned it — compare with what the witness publishes)`,
  );
  expect(await officer.page.locator(`${latest} li.cosignature.unknown`).count()).toBe(0); // the hub's line is named as beta's changed key, not a stranger
  // Older checkpoints were cosigned by the real beta: still valid under the pinned key.
  expect(await item(row(10), 'beta.test/w').innerText()).toMatch(/^✓ valid beta\.test\/w/);
  expect(await officer.page.locator('.witness-first-use').count()).toBe(0);

  const changed = officer.page.locator('li.witness-key.changed[data-witness="beta.test/w"]');
  expect(await changed.locator('[role="alert"]').innerText()).toContain('beta.test/w (127.0.0.1:' );
  expect(await changed.innerText()).toContain(`Pinned here: ${beta.verifier.verifierKey}`);
  expect(await changed.innerText()).toContain(`The hub now lists: ${liar.verifier.verifierKey}`);
  expect(await officer.page.locator('li.witness-key.unlisted[data-witness="alpha.test/w"]').innerText()).toMatch(/^— no longer listed by the hub alpha\.test\/w: /);
  expect(await officer.page.locator('li.witness-key.unpinned[data-witness="gamma.test/w"]').innerText()).toContain('not pinned in this browser');
  expect((await pins())['beta.test/w']).toBe(beta.verifier.verifierKey);
  expect(await accessibilityProblems(officer)).toEqual([]);
  await officer.shot('key-changed');

  // Accepted explicitly, with the keyboard: now, and only now, it counts.
  await officer.page.getByRole('button', { name: `Accept the new key ${label(liar)}` }).focus();
  await officer.page.keyboard.press('Enter');
  await officer.page.locator(`${latest} li.cosignature.valid[data-witness="beta.test/w"]`).waitFor();
  expect(await item(latest, 'beta.test/w').innerText()).toBe(`✓ valid beta.test/w (127.0.0.1:${liar.port}), cosigned at ${hubTime}`);
  expect(await officer.page.evaluate(() => document.activeElement?.id)).toBe('witness-keys-title');
  expect(await officer.page.locator('section[aria-labelledby="witness-keys-title"] .notice.ok').innerText()).toBe(`Pinned ${label(liar)}.`);
  expect(await pins()).toEqual({ 'alpha.test/w': alpha.verifier.verifierKey, 'beta.test/w': liar.verifier.verifierKey });
  expect(officer.problems).toEqual([]);
  await officer.shot('key-accepted');
});

test('a witness key given out of band is pinned only when it is a well-formed witness key; a dropped witness can be forgotten', async () => {
  await openLedgerView();
  const before = await pins();
  await officer.page.locator('details.witness-paste summary').click();
  const paste = officer.page.getByLabel('Witness verifier key (name+id+key)');
  const submit = officer.page.getByRole('button', { name: 'Pin this witness key' });
  const status = officer.page.locator('details.witness-paste .form-status');
  const refused = async (text: string, message: string) => {
    await paste.fill(text);
    await submit.press('Enter');
    await status.getByText(message).waitFor();
    expect(await status.locator('[role="alert"]').innerText()).toBe(message);
  };
  await refused('not a key', 'Not pinned: the witness key is not <name>+<id>+<key>.');
  await refused('', 'Not pinned: paste a witness verifier key line, <name>+<id>+<key>.');
  const [name, , ...rest] = gamma.verifier.verifierKey.split('+'); // base64 may hold '+' too
  await refused(`${name}+00000000+${rest.join('+')}`, 'Not pinned: the witness key id does not match its name and key.');
  await refused(key.verifierKey, 'Not pinned: the witness key is not an Ed25519 cosignature/v1 key.'); // the log's note key
  await refused(`${gamma.verifier.verifierKey.slice(0, -2)}!=`, 'Not pinned: not canonical base64.');
  expect(await pins()).toEqual(before);
  expect(await accessibilityProblems(officer)).toEqual([]);
  await officer.shot('paste-refused');

  await paste.fill(gamma.verifier.verifierKey);
  await submit.press('Enter');
  await officer.page.locator('li.witness-key.pinned[data-witness="gamma.test/w"]').waitFor();
  expect(await pins()).toEqual({ ...before, 'gamma.test/w': gamma.verifier.verifierKey });
  expect(await item('[data-testid="latest-cosignatures"]', 'gamma.test/w').innerText()).toBe(`— gamma.test/w (127.0.0.1:${gamma.port}) did not cosign`);

  // Forgetting the witness the hub dropped: its lines are then strangers, shown unchecked.
  await officer.page.getByRole('button', { name: 'Forget alpha.test/w' }).press('Enter');
  await officer.page.locator('section[aria-labelledby="witness-keys-title"] .notice.ok').getByText('Forgot the key of alpha.test/w.').waitFor();
  expect(await pins()).not.toHaveProperty(['alpha.test/w']);
  expect(await officer.page.locator('[data-testid="latest-cosignatures"] li.cosignature.unknown').innerText()).toBe(`? not checked ${label(alpha)}: not a witness the hub lists`);
  expect(officer.problems).toEqual([]);
});
