/**
 * The versioned leaf format (ledger/FORMAT.md): format-1 leaves written by the code at
 * main before leaves carried a version read exactly as they always did, bytes and hash
 * unchanged; new leaves are format 2; one reader reads both and refuses the rest.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { LEAF_FORMAT, LeafFormatError, encodeLeaf, ledgerEventFromOutbox, readLeaf, redactEvent } from '../../../ledger/core/leaf';
import { FORMAT_1_LEAVES } from '../../support/ledger-leaves';
import { refLeafHash } from '../../support/ledger';

const refusal = (data: string) => {
  try {
    readLeaf(data);
  } catch (err) {
    return err instanceof LeafFormatError ? err.code : err;
  }
  return 'read';
};

describe('format 1: leaves written before the version field', () => {
  test.each(FORMAT_1_LEAVES.map((l) => [JSON.parse(l.text).kind as string, l]))('%s reads as format 1, and rebuilds to the same bytes and hash', (_kind, fixture) => {
    const data = Buffer.from(fixture.leafData, 'base64');
    expect(data.toString('utf8')).toBe(fixture.text);
    expect(refLeafHash(data).toString('base64')).toBe(fixture.leafHash);
    const { format, event } = readLeaf(data);
    expect(format).toBe(1);
    expect(event).toEqual(JSON.parse(fixture.text));
    // Anyone holding the event rebuilds the leaf in its own format.
    const rebuilt = encodeLeaf(event, 1);
    expect(rebuilt.data.equals(data)).toBe(true);
    expect(rebuilt.hash.toString('base64')).toBe(fixture.leafHash);
  });

  test('what an access decision said then is what it says now', () => {
    const decision = FORMAT_1_LEAVES.find((l) => l.text.includes('"kind":"access.decision"'))!;
    expect(readLeaf(decision.text).event).toMatchObject({
      id: 'evt_9c1d4e2f7a0b3c5d6e7f',
      kind: 'access.decision',
      patientId: 'pat_0e6b2d91',
      subject: 'usr_3f8a1c9e',
      decision: 'permit',
      decidedBy: 'base:treating-institution',
      consentVersion: 3,
    });
  });
});

describe('format 2: new leaves carry "v":2', () => {
  const event = ledgerEventFromOutbox({
    id: 'evt_fmt2_0001',
    kind: 'access.decision',
    payload: JSON.stringify({ at: '2026-12-02T10:00:00.000Z', subject: 'usr_1', patientId: 'pat_1', decision: 'deny', note: 'free text' }),
    createdAt: new Date('2026-12-02T10:00:01Z'),
  });

  test('the current format is 2, written as a field of the canonical JSON', () => {
    expect(LEAF_FORMAT).toBe(2);
    const leaf = encodeLeaf(event);
    expect(leaf.text).toBe(canonicalize({ ...event, v: 2 }));
    expect(leaf.text.endsWith(',"v":2}')).toBe(true);
    expect(leaf.hash.equals(refLeafHash(leaf.data))).toBe(true);
  });

  test('reads back as format 2 with the same event, the version not among its fields', () => {
    const { format, event: read } = readLeaf(encodeLeaf(event).data);
    expect(format).toBe(2);
    expect(read).toEqual(event);
    expect(read).not.toHaveProperty('v');
  });

  test('the same event in the two formats is two different leaves', () => {
    expect(encodeLeaf(event, 1).hash.equals(encodeLeaf(event, 2).hash)).toBe(false);
    expect(readLeaf(encodeLeaf(event, 1).data)).toEqual({ format: 1, event });
  });

  test('a payload cannot set the version: `v` is folded into the digest like any unexpected field', () => {
    const forged = redactEvent({ id: 'evt_fmt2_0002', kind: 'k', at: '2026-12-02T10:00:00Z', v: 3 });
    expect(forged).not.toHaveProperty('v');
    expect(forged).toHaveProperty('payloadDigest');
    expect(readLeaf(encodeLeaf(forged).data).format).toBe(2);
  });
});

describe('what is not a leaf', () => {
  const base = { at: '2026-12-02T10:00:00Z', id: 'evt_x', kind: 'k' };

  test('a version newer than this reader is refused as unknown, not as malformed', () => {
    expect(refusal(canonicalize({ ...base, v: 3 })!)).toBe('unknown-format');
  });

  test.each([
    ['"v":1 (format 1 has no version field)', canonicalize({ ...base, v: 1 })!],
    ['a version that is not a number', canonicalize({ ...base, v: '2' })!],
    ['JSON that is not canonical', JSON.stringify({ kind: 'k', id: 'evt_x', at: base.at })],
    ['no id', canonicalize({ at: base.at, kind: 'k' })!],
    ['a nested object', canonicalize({ ...base, category: { a: 1 } })!],
    ['not JSON', 'glucose 7.2'],
    ['a JSON list', '[1,2]'],
  ])('%s is malformed', (_what, data) => {
    expect(refusal(data)).toBe('malformed');
  });

  test('bytes that are not UTF-8 are malformed', () => {
    expect(() => readLeaf(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(LeafFormatError);
  });
});

test('the portal reads up to the same format as the server (web/public/js/ledger.js)', () => {
  const portal = readFileSync(path.resolve(__dirname, '../../../web/public/js/ledger.js'), 'utf8');
  expect(Number(/export const LEAF_FORMAT = (\d+);/.exec(portal)?.[1])).toBe(LEAF_FORMAT);
});
