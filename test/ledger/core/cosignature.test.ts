/**
 * C2SP tlog-cosignature v1: key IDs and messages recomputed independently from the spec
 * text, the spec's example line, and every tampering a verifier must catch.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { signCheckpoint, openCheckpoint } from '../../../ledger/core/checkpoint';
import {
  CosignatureError,
  addSignatureLines,
  cosignatureKeyId,
  cosignaturesOnNote,
  cosignedMessage,
  cosignerVerifierKey,
  generateCosignerKey,
  parseCosignatureLine,
  parseCosignerSignerKey,
  parseCosignerVerifierKey,
  splitNote,
  verifyCosignature,
  type CosignatureErrorCode,
} from '../../../ledger/core/cosignature';
import { detectSplitView } from '../../../ledger/core/split-view';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from '../../../ledger/core/note';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const seed = Buffer.alloc(32, 7);
const witness = generateCosignerKey('witness.example/w1', seed);
const signer = parseCosignerSignerKey(witness.signerKey);
const verifier = parseCosignerVerifierKey(witness.verifierKey);
const log = generateNoteKey('custodian.example/ledger', Buffer.alloc(32, 1));
const logSigner = parseSignerKey(log.signerKey);
const logVerifier = parseVerifierKey(log.verifierKey);
const root = (fill: number): Buffer => Buffer.alloc(32, fill);
const checkpointNote = (size: number, fill: number): string =>
  signCheckpoint({ origin: 'custodian.example/ledger', size, rootHash: root(fill) }, logSigner);

function expectCode(run: () => unknown, code: CosignatureErrorCode): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CosignatureError);
  expect((caught as CosignatureError).code).toBe(code);
}

describe('cosigner keys', () => {
  test('the key ID is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4], and the vkey carries type 0x04', () => {
    const publicKey = verifier.publicKey;
    const independent = createHash('sha256')
      .update(Buffer.concat([Buffer.from('witness.example/w1'), Buffer.from([0x0a, 0x04]), publicKey]))
      .digest()
      .readUInt32BE(0);
    expect(cosignatureKeyId('witness.example/w1', publicKey)).toBe(independent);
    const [name, id] = witness.verifierKey.split('+');
    const key = witness.verifierKey.split('+').slice(2).join('+');
    expect(name).toBe('witness.example/w1');
    expect(parseInt(id, 16)).toBe(independent);
    expect(Buffer.from(key, 'base64')).toEqual(Buffer.concat([Buffer.from([0x04]), publicKey]));
    expect(witness.signerKey).toBe(`PRIVATE+KEY+witness.example/w1+${id}+${Buffer.concat([Buffer.from([0x04]), seed]).toString('base64')}`);
    expect(cosignerVerifierKey('witness.example/w1', publicKey)).toBe(witness.verifierKey);
    expect(signer.verifierKey).toBe(witness.verifierKey);
    // Not the 0x01 note key ID of the same key: a cosignature is never a plain signature.
    expect(verifier.keyId).not.toBe(parseVerifierKey(generateNoteKey('witness.example/w1', seed).verifierKey).keyId);
  });

  test('malformed, mistyped or inconsistent keys are refused', () => {
    expectCode(() => parseCosignerVerifierKey(log.verifierKey), 'invalid-key'); // type 0x01
    expectCode(() => parseCosignerSignerKey(log.signerKey), 'invalid-key');
    const [name, id, key] = [witness.verifierKey.split('+')[0], witness.verifierKey.split('+')[1], witness.verifierKey.split('+').slice(2).join('+')];
    const otherId = ((parseInt(id, 16) ^ 1) >>> 0).toString(16).padStart(8, '0');
    expectCode(() => parseCosignerVerifierKey(`${name}+${otherId}+${key}`), 'invalid-key');
    expectCode(() => parseCosignerVerifierKey(`other+${id}+${key}`), 'invalid-key');
    expectCode(() => parseCosignerVerifierKey(`${name}+${id}`), 'invalid-key');
    expectCode(() => parseCosignerVerifierKey(`${name}+${id}+${key}=`), 'invalid-key');
    expectCode(() => parseCosignerSignerKey(witness.signerKey.replace('PRIVATE+KEY', 'PRIVATE+KEX')), 'invalid-key');
    expectCode(() => generateCosignerKey('has space'), 'invalid-key');
    expectCode(() => generateCosignerKey('a+b'), 'invalid-key');
  });
});

describe('cosignature/v1', () => {
  const body = 'custodian.example/ledger\n5\n' + root(5).toString('base64') + '\n';

  test('signs "cosignature/v1\\ntime T\\n" ‖ body, as keyID ‖ u64 BE time ‖ Ed25519 signature', () => {
    const made = signer.cosign(body, 1679315147);
    expect(made.line.startsWith('— witness.example/w1 ')).toBe(true);
    const bytes = Buffer.from(made.line.split(' ')[2], 'base64');
    expect(bytes).toHaveLength(76);
    expect(bytes.readUInt32BE(0)).toBe(verifier.keyId);
    expect(bytes.readBigUInt64BE(4)).toBe(1679315147n);
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\n${body}`);
    expect(cosignedMessage(body, 1679315147).equals(message)).toBe(true);
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, verifier.publicKey]), format: 'der', type: 'spki' });
    expect(verify(null, message, publicKey, bytes.subarray(12))).toBe(true);
    expect(verifyCosignature(verifier, body, made.line)).toEqual(made);
  });

  test('parses the spec example line: key ID 8d66cf3f, time 1679315147', () => {
    const parsed = parseCosignatureLine(
      '— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==',
    );
    expect(parsed.name).toBe('witness.example.com/w1');
    expect(parsed.keyId.toString(16)).toBe('8d66cf3f');
    expect(parsed.timestamp).toBe(1679315147);
    expect(parsed.signature).toHaveLength(64);
  });

  test('tampering with the body, the time, the signature or the key is refused', () => {
    const made = signer.cosign(body, 1700000000);
    const bytes = Buffer.from(made.line.split(' ')[2], 'base64');
    const relined = (b: Buffer): string => `— witness.example/w1 ${b.toString('base64')}`;

    expectCode(() => verifyCosignature(verifier, body.replace('\n5\n', '\n6\n'), made.line), 'invalid-cosignature');
    const laterTime = Buffer.from(bytes);
    laterTime.writeBigUInt64BE(1700000001n, 4);
    expectCode(() => verifyCosignature(verifier, body, relined(laterTime)), 'invalid-cosignature');
    const flipped = Buffer.from(bytes);
    flipped[40] ^= 1;
    expectCode(() => verifyCosignature(verifier, body, relined(flipped)), 'invalid-cosignature');
    const other = parseCosignerVerifierKey(generateCosignerKey('witness.example/w1', Buffer.alloc(32, 8)).verifierKey);
    expectCode(() => verifyCosignature(other, body, made.line), 'invalid-key');
    expectCode(() => verifyCosignature(verifier, body, made.line.replace('w1', 'w2')), 'invalid-key');
    expectCode(() => verifyCosignature(verifier, body, relined(bytes.subarray(0, 75))), 'malformed-cosignature');
    expectCode(() => verifyCosignature(verifier, body, made.line.replace('— ', '- ')), 'malformed-cosignature');
    const huge = Buffer.from(bytes);
    huge.writeBigUInt64BE(2n ** 63n, 4);
    expectCode(() => parseCosignatureLine(relined(huge)), 'malformed-cosignature');
    expectCode(() => verifyCosignature(verifier, body, made.line, { notAfter: 1699999999 }), 'future-timestamp');
    expect(verifyCosignature(verifier, body, made.line, { notAfter: 1700000000 }).timestamp).toBe(1700000000);
  });

  test('a cosigned checkpoint still opens with the log key alone; cosignaturesOnNote finds the known ones', () => {
    const note = checkpointNote(5, 5);
    const { body: text } = splitNote(note);
    const second = parseCosignerSignerKey(generateCosignerKey('witness.example/w2', Buffer.alloc(32, 9)).signerKey);
    const cosigned = addSignatureLines(note, [signer.cosign(text, 10).line, second.cosign(text, 11).line]);
    const opened = openCheckpoint(cosigned, [logVerifier]);
    expect(opened.checkpoint.size).toBe(5);
    expect(opened.note.unverifiedSignatures.map((s) => s.name)).toEqual(['witness.example/w1', 'witness.example/w2']);
    expect(cosignaturesOnNote(cosigned, [verifier]).map((c) => [c.name, c.timestamp])).toEqual([['witness.example/w1', 10]]);
    expect(cosignaturesOnNote(note, [verifier])).toEqual([]);
    // A second line by the same key is not added; a tampered one by a known key is caught.
    expect(addSignatureLines(cosigned, [signer.cosign(text, 12).line])).toBe(cosigned);
    const forged = addSignatureLines(note, [signer.cosign(text.replace('\n5\n', '\n4\n'), 10).line]);
    expectCode(() => cosignaturesOnNote(forged, [verifier]), 'invalid-cosignature');
  });
});

describe('detectSplitView', () => {
  test('two log-signed checkpoints of one size with different roots are a fork; anything else is not', () => {
    const a = checkpointNote(7, 1);
    const b = checkpointNote(7, 2);
    const { body } = splitNote(a);
    const evidence = detectSplitView(addSignatureLines(a, [signer.cosign(body, 5).line]), b, [logVerifier], [verifier]);
    expect(evidence).toMatchObject({ origin: 'custodian.example/ledger', size: 7, roots: [root(1).toString('base64'), root(2).toString('base64')] });
    expect(evidence!.cosignatures[0].map((c) => c.name)).toEqual(['witness.example/w1']);
    expect(evidence!.cosignatures[1]).toEqual([]);
    expect(detectSplitView(a, checkpointNote(7, 1), [logVerifier])).toBeUndefined();
    expect(detectSplitView(a, checkpointNote(8, 2), [logVerifier])).toBeUndefined();
  });

  test('a checkpoint the log did not sign is no evidence', () => {
    const stranger = parseSignerKey(generateNoteKey('custodian.example/ledger', Buffer.alloc(32, 3)).signerKey);
    const forged = signCheckpoint({ origin: 'custodian.example/ledger', size: 7, rootHash: root(2) }, stranger);
    expect(() => detectSplitView(checkpointNote(7, 1), forged, [logVerifier])).toThrow();
  });
});
