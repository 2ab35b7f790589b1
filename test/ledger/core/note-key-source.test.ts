/**
 * Where a ledger worker's note keys come from (ledger/core/note-key.ts noteKeySource):
 * production's LEDGER_NOTE_KEY / LEDGER_NOTE_KEY_PREVIOUS as key strings or file paths,
 * development's DATA_DIR/keys files — read again on every call, so a rotation written to
 * files is seen without a restart — and the development rotation itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateNoteKey } from '../../../ledger/core/note';
import { noteKeyPath, noteKeySource, previousNoteKeyPath, rotateNoteKeyFiles } from '../../../ledger/core/note-key';

const ORIGIN = 'custodian.example/ledger';
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-note-keys-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('production: the keys as strings, or as files read again on every call', () => {
  const [a, b, c] = [generateNoteKey(ORIGIN), generateNoteKey(ORIGIN), generateNoteKey(ORIGIN)];
  const asStrings = noteKeySource({ dataDir: dir, name: ORIGIN, signerKey: b.signerKey, previousSignerKey: a.signerKey })();
  expect([asStrings.current.verifierKey, asStrings.previous?.verifierKey]).toEqual([b.verifierKey, a.verifierKey]);

  const currentFile = path.join(dir, 'current.key');
  fs.writeFileSync(currentFile, `${a.signerKey}\n`);
  const source = noteKeySource({ dataDir: dir, name: ORIGIN, signerKey: currentFile });
  expect(source()).toEqual({ current: expect.objectContaining({ verifierKey: a.verifierKey }) });
  fs.writeFileSync(currentFile, `${c.signerKey}\n`);
  expect(source().current.verifierKey).toBe(c.verifierKey);
  // Given keys never fall back to the development files, and nothing is generated there.
  expect(fs.existsSync(noteKeyPath(dir))).toBe(false);
});

test('a key setting that is neither a key nor a readable file, or a malformed key, is refused', () => {
  expect(() => noteKeySource({ dataDir: dir, name: ORIGIN, signerKey: path.join(dir, 'missing.key') })()).toThrow(/neither PRIVATE\+KEY\+… nor a readable file/);
  expect(() => noteKeySource({ dataDir: dir, name: ORIGIN, signerKey: 'PRIVATE+KEY+x+00000000+AAAA' })()).toThrow();
});

test('development: a rotation of the key files is seen by a source made before it', () => {
  const source = noteKeySource({ dataDir: dir, name: ORIGIN });
  const first = source();
  expect(first.previous).toBeUndefined();
  const { previous, current } = rotateNoteKeyFiles(dir, ORIGIN);
  expect(previous.verifierKey).toBe(first.current.verifierKey);
  expect(current.signer.name).toBe(ORIGIN);
  expect(current.signer.keyId).not.toBe(previous.signer.keyId);
  const after = source();
  expect([after.current.verifierKey, after.previous?.verifierKey]).toEqual([current.verifierKey, previous.verifierKey]);
  for (const file of [noteKeyPath(dir), previousNoteKeyPath(dir)]) expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readdirSync(path.dirname(noteKeyPath(dir))).sort()).toEqual(['ledger-note.key', 'ledger-note.previous.key']);
});
