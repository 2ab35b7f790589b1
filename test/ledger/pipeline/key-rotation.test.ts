/**
 * Rotating the ledger's note key end to end, on a real ledger database (SQLite, or
 * PostgreSQL with DATABASE_URL), the real checkpoint publisher reading the development
 * key files, the real gateway serving /ledger/*, and the operator's commands
 * (`custodian keys rotate ledger`, `custodian verify`) as the CLI runs them:
 *
 * - the rotation is announced by a checkpoint signed by the old and the new key, naming
 *   the new one; later checkpoints are signed by the new key only; a running publisher
 *   picks the rotation up without a restart;
 * - GET /ledger/keys lists both keys with the sizes they sign; GET /ledger/key serves the new;
 * - a publisher that holds only the retired key signs nothing (a worker not yet restarted);
 * - `custodian verify` trusting the old key follows the rotation (exit 0), and flags a
 *   checkpoint signed by a key no announcement introduced, and a key list that introduces
 *   one without an announcement (exit 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { rotateLedgerKey } from '../../../cli/keys-ledger';
import { verifyCommand } from '../../../cli/verify';
import type { RunningGateway } from '../../../gateway/server';
import { announcedKeys, openAnnouncement } from '../../../ledger/core/key-rotation';
import { openCheckpoint, signCheckpoint } from '../../../ledger/core/checkpoint';
import { generateNoteKey, hexKeyId, NoteError, parseSignerKey, parseVerifierKey } from '../../../ledger/core/note';
import { loadLedgerNoteKey, noteKeySource, previousNoteKeyPath, type LedgerNoteKey } from '../../../ledger/core/note-key';
import { CheckpointPublisher, NoteKeyMismatchError, publishCheckpoint } from '../../../ledger/pipeline/checkpoint-publisher';
import { appendEvents } from '../../../ledger/store/append';
import { LedgerCheckpoint, LedgerVerifierKey } from '../../../ledger/store/entities';
import { latestCheckpoint } from '../../../ledger/store/read-model';
import { encodeBase64 } from '../../../ledger/core/encoding';
import { ledgerTree } from '../../../ledger/store/read-model';
import type { TestDatabase } from '../../support/database';
import { startLedgerGateway, type LedgerGateway } from '../../support/ledger-gateway';
import { testEvent, waitFor } from '../../support/ledger-pipeline';

const ORIGIN = 'custodian.test/rotation';
let hub: LedgerGateway;
let database: TestDatabase;
let gateway: RunningGateway;
let ledger: DataSource;
let publisher: CheckpointPublisher;
let token: string;
let savedCheckpoint: string;
let oldKey: LedgerNoteKey;
let newKey: LedgerNoteKey;
let nextEvent = 1;

/** Runs a CLI command as `custodian` does, with this test's DATA_DIR and database; returns its exit code and output. */
async function cli(command: (argv: string[]) => Promise<void>, argv: string[]): Promise<{ code: number; out: string }> {
  const saved = { ...process.env };
  const lines: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  const writeErr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  Object.assign(process.env, database.vars, { LEDGER_ORIGIN: ORIGIN, NODE_ENV: 'test' });
  delete process.env.LEDGER_NOTE_KEY;
  process.exitCode = undefined;
  try {
    await command(argv);
    return { code: process.exitCode ?? 0, out: lines.join('\n') };
  } finally {
    process.exitCode = undefined;
    log.mockRestore();
    write.mockRestore();
    writeErr.mockRestore();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

const verify = (...argv: string[]) => cli(verifyCommand, ['--url', gateway.url, '--token', token, ...argv]);

async function appendAndWaitForCheckpoint(): Promise<string> {
  await appendEvents(ledger, [testEvent(nextEvent++)]);
  publisher.notify();
  const size = nextEvent - 1;
  return waitFor(`a checkpoint of size ${size}`, async () => {
    const latest = await latestCheckpoint(ledger);
    return latest && latest.size >= size ? latest.note : undefined;
  });
}

beforeAll(async () => {
  hub = await startLedgerGateway();
  ({ database, gateway, ledger } = hub);
  token = await hub.tokenFor('rotation.officer', 'compliance');
  // What the ledger worker runs (ledger/pipeline/service.ts): its keys read again before every checkpoint.
  publisher = new CheckpointPublisher(ledger, noteKeySource({ dataDir: database.env.DATA_DIR, name: ORIGIN }), { origin: ORIGIN, minIntervalMs: 20, pollMs: 50 });
  publisher.start();
  savedCheckpoint = path.join(database.env.DATA_DIR, 'verifier-saved.json');
}, 60_000);

afterAll(async () => {
  await publisher?.stop();
  await hub?.stop();
});

test('before rotation: one key, from size 0; verify passes and saves the key it trusts', async () => {
  await appendAndWaitForCheckpoint();
  await appendAndWaitForCheckpoint();
  oldKey = loadLedgerNoteKey({ dataDir: database.env.DATA_DIR, name: ORIGIN });
  const keys = await (await fetch(`${gateway.url}/ledger/keys`)).json();
  expect(keys).toEqual({
    keys: [{ verifierKey: oldKey.verifierKey, keyId: hexKeyId(oldKey.signer.keyId), fromSize: 0, announcedAt: expect.any(String), retiredAtSize: null }],
  });
  const run = await verify('--from-checkpoint', savedCheckpoint);
  expect(run.out).toMatch(/verified: 2 entries/);
  expect(run.code).toBe(0);
  expect(JSON.parse(fs.readFileSync(savedCheckpoint, 'utf8')).key).toBe(oldKey.verifierKey);
});

test('`keys rotate ledger` adds a key of the same name; the running publisher announces it with a checkpoint signed by both', async () => {
  const rotated = await cli(rotateLedgerKey, []);
  expect(rotated.code).toBe(0);
  newKey = loadLedgerNoteKey({ dataDir: database.env.DATA_DIR, name: ORIGIN });
  expect(rotated.out).toContain(`new verifier key: ${newKey.verifierKey}`);
  expect(newKey.signer.name).toBe(oldKey.signer.name);
  expect(newKey.signer.keyId).not.toBe(oldKey.signer.keyId);
  expect(fs.readFileSync(previousNoteKeyPath(database.env.DATA_DIR), 'utf8').trim()).toMatch(/^PRIVATE\+KEY\+/);

  // Not announced yet (no new leaf): a second rotation now would strand the first.
  await expect(cli(rotateLedgerKey, [])).rejects.toThrow(/not announced yet/);

  const announcement = await appendAndWaitForCheckpoint();
  const size = nextEvent - 1;
  const both = openCheckpoint(announcement, [parseVerifierKey(oldKey.verifierKey), parseVerifierKey(newKey.verifierKey)]);
  expect(both.note.signatures.map((s) => hexKeyId(s.keyId))).toEqual([hexKeyId(oldKey.signer.keyId), hexKeyId(newKey.signer.keyId)]);
  expect(announcedKeys(both.checkpoint)).toEqual([newKey.verifierKey]);
  expect(openAnnouncement(announcement, oldKey.verifierKey, newKey.verifierKey).size).toBe(size);

  const after = await appendAndWaitForCheckpoint();
  const later = openCheckpoint(after, [parseVerifierKey(oldKey.verifierKey), parseVerifierKey(newKey.verifierKey)]);
  expect(later.note.signatures.map((s) => hexKeyId(s.keyId))).toEqual([hexKeyId(newKey.signer.keyId)]);
  expect(later.checkpoint.extensions).toEqual([]);
  expect(() => openCheckpoint(after, [parseVerifierKey(oldKey.verifierKey)])).toThrow(NoteError);

  const keys = (await (await fetch(`${gateway.url}/ledger/keys`)).json()) as { keys: unknown[] };
  expect(keys.keys).toEqual([
    expect.objectContaining({ verifierKey: oldKey.verifierKey, fromSize: 0, retiredAtSize: size }),
    expect.objectContaining({ verifierKey: newKey.verifierKey, keyId: hexKeyId(newKey.signer.keyId), fromSize: size, retiredAtSize: null }),
  ]);
  expect((await (await fetch(`${gateway.url}/ledger/key`)).text()).trim()).toBe(newKey.verifierKey);
});

test('a publisher holding only the retired key signs nothing, and says why', async () => {
  await publisher.stop();
  await appendEvents(ledger, [testEvent(nextEvent++)]);
  const before = (await latestCheckpoint(ledger))!.size;
  await expect(publishCheckpoint(ledger, oldKey, ORIGIN)).rejects.toThrow(NoteKeyMismatchError);
  await expect(publishCheckpoint(ledger, oldKey, ORIGIN)).rejects.toThrow(/retired at tree size/);
  // A fresh key nobody announced cannot sign either.
  await expect(publishCheckpoint(ledger, { current: fromPair(generateNoteKey(ORIGIN)) }, ORIGIN)).rejects.toThrow(/never announced/);
  expect((await latestCheckpoint(ledger))!.size).toBe(before);
  publisher.start();
  await waitFor('the new key to sign the pending leaf', async () => ((await latestCheckpoint(ledger))!.size === nextEvent - 1 ? true : undefined));
});

test('`custodian verify` that trusted the old key follows the announced rotation (exit 0), saved or pinned', async () => {
  const pinned = await verify('--key', oldKey.verifierKey);
  expect(pinned.out).toMatch(/followed a key rotation at size \d+/);
  expect(pinned.code).toBe(0);
  const saved = await verify('--from-checkpoint', savedCheckpoint);
  expect(saved.out).toMatch(/followed a key rotation/);
  expect(saved.out).toMatch(/consistent with the saved checkpoint/);
  expect(saved.code).toBe(0);
  expect(JSON.parse(fs.readFileSync(savedCheckpoint, 'utf8')).key).toBe(newKey.verifierKey);
});

test('a checkpoint signed by a key no announcement introduced is flagged (exit 1)', async () => {
  await publisher.stop();
  const rogue = generateNoteKey(ORIGIN); // same name, another key: what a thief of the database could mint
  await appendEvents(ledger, [testEvent(nextEvent++)]);
  const size = nextEvent - 1;
  const root = await ledgerTree(ledger).rootHash(size);
  const note = signCheckpoint({ origin: ORIGIN, size, rootHash: root }, parseSignerKey(rogue.signerKey));
  await ledger.getRepository(LedgerCheckpoint).insert({ size, root: encodeBase64(root), note, publishedAt: new Date() });
  for (const trust of [['--key', oldKey.verifierKey], ['--key', newKey.verifierKey]]) {
    const run = await verify(...trust);
    expect(run.out).toMatch(/TAMPERED: the latest checkpoint is not signed by custodian\.test\/rotation\+[0-9a-f]{8}/);
    expect(run.out).toContain(`signed by ${ORIGIN}+${rogue.verifierKey.split('+')[1]}`);
    expect(run.code).toBe(1);
  }

  // The same rogue key slipped into the key list as if rotated in, without an announcement.
  await ledger.getRepository(LedgerVerifierKey).update({ verifierKey: newKey.verifierKey }, { retiredAtSize: size });
  await ledger.getRepository(LedgerVerifierKey).insert({ verifierKey: rogue.verifierKey, firstUsedAt: new Date(), fromSize: size, retiredAtSize: null });
  expect((await (await fetch(`${gateway.url}/ledger/key`)).text()).trim()).toBe(rogue.verifierKey);
  const run = await verify('--key', oldKey.verifierKey);
  expect(run.out).toContain(`TAMPERED: key ${rogue.verifierKey} is listed from size ${size} without a checkpoint announcing it signed by ${newKey.verifierKey}`);
  expect(run.out).toMatch(/TAMPERED: the server serves the key .* but the trusted key leads to/);
  expect(run.code).toBe(1);
  // Even a first-time verifier, trusting whatever the server serves, sees the list is not a chain.
  const firstUse = await verify();
  expect(firstUse.out).toContain(`without a checkpoint announcing it`);
  expect(firstUse.code).toBe(1);
});

function fromPair(pair: { signerKey: string; verifierKey: string }): LedgerNoteKey {
  return { signer: parseSignerKey(pair.signerKey), verifierKey: pair.verifierKey };
}
