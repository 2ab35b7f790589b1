/**
 * C2SP signed notes: the spec's own example (shared/testdata), the Go reference
 * implementation's documented example, and every way a note or key can be bad.
 */
import { createHash } from 'node:crypto';
import {
  NoteError,
  generateNoteKey,
  hexKeyId,
  noteKeyId,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyFromPublicKey,
  type NoteErrorCode,
  type NoteVerifier,
} from '../../../ledger/core/note';
import { loadReferenceTree } from '../../support/ledger';

const example = loadReferenceTree().signedNoteExample;
const exampleNote = `${example.noteText}\n${example.signatureLine}\n`;

/**
 * The example in the package documentation of golang.org/x/mod/sumdb/note, the reference
 * implementation: a signer key, its verifier key, and the exact note it produces
 * (Ed25519 signatures are deterministic). The second signature is by a key we do not know.
 */
const go = {
  signerKey: 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz',
  verifierKey: 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
  text: "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  signature: '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n',
  cosignature: '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n',
};

function expectNoteError(run: () => unknown, code: NoteErrorCode): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(NoteError);
  expect((caught as NoteError).code).toBe(code);
}

describe('the C2SP signed-note example', () => {
  const verifier = parseVerifierKey(example.vkey);

  test('its key ID follows SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]', () => {
    const publicKey = Buffer.from(example.ed25519PublicKeyHex, 'hex');
    const independent = createHash('sha256')
      .update(Buffer.concat([Buffer.from(example.keyName), Buffer.from([0x0a, 0x01]), publicKey]))
      .digest()
      .subarray(0, 4)
      .toString('hex');
    expect(independent).toBe(example.keyIdHex);
    expect(hexKeyId(noteKeyId(example.keyName, publicKey))).toBe(example.keyIdHex);
    expect(verifier.name).toBe(example.keyName);
    expect(hexKeyId(verifier.keyId)).toBe(example.keyIdHex);
    expect(verifierKeyFromPublicKey(example.keyName, publicKey)).toBe(example.vkey);
  });

  test('it verifies, as a string and as bytes', () => {
    for (const note of [exampleNote, Buffer.from(exampleNote, 'utf8')]) {
      const opened = openNote(note, [verifier]);
      expect(opened.text).toBe(example.noteText);
      expect(opened.signatures.map((s) => [s.name, hexKeyId(s.keyId)])).toEqual([[example.keyName, example.keyIdHex]]);
      expect(opened.unverifiedSignatures).toEqual([]);
    }
  });

  test('changing any one byte of the text breaks the signature', () => {
    const text = Buffer.from(example.noteText, 'utf8');
    for (let i = 0; i < text.length - 1; i++) {
      const tampered = Buffer.from(text);
      tampered[i] ^= 0x01; // printable stays printable, so only the signature can object
      expectNoteError(() => openNote(`${tampered.toString('utf8')}\n${example.signatureLine}\n`, [verifier]), 'invalid-signature');
    }
  });

  test('changing any one byte of the signature breaks it', () => {
    const space = example.signatureLine.lastIndexOf(' ');
    const [prefix, base64] = [example.signatureLine.slice(0, space + 1), example.signatureLine.slice(space + 1)];
    const raw = Buffer.from(base64, 'base64');
    for (let i = 4; i < raw.length; i++) {
      const tampered = Buffer.from(raw);
      tampered[i] ^= 0x80;
      expectNoteError(() => openNote(`${example.noteText}\n${prefix}${tampered.toString('base64')}\n`, [verifier]), 'invalid-signature');
    }
  });

  test('a different key of the same name is not the signer: the note is unverified', () => {
    const other = parseVerifierKey(generateNoteKey(example.keyName).verifierKey);
    expectNoteError(() => openNote(exampleNote, [other]), 'unverified-note');
    expectNoteError(() => openNote(exampleNote, []), 'unverified-note');
  });

  test('an impostor key claiming the same name and key ID fails verification', () => {
    const impostorKey = parseVerifierKey(generateNoteKey(example.keyName).verifierKey);
    const impostor: NoteVerifier = { name: example.keyName, keyId: verifier.keyId, verify: impostorKey.verify };
    expectNoteError(() => openNote(exampleNote, [impostor]), 'invalid-signature');
  });
});

describe('the Go sumdb/note documentation example', () => {
  test('signing with its signer key reproduces its note byte for byte', () => {
    const signer = parseSignerKey(go.signerKey);
    expect([signer.name, hexKeyId(signer.keyId)]).toEqual(['PeterNeumann', 'c74f20a3']);
    expect(signNote(go.text, signer)).toBe(`${go.text}\n${go.signature}`);
  });

  test('a cosignature by an unknown key is reported and ignored', () => {
    const opened = openNote(`${go.text}\n${go.signature}${go.cosignature}`, [parseVerifierKey(go.verifierKey)]);
    expect(opened.text).toBe(go.text);
    expect(opened.signatures.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(opened.unverifiedSignatures.map((s) => s.name)).toEqual(['EnochRoot']);
  });

  test('every truncation or one-byte change of its keys is refused', () => {
    for (const [key, parse] of [
      [go.verifierKey, parseVerifierKey],
      [go.signerKey, parseSignerKey],
    ] as const) {
      expect(() => parse(key)).not.toThrow();
      for (let i = 0; i < key.length; i++) {
        for (let j = i + 1; j <= key.length; j++) {
          if (i === 0 && j === key.length) continue;
          expectNoteError(() => parse(key.slice(i, j)), 'invalid-key');
        }
        const changed = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expectNoteError(() => parse(changed), 'invalid-key');
      }
    }
  });
});

describe('generated keys', () => {
  test('sign and open round trip; key strings have the documented shapes', () => {
    const { signerKey, verifierKey } = generateNoteKey('custodian.example/ledger');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+custodian\.example\/ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(verifierKey).toMatch(/^custodian\.example\/ledger\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    // base64(0x01 ‖ 32 bytes) is 44 characters with no padding; the first byte is the algorithm.
    for (const k of [signerKey, verifierKey]) expect(Buffer.from(k.slice(-44), 'base64')[0]).toBe(0x01);
    const signer = parseSignerKey(signerKey);
    const verifier = parseVerifierKey(verifierKey);
    expect(signer.keyId).toBe(verifier.keyId);
    const note = signNote('hello\n', signer);
    expect(note).toMatch(/^hello\n\n— custodian\.example\/ledger [A-Za-z0-9+/]{91}=\n$/);
    expect(openNote(note, [verifier]).text).toBe('hello\n');
  });

  test('a seed gives the same key every time, and different seeds different keys', () => {
    const seed = Buffer.alloc(32, 7);
    expect(generateNoteKey('log.example', seed)).toEqual(generateNoteKey('log.example', seed));
    expect(generateNoteKey('log.example', Buffer.alloc(32, 8)).verifierKey).not.toBe(generateNoteKey('log.example', seed).verifierKey);
  });

  test('several signers; every known signature is checked', () => {
    const a = generateNoteKey('a.example');
    const b = generateNoteKey('b.example');
    const note = signNote('two signers\n', [parseSignerKey(a.signerKey), parseSignerKey(b.signerKey)]);
    const both = openNote(note, [parseVerifierKey(a.verifierKey), parseVerifierKey(b.verifierKey)]);
    expect(both.signatures.map((s) => s.name)).toEqual(['a.example', 'b.example']);
    const onlyB = openNote(note, [parseVerifierKey(b.verifierKey)]);
    expect(onlyB.unverifiedSignatures.map((s) => s.name)).toEqual(['a.example']);

    // A forged line from a known key rejects the whole note, even next to a good one.
    const forged = note.replace(/(— a\.example )(\S+)/, (_, head: string, sig: string) => {
      const raw = Buffer.from(sig, 'base64');
      raw[10] ^= 1;
      return head + raw.toString('base64');
    });
    expectNoteError(() => openNote(forged, [parseVerifierKey(a.verifierKey), parseVerifierKey(b.verifierKey)]), 'invalid-signature');
  });

  test('texts with blank lines, a trailing blank line, or a line that looks like a signature round-trip', () => {
    const key = generateNoteKey('log.example');
    const verifier = parseVerifierKey(key.verifierKey);
    for (const text of ['a\n\nb\n', 'a\n\n', '\n', 'a\n\n— log.example AAAAAAAA\nb\n', 'ünïcødé ✓ 𝄞\n']) {
      expect(openNote(signNote(text, parseSignerKey(key.signerKey)), [verifier]).text).toBe(text);
    }
  });

  test('signing refuses text that would not survive the format', () => {
    const signer = parseSignerKey(generateNoteKey('log.example').signerKey);
    expectNoteError(() => signNote('no newline', signer), 'malformed-note');
    expectNoteError(() => signNote('', signer), 'malformed-note');
    expectNoteError(() => signNote('tab\there\n', signer), 'malformed-note');
    expectNoteError(() => signNote('carriage\r\n', signer), 'malformed-note');
    expectNoteError(() => signNote('lone \ud800 surrogate\n', signer), 'malformed-note');
    expectNoteError(() => signNote('fine\n', []), 'invalid-key');
    expectNoteError(() => signNote('fine\n', { ...signer, name: 'bad name' }), 'invalid-key');
  });

  test('key names with white space or "+" are refused', () => {
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2028b', 'tab\t']) {
      expectNoteError(() => generateNoteKey(name), 'invalid-key');
    }
  });
});

describe('malformed notes', () => {
  const key = generateNoteKey('log.example');
  const verifier = parseVerifierKey(key.verifierKey);
  const good = signNote('body\n', parseSignerKey(key.signerKey));
  const sigLine = good.slice('body\n\n'.length);
  const sigBase64 = sigLine.trim().split(' ')[2];

  test('the untouched note opens', () => {
    expect(openNote(good, [verifier]).text).toBe('body\n');
  });

  test.each([
    ['no blank line before the signatures', `body\n${sigLine}`],
    ['no final newline', good.slice(0, -1)],
    ['no signature lines', 'body\n\n'],
    ['an ASCII hyphen instead of the em dash', `body\n\n- log.example ${sigBase64}\n`],
    ['an en dash instead of the em dash', `body\n\n– log.example ${sigBase64}\n`],
    ['no space after the dash', `body\n\n—log.example ${sigBase64}\n`],
    ['no signature after the name', 'body\n\n— log.example\n'],
    ['an empty signature', 'body\n\n— log.example \n'],
    ['two spaces before the signature', `body\n\n— log.example  ${sigBase64}\n`],
    ['a signature that is not base64', 'body\n\n— log.example not*base64!\n'],
    ['unpadded base64', `body\n\n— log.example ${sigBase64.replace(/=+$/, '')}\n`],
    ['a signature shorter than key ID plus one byte', `body\n\n— log.example ${Buffer.alloc(4).toString('base64')}\n`],
    ['a key name with "+"', `body\n\n— log+example ${sigBase64}\n`],
    ['an empty key name', `body\n\n—  ${sigBase64}\n`],
    ['trailing text after the signatures', `${good}garbage\n`],
    ['a carriage return', good.replace('body\n', 'body\r\n')],
    ['a NUL byte', good.replace('body', 'bo\u0000dy')],
    ['a lone surrogate', good.replace('body', 'bo\ud800dy')],
    ['more than 100 signatures', `body\n\n${sigLine.repeat(101)}`],
  ])('%s', (_, note) => {
    expectNoteError(() => openNote(note, [verifier]), 'malformed-note');
  });

  test('bytes that are not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from([0x62, 0xff, 0x0a]), Buffer.from(`\n${sigLine}`, 'utf8')]);
    expectNoteError(() => openNote(bytes, [verifier]), 'malformed-note');
  });

  test('two configured verifiers for one key are a configuration error', () => {
    expectNoteError(() => openNote(good, [verifier, parseVerifierKey(key.verifierKey)]), 'invalid-key');
  });

  test('up to 100 signature lines are accepted (the spec requires at least 16)', () => {
    const others = Array.from({ length: 99 }, (_, i) => `— other${i}.example ${Buffer.alloc(68, i).toString('base64')}\n`);
    const opened = openNote(`${good}${others.join('')}`, [verifier]);
    expect(opened.signatures).toHaveLength(1);
    expect(opened.unverifiedSignatures).toHaveLength(99);
  });

  test('the same valid signature twice counts once', () => {
    const opened = openNote(`${good}${sigLine}`, [verifier]);
    expect(opened.signatures).toHaveLength(1);
  });
});
