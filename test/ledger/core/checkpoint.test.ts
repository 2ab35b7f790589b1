/**
 * C2SP tlog-checkpoint text: strict parsing of what the spec requires, round trips of
 * what we emit, and signed checkpoints tying a tree root to a note.
 */
import {
  CheckpointError,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from '../../../ledger/core/checkpoint';
import { InMemoryNodeStore } from '../../../ledger/core/memory-node-store';
import { NoteError, generateNoteKey, parseSignerKey, parseVerifierKey, signNote } from '../../../ledger/core/note';
import { MerkleTree } from '../../../ledger/core/tree';
import { verifyConsistency } from '../../../ledger/core/verify';
import { leafData, loadReferenceTree } from '../../support/ledger';

const reference = loadReferenceTree();
const root8 = Buffer.from(reference.rootsBySize['8'], 'hex');
const root8Base64 = root8.toString('base64');

/** The same bytes in base64 with a padding bit set: lenient decoders accept it. */
function nonCanonical(base64: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const last = base64.length - 2; // 32 bytes: 43 characters then one '='; the last carries 2 spare bits
  const changed = base64.slice(0, last) + alphabet[alphabet.indexOf(base64[last]) ^ 1] + base64.slice(last + 1);
  expect(Buffer.from(changed, 'base64').equals(Buffer.from(base64, 'base64'))).toBe(true);
  return changed;
}

describe('format and parse', () => {
  test('the body is origin, size and base64 root, one per line', () => {
    const text = formatCheckpoint({ origin: 'custodian.example/ledger', size: 8, rootHash: root8 });
    expect(text).toBe(`custodian.example/ledger\n8\n${root8Base64}\n`);
    const parsed = parseCheckpoint(text);
    expect(parsed).toEqual({ origin: 'custodian.example/ledger', size: 8, rootHash: root8, extensions: [] });
  });

  test('extension lines are carried through', () => {
    const text = formatCheckpoint({ origin: 'o', size: 0, rootHash: root8, extensions: ['ext one', 'two'] });
    expect(text.split('\n')).toEqual(['o', '0', root8Base64, 'ext one', 'two', '']);
    expect(parseCheckpoint(text).extensions).toEqual(['ext one', 'two']);
  });

  test('the C2SP example body parses', () => {
    const parsed = parseCheckpoint('example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n');
    expect(parsed.origin).toBe('example.com/behind-the-sofa');
    expect(parsed.size).toBe(20852163);
    expect(parsed.rootHash).toHaveLength(32);
  });

  test('an origin the spec discourages still parses (clients must not assume its format)', () => {
    expect(parseCheckpoint(`my log + more\n1\n${root8Base64}\n`).origin).toBe('my log + more');
  });

  test('sizes up to 2^53 - 1', () => {
    const max = Number.MAX_SAFE_INTEGER;
    expect(parseCheckpoint(formatCheckpoint({ origin: 'o', size: max, rootHash: root8 })).size).toBe(max);
  });

  test.each([
    ['empty', ''],
    ['no final newline', `o\n8\n${root8Base64}`],
    ['only two lines', `o\n8\n`],
    ['an empty origin', `\n8\n${root8Base64}\n`],
    ['an empty extension line', `o\n8\n${root8Base64}\n\n`],
    ['a blank line between extensions', `o\n8\n${root8Base64}\na\n\nb\n`],
    ['a leading zero in the size', `o\n08\n${root8Base64}\n`],
    ['a signed size', `o\n+8\n${root8Base64}\n`],
    ['a negative size', `o\n-1\n${root8Base64}\n`],
    ['a hex size', `o\n0x8\n${root8Base64}\n`],
    ['spaces around the size', `o\n 8\n${root8Base64}\n`],
    ['a size beyond 2^53', `o\n18446744073709551615\n${root8Base64}\n`],
    ['a root that is not base64', `o\n8\nnot base64!\n`],
    ['a root in URL-safe base64', `o\n8\n${root8Base64.replace(/\+/g, '-').replace(/\//g, '_')}\n`],
    ['an unpadded root', `o\n8\n${root8Base64.replace(/=$/, '')}\n`],
    ['a root spelled with non-zero padding bits (same bytes, non-canonical text)', `o\n8\n${nonCanonical(root8Base64)}\n`],
    ['a root of 31 bytes', `o\n8\n${root8.subarray(1).toString('base64')}\n`],
    ['a root of 33 bytes', `o\n8\n${Buffer.concat([root8, Buffer.alloc(1)]).toString('base64')}\n`],
    ['a CRLF line ending', `o\r\n8\n${root8Base64}\n`],
    ['a control character', `o\n8\n${root8Base64}\nx\u0007\n`],
  ])('refuses %s', (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow(CheckpointError);
  });

  test.each([
    ['an origin with a space', { origin: 'a b', size: 1, rootHash: root8 }],
    ['an origin with "+"', { origin: 'a+b', size: 1, rootHash: root8 }],
    ['an empty origin', { origin: '', size: 1, rootHash: root8 }],
    ['a fractional size', { origin: 'o', size: 1.5, rootHash: root8 }],
    ['a negative size', { origin: 'o', size: -1, rootHash: root8 }],
    ['a short root', { origin: 'o', size: 1, rootHash: root8.subarray(1) }],
    ['an empty extension', { origin: 'o', size: 1, rootHash: root8, extensions: [''] }],
    ['a multi-line extension', { origin: 'o', size: 1, rootHash: root8, extensions: ['a\nb'] }],
  ])('will not format %s', (_, checkpoint) => {
    expect(() => formatCheckpoint(checkpoint)).toThrow(CheckpointError);
  });
});

describe('signed checkpoints', () => {
  const origin = 'custodian.example/ledger';
  const key = generateNoteKey(origin);
  const signer = parseSignerKey(key.signerKey);
  const verifier = parseVerifierKey(key.verifierKey);

  test('a log publishes checkpoints that a client verifies and links by consistency proofs', async () => {
    const tree = new MerkleTree(new InMemoryNodeStore());
    await tree.appendLeafData(Array.from({ length: 37 }, (_, i) => leafData(i)));
    const first = signCheckpoint({ origin, size: 37, rootHash: await tree.rootHash() }, signer);
    await tree.appendLeafData(Array.from({ length: 20 }, (_, i) => leafData(37 + i)));
    const second = signCheckpoint({ origin, size: 57, rootHash: await tree.rootHash() }, signer);

    const a = openCheckpoint(first, [verifier], { origin }).checkpoint;
    const b = openCheckpoint(second, [verifier], { origin }).checkpoint;
    expect([a.size, b.size]).toEqual([37, 57]);
    verifyConsistency(a.size, b.size, a.rootHash, b.rootHash, await tree.consistencyProof(a.size, b.size));
  });

  test('a checkpoint for another origin is refused when the origin is pinned', () => {
    const note = signCheckpoint({ origin: 'other.example/log', size: 8, rootHash: root8 }, signer);
    expect(openCheckpoint(note, [verifier]).checkpoint.origin).toBe('other.example/log');
    expect(() => openCheckpoint(note, [verifier], { origin })).toThrow(CheckpointError);
  });

  test('a tampered size or root breaks the signature', () => {
    const note = signCheckpoint({ origin, size: 8, rootHash: root8 }, signer);
    expect(() => openCheckpoint(note.replace('\n8\n', '\n9\n'), [verifier])).toThrow(NoteError);
    const otherRoot = Buffer.from(reference.rootsBySize['7'], 'hex').toString('base64');
    expect(() => openCheckpoint(note.replace(root8Base64, otherRoot), [verifier])).toThrow(NoteError);
  });

  test('a validly signed note whose text is not a checkpoint is refused', () => {
    const note = signNote(`${origin}\n08\n${root8Base64}\n`, signer);
    expect(() => openCheckpoint(note, [verifier])).toThrow(CheckpointError);
  });
});
