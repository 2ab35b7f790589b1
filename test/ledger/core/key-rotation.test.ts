/**
 * Key rotation as a checkpoint says it (ledger/core/key-rotation.ts), and signed notes
 * with several signatures by keys of the SAME name — the rotation case: C2SP key ids
 * hash the name and the public key, so two keys of one origin differ by id alone.
 */
import { formatCheckpoint, openCheckpoint, signCheckpoint } from '../../../ledger/core/checkpoint';
import { announcedKeys, nextKeyLine, openAnnouncement } from '../../../ledger/core/key-rotation';
import { generateNoteKey, hexKeyId, NoteError, openNote, parseSignerKey, parseVerifierKey, signNote } from '../../../ledger/core/note';

const ORIGIN = 'custodian.example/ledger';
const oldKey = generateNoteKey(ORIGIN, Buffer.alloc(32, 1));
const newKey = generateNoteKey(ORIGIN, Buffer.alloc(32, 2));
const rogue = generateNoteKey(ORIGIN, Buffer.alloc(32, 3));
const signer = (k: { signerKey: string }) => parseSignerKey(k.signerKey);
const verifier = (k: { verifierKey: string }) => parseVerifierKey(k.verifierKey);
const tree = { origin: ORIGIN, size: 7, rootHash: Buffer.alloc(32, 9) };

/** Flips one bit of the signature on the line of the key with id `keyIdHex`. */
function forge(note: string, keyIdHex: string): string {
  return note.replace(/^(— \S+ )(\S+)$/gmu, (line, head: string, sig: string) => {
    const raw = Buffer.from(sig, 'base64');
    if (raw.subarray(0, 4).toString('hex') !== keyIdHex) return line;
    raw[20] ^= 1;
    return head + raw.toString('base64');
  });
}

describe('a note signed by two keys of the same name', () => {
  const note = signNote('text\n', [signer(oldKey), signer(newKey)]);

  test('has one signature line per key, same name, different key ids', () => {
    const lines = note.split('\n\n')[1]!.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.startsWith(`— ${ORIGIN} `))).toBe(true);
    expect(verifier(oldKey).keyId).not.toBe(verifier(newKey).keyId);
  });

  test('opens with either key or both, and reports which verified', () => {
    const both = openNote(note, [verifier(oldKey), verifier(newKey)]);
    expect(both.signatures.map((s) => hexKeyId(s.keyId))).toEqual([hexKeyId(verifier(oldKey).keyId), hexKeyId(verifier(newKey).keyId)]);
    const onlyNew = openNote(note, [verifier(newKey)]);
    expect(onlyNew.signatures.map((s) => s.keyId)).toEqual([verifier(newKey).keyId]);
    expect(onlyNew.unverifiedSignatures.map((s) => s.keyId)).toEqual([verifier(oldKey).keyId]);
  });

  test('a forged second signature by a known key rejects the whole note, the good first one notwithstanding', () => {
    const forged = forge(note, hexKeyId(verifier(newKey).keyId));
    expect(() => openNote(forged, [verifier(oldKey), verifier(newKey)])).toThrow(expect.objectContaining({ code: 'invalid-signature' }));
    // A verifier that knows only the old key cannot tell: the line is another key's, and ignored.
    expect(openNote(forged, [verifier(oldKey)]).unverifiedSignatures).toHaveLength(1);
  });

  test('a second line claiming a known key id with a signature of another key is refused', () => {
    const impostor = signNote('text\n', [signer(oldKey), { ...signer(rogue), keyId: verifier(newKey).keyId }]);
    expect(() => openNote(impostor, [verifier(oldKey), verifier(newKey)])).toThrow(expect.objectContaining({ code: 'invalid-signature' }));
  });
});

describe('the announcing checkpoint', () => {
  const announcement = signCheckpoint({ ...tree, extensions: [nextKeyLine(newKey.verifierKey)] }, [signer(oldKey), signer(newKey)]);

  test('names the new key in its signed text and opens as an announcement', () => {
    expect(formatCheckpoint({ ...tree, extensions: [nextKeyLine(newKey.verifierKey)] })).toContain(`\nnext-key ${newKey.verifierKey}\n`);
    const checkpoint = openAnnouncement(announcement, oldKey.verifierKey, newKey.verifierKey, { origin: ORIGIN });
    expect(checkpoint.size).toBe(7);
    expect(announcedKeys(checkpoint)).toEqual([newKey.verifierKey]);
    // An ordinary reader (ours, Go's) sees an ordinary checkpoint with an extension line.
    expect(openCheckpoint(announcement, [verifier(newKey)]).checkpoint.size).toBe(7);
  });

  test('is refused without the old key\'s signature', () => {
    const newOnly = signCheckpoint({ ...tree, extensions: [nextKeyLine(newKey.verifierKey)] }, signer(newKey));
    expect(() => openAnnouncement(newOnly, oldKey.verifierKey, newKey.verifierKey)).toThrow(/not signed by the trusted key/);
  });

  test('is refused without the new key\'s signature', () => {
    const oldOnly = signCheckpoint({ ...tree, extensions: [nextKeyLine(newKey.verifierKey)] }, signer(oldKey));
    expect(() => openAnnouncement(oldOnly, oldKey.verifierKey, newKey.verifierKey)).toThrow(/not signed by the new key/);
  });

  test('is refused when a signature line was merely appended to an old-key checkpoint (the text does not name the key)', () => {
    const genuine = signCheckpoint(tree, signer(oldKey));
    const appended = genuine + signNote(formatCheckpoint(tree), signer(rogue)).split('\n\n')[1];
    expect(openNote(appended, [verifier(oldKey), verifier(rogue)]).signatures).toHaveLength(2);
    expect(() => openAnnouncement(appended, oldKey.verifierKey, rogue.verifierKey)).toThrow(/does not name/);
  });

  test('is refused when it names another key than the one claimed', () => {
    const other = signCheckpoint({ ...tree, extensions: [nextKeyLine(newKey.verifierKey)] }, [signer(oldKey), signer(rogue)]);
    expect(() => openAnnouncement(other, oldKey.verifierKey, rogue.verifierKey)).toThrow(/does not name/);
  });

  test('is refused when either signature is forged', () => {
    for (const k of [oldKey, newKey]) {
      expect(() => openAnnouncement(forge(announcement, hexKeyId(verifier(k).keyId)), oldKey.verifierKey, newKey.verifierKey)).toThrow(NoteError);
    }
  });
});
