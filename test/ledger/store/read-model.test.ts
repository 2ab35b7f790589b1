/**
 * The one read model over a ledger that holds both leaf formats: format-1 leaves exactly
 * as the code at main wrote them, then format-2 leaves from today's append path. Entries
 * and the leaf search read both with the one parser, serve the stored bytes unchanged,
 * and refuse a leaf whose bytes no longer match its hash.
 */
import type { DataSource } from 'typeorm';
import { readLeaf, type LedgerEvent } from '../../../ledger/core/leaf';
import { appendEvents } from '../../../ledger/store/append';
import { exclusive, openLedgerDatabase } from '../../../ledger/store/database';
import { LedgerLeaf } from '../../../ledger/store/entities';
import { entry, findLeaves, ledgerTree } from '../../../ledger/store/read-model';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { refLeafHash, ReferenceTree } from '../../support/ledger';
import { appendLeafTexts, FORMAT_1_LEAVES } from '../../support/ledger-leaves';
import { testEvent } from '../../support/ledger-pipeline';

const PATIENT = 'pat_0e6b2d91'; // the fixture's patient
let database: TestDatabase;
let db: DataSource;
let newer: LedgerEvent[];

beforeAll(async () => {
  database = await freshDatabase();
  db = await openLedgerDatabase(database.env);
  await appendLeafTexts(db, FORMAT_1_LEAVES.map((l) => l.text));
  newer = [1, 2].map((i) => ({ ...testEvent(i, 'access.decision'), patientId: PATIENT, decision: 'permit', at: `2026-12-02T10:00:0${i}.000Z` }));
  await appendEvents(db, newer);
}, 60_000);
afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

test('format-1 entries are served with their original bytes and hash, read as format 1', async () => {
  for (const [index, fixture] of FORMAT_1_LEAVES.entries()) {
    const found = (await entry(db, index))!;
    expect(found).toEqual({ index, leafHash: fixture.leafHash, leafData: fixture.leafData, format: 1, event: JSON.parse(fixture.text) });
  }
});

test('format-2 entries follow in the same tree, read as format 2 with the event appended', async () => {
  for (const [i, event] of newer.entries()) {
    const found = (await entry(db, FORMAT_1_LEAVES.length + i))!;
    expect(found.format).toBe(2);
    expect(found.event).toEqual(event);
    expect(Buffer.from(found.leafData, 'base64').toString('utf8')).toMatch(/,"v":2}$/);
  }
  // One tree over both: the root is the RFC 6962 root of every stored byte string.
  const size = FORMAT_1_LEAVES.length + newer.length;
  const all = await Promise.all(Array.from({ length: size }, (_, i) => entry(db, i)));
  const reference = new ReferenceTree(all.map((e) => refLeafHash(Buffer.from(e!.leafData, 'base64'))));
  expect((await ledgerTree(db).rootHash(size)).equals(reference.mth(0, size))).toBe(true);
});

test('the leaf search finds leaves of both formats by their search columns, newest first', async () => {
  const decisions = await findLeaves(db, { patientId: PATIENT, kind: 'access.decision' }, 10);
  expect(decisions.map((l) => [l.format, l.event.id])).toEqual([
    [2, newer[1]!.id],
    [2, newer[0]!.id],
    [1, 'evt_9c1d4e2f7a0b3c5d6e7f'],
  ]);
  const [granted] = await findLeaves(db, { kind: 'consent.granted' }, 10);
  expect(granted).toMatchObject({ index: 1, format: 1, leafHash: FORMAT_1_LEAVES[1]!.leafHash, leafData: FORMAT_1_LEAVES[1]!.leafData });
  expect(granted!.event).toEqual(readLeaf(FORMAT_1_LEAVES[1]!.text).event);
});

test('an entry whose stored bytes were edited is refused, not served', async () => {
  const repo = db.getRepository(LedgerLeaf);
  const original = (await exclusive(db, () => repo.findOneByOrFail({ leafIndex: 0 }))).leafData;
  await exclusive(db, () => repo.update({ leafIndex: 0 }, { leafData: original.replace('"permit"', '"deny"') }));
  try {
    await expect(entry(db, 0)).rejects.toThrow(/does not match its stored hash/);
  } finally {
    await exclusive(db, () => repo.update({ leafIndex: 0 }, { leafData: original }));
  }
  expect((await entry(db, 0))!.format).toBe(1);
});

test('a leaf of a newer format than this reader is refused rather than misread (readers deploy before writers)', async () => {
  const [index] = await appendLeafTexts(db, ['{"at":"2026-12-02T10:00:00Z","id":"evt_newer_format","kind":"k","v":3}']);
  await expect(entry(db, index!)).rejects.toMatchObject({ name: 'LeafFormatError', code: 'unknown-format' });
});
