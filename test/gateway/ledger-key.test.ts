/**
 * GET /ledger/key without the signer's secret: the worker records each verifier key in
 * the ledger database before it first signs, and the gateway serves the newest — or a
 * key the operator pinned. The gateway never reads or creates the note signer key.
 */
import fs from 'node:fs';
import type { DataSource } from 'typeorm';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { appendEvents } from '../../ledger/store/append';
import { openCheckpoint } from '../../ledger/core/checkpoint';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { openLedgerDatabase } from '../../ledger/store/database';
import { loadLedgerNoteKey, noteKeyPath } from '../../ledger/core/note-key';
import { generateNoteKey, parseVerifierKey } from '../../ledger/core/note';
import { freshDatabase, type TestDatabase } from '../support/database';
import { testEvent } from '../support/ledger-pipeline';

const ORIGIN = 'custodian.test/key';
let database: TestDatabase;
let gateway: RunningGateway;
let ledger: DataSource;

beforeAll(async () => {
  database = await freshDatabase();
  gateway = await startGateway({ env: database.env, port: 0 });
  ledger = await openLedgerDatabase(database.env);
}, 60_000);
afterAll(async () => {
  await ledger?.destroy();
  await gateway?.close();
  await database?.drop();
});

const key = async () => {
  const res = await fetch(`${gateway.url}/ledger/key`);
  return { status: res.status, text: (await res.text()).trim() };
};

test('before the first checkpoint there is no key to serve (503), and the gateway made none', async () => {
  expect((await key()).status).toBe(503);
  expect(fs.existsSync(noteKeyPath(database.env.DATA_DIR))).toBe(false);
});

test("the worker's key, once it signs; a key rotated in by an announcement replaces it for new checkpoints", async () => {
  const signerKeyFile = fs.mkdtempSync(`${database.env.DATA_DIR}-worker`);
  const first = loadLedgerNoteKey({ dataDir: signerKeyFile, name: ORIGIN });
  await appendEvents(ledger, [testEvent(1)]);
  await publishCheckpoint(ledger, first, ORIGIN);
  const served = await key();
  expect(served).toEqual({ status: 200, text: first.verifierKey });
  const note = await (await fetch(`${gateway.url}/ledger/checkpoint`)).text();
  expect(openCheckpoint(note, [parseVerifierKey(served.text)]).checkpoint.size).toBe(1);

  const pair = generateNoteKey(ORIGIN);
  const rotated = loadLedgerNoteKey({ dataDir: signerKeyFile, name: ORIGIN, signerKey: pair.signerKey });
  // Not announced by the current key: refused (test/ledger/pipeline/key-rotation.test.ts has the rest).
  await appendEvents(ledger, [testEvent(2)]);
  await expect(publishCheckpoint(ledger, rotated, ORIGIN)).rejects.toThrow(/never announced/);
  expect((await key()).text).toBe(first.verifierKey);
  await publishCheckpoint(ledger, { current: rotated, previous: first }, ORIGIN);
  expect((await key()).text).toBe(pair.verifierKey);
  const keys = (await (await fetch(`${gateway.url}/ledger/keys`)).json()) as { keys: { verifierKey: string; fromSize: number; retiredAtSize: number | null }[] };
  expect(keys.keys.map((k) => [k.verifierKey, k.fromSize, k.retiredAtSize])).toEqual([
    [first.verifierKey, 0, 2],
    [pair.verifierKey, 2, null],
  ]);
  expect(fs.existsSync(noteKeyPath(database.env.DATA_DIR))).toBe(false);
  fs.rmSync(signerKeyFile, { recursive: true, force: true });
});

test('an operator can pin the key; a malformed pin stops the gateway at start', async () => {
  const pinned = generateNoteKey(ORIGIN).verifierKey;
  process.env.LEDGER_VERIFIER_KEY = pinned;
  const other = await startGateway({ env: database.env, port: 0 });
  try {
    expect((await (await fetch(`${other.url}/ledger/key`)).text()).trim()).toBe(pinned);
  } finally {
    await other.close();
  }
  process.env.LEDGER_VERIFIER_KEY = 'not a key';
  await expect(startGateway({ env: database.env, port: 0 })).rejects.toThrow(/LEDGER_VERIFIER_KEY/);
  delete process.env.LEDGER_VERIFIER_KEY;
});
