/**
 * Our signed notes through the Go team's reference, golang.org/x/mod/sumdb/note (Debian's
 * golang-golang-x-mod-dev, GOPATH mode), with test/ledger/go/note-crosscheck.go: a key
 * rotation's announcing checkpoint — two signatures by keys of one name — opens there as
 * here, a forged second signature is refused there as here, and Go signing with both
 * keys produces our note byte for byte.
 *
 * Skipped, saying so, where Go or the package is not installed
 * (`apt-get install -y golang-go golang-golang-x-mod-dev`).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signCheckpoint, formatCheckpoint } from '../../../ledger/core/checkpoint';
import { nextKeyLine } from '../../../ledger/core/key-rotation';
import { addSignatureLines, generateCosignerKey, parseCosignerSignerKey, splitNote } from '../../../ledger/core/cosignature';
import { generateNoteKey, hexKeyId, NoteError, openNote, parseSignerKey, parseVerifierKey, signNote } from '../../../ledger/core/note';

const GOPATH = '/usr/share/gocode';
const goEnv = { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: path.join(os.tmpdir(), 'custodian-go-cache'), GOFLAGS: '' };
const haveGo = (() => {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return fs.existsSync(path.join(GOPATH, 'src/golang.org/x/mod/sumdb/note/note.go'));
  } catch {
    return false;
  }
})();
if (!haveGo) console.warn('go-sumdb.test.ts skipped: install golang-go and golang-golang-x-mod-dev to cross-check with sumdb/note');

let binary: string;

interface GoSig {
  name: string;
  hash: string;
}
type GoAnswer = { text: string; sigs: GoSig[]; unverified: GoSig[]; error?: undefined } | { error: string };

function go(request: object): GoAnswer & { note?: string } {
  return JSON.parse(execFileSync(binary, { input: JSON.stringify(request), env: goEnv, encoding: 'utf8' }));
}

const ORIGIN = 'custodian.example/ledger';
const oldKey = generateNoteKey(ORIGIN, Buffer.alloc(32, 11));
const newKey = generateNoteKey(ORIGIN, Buffer.alloc(32, 12));
const idOf = (k: { verifierKey: string }) => hexKeyId(parseVerifierKey(k.verifierKey).keyId);
const checkpoint = { origin: ORIGIN, size: 42, rootHash: Buffer.alloc(32, 5), extensions: [nextKeyLine(newKey.verifierKey)] };

(haveGo ? describe : describe.skip)('golang.org/x/mod/sumdb/note', () => {
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-go-'));
    binary = path.join(dir, 'note-crosscheck');
    execFileSync('go', ['build', '-o', binary, path.join(__dirname, '../go/note-crosscheck.go')], { env: goEnv, stdio: 'pipe' });
  }, 120_000);

  const announcement = signCheckpoint(checkpoint, [parseSignerKey(oldKey.signerKey), parseSignerKey(newKey.signerKey)]);

  test('opens our announcing checkpoint (two signatures, one name) and reports which keys signed', () => {
    const both = go({ op: 'open', note: announcement, verifiers: [oldKey.verifierKey, newKey.verifierKey] });
    expect(both).toEqual({ text: formatCheckpoint(checkpoint), sigs: [{ name: ORIGIN, hash: idOf(oldKey) }, { name: ORIGIN, hash: idOf(newKey) }], unverified: [] });
    const onlyOld = go({ op: 'open', note: announcement, verifiers: [oldKey.verifierKey] });
    expect(onlyOld).toMatchObject({ sigs: [{ hash: idOf(oldKey) }], unverified: [{ hash: idOf(newKey) }] });
    const onlyNew = go({ op: 'open', note: announcement, verifiers: [newKey.verifierKey] });
    expect(onlyNew).toMatchObject({ sigs: [{ hash: idOf(newKey) }], unverified: [{ hash: idOf(oldKey) }] });
  });

  test('refuses a forged second signature, as we do', () => {
    const forged = announcement.replace(/^(— \S+ )(\S+)\n$/mu, (_, head: string, sig: string) => {
      const raw = Buffer.from(sig, 'base64');
      raw[30] ^= 1;
      return `${head}${raw.toString('base64')}\n`;
    });
    expect(forged).not.toBe(announcement);
    expect(go({ op: 'open', note: forged, verifiers: [oldKey.verifierKey, newKey.verifierKey] })).toEqual({ error: expect.stringMatching(/invalid signature/i) });
    expect(() => openNote(forged, [parseVerifierKey(oldKey.verifierKey), parseVerifierKey(newKey.verifierKey)])).toThrow(NoteError);
  });

  test('Go signing with the old and the new key produces our note byte for byte', () => {
    const text = formatCheckpoint(checkpoint);
    const signed = go({ op: 'sign', text, signers: [oldKey.signerKey, newKey.signerKey] });
    expect(signed.note).toBe(signNote(text, [parseSignerKey(oldKey.signerKey), parseSignerKey(newKey.signerKey)]));
    expect(signed.note).toBe(announcement);
  });

  test('a note signed by a key Go does not know is unverified there too', () => {
    const rogue = generateNoteKey(ORIGIN);
    const note = signCheckpoint({ ...checkpoint, extensions: [] }, parseSignerKey(rogue.signerKey));
    expect(go({ op: 'open', note, verifiers: [oldKey.verifierKey, newKey.verifierKey] })).toEqual({ error: expect.stringMatching(/no verifiable signatures/i) });
  });

  test('a checkpoint cosigned by two witnesses (tlog-cosignature lines) opens with the log key; the cosignatures are unverified there', () => {
    const note = signCheckpoint({ ...checkpoint, extensions: [] }, parseSignerKey(oldKey.signerKey));
    const { body } = splitNote(note);
    const lines = ['w1.example/w', 'w2.example/w'].map((name) => parseCosignerSignerKey(generateCosignerKey(name).signerKey).cosign(body, 1_700_000_000).line);
    const cosigned = addSignatureLines(note, lines);
    const opened = go({ op: 'open', note: cosigned, verifiers: [oldKey.verifierKey] });
    expect(opened).toMatchObject({ text: body, sigs: [{ name: ORIGIN, hash: idOf(oldKey) }] });
    expect((opened as { unverified: GoSig[] }).unverified.map((s) => s.name)).toEqual(['w1.example/w', 'w2.example/w']);
  });
});
