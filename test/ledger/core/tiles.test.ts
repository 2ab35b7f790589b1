/**
 * C2SP tlog-tiles, the pure part: the spec's own examples for path encoding and for
 * which tiles a tree has, entry bundles, and roots rebuilt from tiles checked against the
 * independent RFC reference (test/support/ledger.ts) and the CT reference tree vectors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BundleError,
  RootBuilder,
  encodeEntryBundle,
  encodeTileIndex,
  parseEntryBundle,
  parseHashTile,
  parseTilePath,
  perfectHash,
  tileExists,
  tilePath,
  tilesCovering,
} from '../../../ledger/core/tiles';
import { perfectSubtrees } from '../../../ledger/core/subtrees';
import { ReferenceTree, TESTDATA_DIR, leafData, refLeafHash } from '../../support/ledger';

describe('tile paths', () => {
  test('N in 3-digit groups, all but the last prefixed with x (the spec: 1234067 is x001/x234/067)', () => {
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(999)).toBe('999');
    expect(encodeTileIndex(1000)).toBe('x001/000');
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ level: 2, index: 5, width: 17 })).toBe('tile/2/005.p/17');
    expect(tilePath({ level: 'entries', index: 1000, width: 3 })).toBe('tile/entries/x001/000.p/3');
  });

  test('parsing gives back exactly what was encoded', () => {
    for (const index of [0, 7, 999, 1000, 1234067, 2 ** 40 + 3]) {
      for (const width of [1, 112, 255, 256]) {
        for (const level of [0, 1, 63, 'entries'] as const) {
          const tile = { level, index, width };
          expect(parseTilePath(tilePath(tile).slice('tile/'.length))).toEqual(tile);
        }
      }
    }
  });

  test.each([
    '', '0', '0/', '0/1', '0/01', '0/0001', '00/000', '01/000', '64/000', '-1/000', 'entry/000', '0/001/002', '0/x001', '0/x000/001',
    '0/x1/001', '0/001.p/0', '0/001.p/256', '0/001.p/012', '0/001.p/', '0/001.p', '0/001.q/5', '0/001/.p/5', '0/x001/.p/5', '0/0x1', '0/00a',
    '0/001/', 'entries/', 'entries/1', 'entries/001.p/300', '0/x001/x002/x003/x004/x005/x006/007',
  ])('refuses %j', (rest) => {
    expect(parseTilePath(rest)).toBeNull();
  });

  test('the spec: a tree of 70,000 has 273 full level-0 tiles and one of width 112, one full and one of 17 at level 1, one of 1 at level 2', () => {
    const at = (level: number) => tilesCovering(level, 0, Infinity, 70_000);
    expect(at(0).filter((t) => t.width === 256)).toHaveLength(273);
    expect(at(0).filter((t) => t.width < 256)).toEqual([{ level: 0, index: 273, width: 112 }]);
    expect(at(1)).toEqual([{ level: 1, index: 0, width: 256 }, { level: 1, index: 1, width: 17 }]);
    expect(at(2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(at(3)).toEqual([]);
    // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"
    expect(tilesCovering(0, 0, Infinity, 256)).toEqual([{ level: 0, index: 0, width: 256 }]);
    expect(tilesCovering(1, 0, Infinity, 256)).toEqual([{ level: 1, index: 0, width: 1 }]);
    expect(tileExists({ level: 0, index: 273, width: 112 }, 70_000)).toBe(true);
    expect(tileExists({ level: 0, index: 273, width: 113 }, 70_000)).toBe(false);
    expect(tileExists({ level: 0, index: 273, width: 256 }, 70_000)).toBe(false);
    expect(tileExists({ level: 'entries', index: 274, width: 1 }, 70_000)).toBe(false);
    expect(tileExists({ level: 2, index: 0, width: 1 }, 70_000)).toBe(true);
  });
});

describe('entry bundles', () => {
  test('big-endian uint16 lengths, then the bytes; read back exactly', () => {
    const entries = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(300, 7)];
    const bundle = encodeEntryBundle(entries);
    expect(bundle.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 1, 0x61]));
    expect(bundle.readUInt16BE(5)).toBe(300);
    expect(parseEntryBundle(bundle, 3)).toEqual(entries);
  });

  test('refuses a truncated bundle, a length running past the end, and the wrong number of entries', () => {
    const bundle = encodeEntryBundle([Buffer.from('abc'), Buffer.from('de')]);
    expect(() => parseEntryBundle(bundle.subarray(0, bundle.length - 1), 2)).toThrow(BundleError);
    expect(() => parseEntryBundle(bundle.subarray(0, 6), 2)).toThrow(BundleError);
    expect(() => parseEntryBundle(bundle, 3)).toThrow(/2 entries, not 3/);
    expect(() => parseEntryBundle(Buffer.concat([bundle, Buffer.from([0])]), 2)).toThrow(BundleError);
    expect(() => encodeEntryBundle([Buffer.alloc(65536)])).toThrow(RangeError);
    expect(() => parseHashTile(Buffer.alloc(33), 1)).toThrow(BundleError);
  });
});

describe('roots from tiles', () => {
  const vectors = JSON.parse(readFileSync(path.join(TESTDATA_DIR, 'rfc6962/reference-tree.json'), 'utf8')) as {
    leafInputs: string[];
    leafHashes: string[];
    rootsBySize: Record<string, string>;
  };

  test('the CT reference tree: a level-0 partial tile of its 8 leaf hashes gives every root 1..8', () => {
    const tile = Buffer.concat(vectors.leafInputs.map((hex) => refLeafHash(Buffer.from(hex, 'hex'))));
    const hashes = parseHashTile(tile, 8);
    expect(hashes.map((h) => h.toString('hex'))).toEqual(vectors.leafHashes);
    const builder = new RootBuilder();
    hashes.forEach((h, i) => {
      builder.push(h);
      expect([i + 1, builder.root().toString('hex')]).toEqual([i + 1, vectors.rootsBySize[String(i + 1)]]);
    });
    expect(perfectHash(hashes, 0, 3).toString('hex')).toBe(vectors.rootsBySize['8']);
  });

  test('RootBuilder agrees with the RFC reference at every size, and continues from a frontier', () => {
    const leaves = Array.from({ length: 600 }, (_, i) => refLeafHash(leafData(i, 3)));
    const reference = new ReferenceTree(leaves);
    const builder = new RootBuilder();
    for (let n = 1; n <= leaves.length; n++) {
      builder.push(leaves[n - 1]!);
      expect(builder.root().equals(reference.mth(0, n))).toBe(true);
    }
    for (const m of [1, 2, 3, 255, 256, 257, 300, 511, 512, 599]) {
      const frontier = perfectSubtrees(0, m).map(({ level, index }) => ({ level, hash: reference.mth(index * 2 ** level, (index + 1) * 2 ** level) }));
      const resumed = new RootBuilder(frontier);
      expect(resumed.size).toBe(m);
      for (let i = m; i < 600; i++) resumed.push(leaves[i]!);
      expect([m, resumed.root().equals(reference.mth(0, 600))]).toEqual([m, true]);
    }
  });

  test('a level-1 tile hash is the MTH of a full level-0 tile', () => {
    const leaves = Array.from({ length: 512 }, (_, i) => refLeafHash(leafData(i)));
    const reference = new ReferenceTree(leaves);
    expect(perfectHash(leaves, 256, 8).equals(reference.mth(256, 512))).toBe(true);
    expect(perfectHash(leaves, 64, 6).equals(reference.mth(64, 128))).toBe(true);
  });
});
