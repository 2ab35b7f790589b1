/**
 * The portal's ledger view (web/public/js/views/ledger-view.js, ledger.js) across a note
 * key rotation, in real headless Chromium against the real gateway and a real ledger
 * with the real checkpoint publisher: the browser pins the key on first use, follows a
 * rotation the pinned key announced (and pins the new key), and shows an unannounced key
 * as a problem — keeping its pin — when a checkpoint signed by a key no announcement
 * introduced is slipped into the ledger.
 */
import type { DataSource } from 'typeorm';
import type { RunningGateway } from '../../gateway/server';
import { signCheckpoint } from '../../ledger/core/checkpoint';
import { encodeBase64 } from '../../ledger/core/encoding';
import { generateNoteKey, parseSignerKey } from '../../ledger/core/note';
import { noteKeySource, rotateNoteKeyFiles } from '../../ledger/core/note-key';
import { CheckpointPublisher } from '../../ledger/pipeline/checkpoint-publisher';
import { appendEvents } from '../../ledger/store/append';
import { LedgerCheckpoint, LedgerVerifierKey } from '../../ledger/store/entities';
import { latestCheckpoint, ledgerTree } from '../../ledger/store/read-model';
import { startLedgerGateway, type LedgerGateway } from '../support/ledger-gateway';
import { testEvent, waitFor } from '../support/ledger-pipeline';
import { launchChromium, loadPage, person, type Chromium, type Person } from './browser';

jest.setTimeout(120_000);
const ORIGIN = 'custodian.test/portal-rotation';
const PIN = 'custodian.ledgerKey';
let hub: LedgerGateway;
let gateway: RunningGateway;
let ledger: DataSource;
let publisher: CheckpointPublisher;
let chrome: Chromium;
let officer: Person;
let nextEvent = 1;

async function appendAndWait(): Promise<void> {
  await appendEvents(ledger, [testEvent(nextEvent++)]);
  publisher.notify();
  const size = nextEvent - 1;
  await waitFor(`checkpoint ${size}`, async () => ((await latestCheckpoint(ledger))?.size ?? -1) >= size);
}

/** Loads the ledger view (one rendering) and waits until it has checked the latest checkpoint. */
async function openLedgerView(): Promise<string> {
  await loadPage(officer.page, `${gateway.url}/#/compliance/ledger`);
  await officer.page.locator('#latest-title').waitFor();
  await officer.page.getByRole('heading', { name: 'Checkpoint history' }).waitFor();
  await officer.page.locator('table tbody tr').first().waitFor();
  return officer.page.locator('main').innerText();
}

const pinned = () => officer.page.evaluate((key) => localStorage.getItem(key), PIN);
const keyLabel = (verifierKey: string) => verifierKey.split('+').slice(0, 2).join('+');

beforeAll(async () => {
  [hub, chrome] = await Promise.all([startLedgerGateway(), launchChromium()]);
  ({ gateway, ledger } = hub);
  const token = await hub.tokenFor('rotation.portal', 'compliance');
  publisher = new CheckpointPublisher(ledger, noteKeySource({ dataDir: hub.database.env.DATA_DIR, name: ORIGIN }), { origin: ORIGIN, minIntervalMs: 20, pollMs: 50 });
  publisher.start();
  await appendAndWait();
  officer = await person(chrome, 'ledger-rotation');
  // Signed in as the officer: the session the portal keeps for a tab (web/public/js/api.js).
  await officer.page.goto(`${gateway.url}/`);
  await officer.page.evaluate((s) => sessionStorage.setItem('custodian.session', s), JSON.stringify({ token, refreshToken: null, username: 'rotation.portal' }));
}, 120_000);

afterAll(async () => {
  await publisher?.stop();
  await chrome?.close();
  await hub?.stop();
});

test('first use pins the served key; after a rotation the pinned key announced, the page follows it and pins the new key', async () => {
  const firstKey = (await (await fetch(`${gateway.url}/ledger/key`)).text()).trim();
  const first = await openLedgerView();
  expect(first).toMatch(/First use: this browser now pins the key/);
  expect(await pinned()).toBe(firstKey);

  const { current } = rotateNoteKeyFiles(hub.database.env.DATA_DIR, ORIGIN);
  await appendAndWait(); // the announcement, signed by both
  const announcedAt = nextEvent - 1;
  await appendAndWait(); // the new key alone
  const after = await openLedgerView();
  expect(after).toContain(`The ledger rotated its key at size ${announcedAt}`);
  expect(after).toContain(`This browser now pins ${keyLabel(current.verifierKey)}`);
  expect(after).toMatch(/✓ valid \(Ed25519, key [0-9a-f]{8}\), checked in your browser/);
  expect(after).not.toMatch(/✗/);
  expect(await pinned()).toBe(current.verifierKey);
  // Every checkpoint of the history verifies, each with the key that signs at its size.
  const stored = await ledger.getRepository(LedgerCheckpoint).count();
  expect(stored).toBeGreaterThanOrEqual(3);
  expect(await officer.page.locator('table tbody tr').count()).toBe(stored);
  expect(await officer.page.locator('table tbody td .verdict.ok', { hasText: '✓ signed' }).count()).toBe(stored);
  expect(await officer.page.locator('table tbody td .verdict.bad').count()).toBe(0);
  await officer.shot('rotation-followed');
});

test('a checkpoint signed by a key no announcement introduced is flagged, and the pin stays', async () => {
  const trusted = await pinned();
  await publisher.stop();
  const rogue = generateNoteKey(ORIGIN);
  await appendEvents(ledger, [testEvent(nextEvent++)]);
  const size = nextEvent - 1;
  const root = await ledgerTree(ledger).rootHash(size);
  await ledger.getRepository(LedgerCheckpoint).insert({ size, root: encodeBase64(root), note: signCheckpoint({ origin: ORIGIN, size, rootHash: root }, parseSignerKey(rogue.signerKey)), publishedAt: new Date() });
  await ledger.getRepository(LedgerVerifierKey).update({ verifierKey: trusted! }, { retiredAtSize: size });
  await ledger.getRepository(LedgerVerifierKey).insert({ verifierKey: rogue.verifierKey, firstUsedAt: new Date(), fromSize: size, retiredAtSize: null });

  const text = await openLedgerView();
  expect(text).toContain(`✗ Unannounced key: The server lists key ${keyLabel(rogue.verifierKey)} from size ${size}, but no checkpoint signed by the key before it announces it`);
  expect(text).toMatch(/✗ The latest checkpoint does not verify: it is not signed by custodian\.test\/portal-rotation\+[0-9a-f]{8}/);
  expect(await officer.page.getByRole('alert').count()).toBeGreaterThanOrEqual(2);
  expect(await pinned()).toBe(trusted);
  await officer.shot('rotation-unannounced');
});
