/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles), the pure part: tile paths, which tiles a
 * tree of a given size has, entry bundles, and rebuilding roots and perfect nodes from
 * tile hashes. No I/O: the gateway (gateway/tile-routes.ts) serves tiles read from the
 * node store (ledger/store/tile-reader.ts), and `custodian verify` reads them back.
 *
 * Height is 8: a tile holds up to 256 hashes. The hash at position i of tile N at level
 * L is MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L]), i.e. exactly the stored
 * perfect node (level 8L, index N·256 + i) of ledger/core/node-store.ts — serving a tile
 * is a range read, never a recomputation.
 */
import { HASH_SIZE, nodeHash } from './hashing';
import { isSafeCount } from './encoding';
import type { NodeKey } from './node-store';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;
/** Tile levels are 0..63 per the spec. */
export const MAX_TILE_LEVEL = 63;
/** An entry's length is a big-endian uint16 in a bundle. */
export const MAX_ENTRY_SIZE = 0xffff;

/** A hash tile (level 0..63) or an entry bundle (level 'entries'); width 256 is full. */
export interface TileRef {
  readonly level: number | 'entries';
  readonly index: number;
  readonly width: number;
}

export const isFull = (tile: TileRef): boolean => tile.width === TILE_WIDTH;

/** Index N as the spec's path: 3-digit groups, every group but the last prefixed with `x`. */
export function encodeTileIndex(index: number): string {
  if (!isSafeCount(index)) throw new RangeError(`tile index ${index} is not a non-negative safe integer`);
  const groups: string[] = [];
  let rest = index;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, relative to the log's prefix. */
export function tilePath(tile: TileRef): string {
  const level = tile.level === 'entries' ? 'entries' : String(tile.level);
  return `tile/${level}/${encodeTileIndex(tile.index)}${isFull(tile) ? '' : `.p/${tile.width}`}`;
}

const LEVEL = /^(0|[1-9]\d?)$/;
const WIDTH = /^[1-9]\d{0,2}$/;
const INNER_GROUP = /^x\d{3}$/;
const LAST_GROUP = /^\d{3}$/;

/**
 * Parses the part of a path after `tile/`, e.g. `0/x001/x234/067.p/12` or `entries/005`.
 * Null for anything that is not exactly the spec's spelling (leading zeros on L or W,
 * a missing `x`, groups of other widths, W outside 1..255), so that one tile has one URL.
 */
export function parseTilePath(rest: string): TileRef | null {
  const parts = rest.split('/');
  const levelText = parts.shift();
  if (levelText === undefined) return null;
  let level: number | 'entries';
  if (levelText === 'entries') level = 'entries';
  else if (LEVEL.test(levelText) && Number(levelText) <= MAX_TILE_LEVEL) level = Number(levelText);
  else return null;

  let width = TILE_WIDTH;
  // A partial tile ends `<last group>.p/<W>`: the `.p` rides on the last index group.
  const last = parts[parts.length - 1];
  const beforeLast = parts[parts.length - 2];
  if (parts.length >= 2 && beforeLast !== undefined && beforeLast.endsWith('.p') && last !== undefined && WIDTH.test(last)) {
    width = Number(last);
    if (width >= TILE_WIDTH) return null;
    parts.pop();
    parts[parts.length - 1] = beforeLast.slice(0, -2);
  }
  if (parts.length === 0 || parts.length > 6) return null;
  let index = 0;
  for (let i = 0; i < parts.length; i++) {
    const group = parts[i]!;
    const inner = i < parts.length - 1;
    if (!(inner ? INNER_GROUP : LAST_GROUP).test(group)) return null;
    index = index * 1000 + Number(inner ? group.slice(1) : group);
  }
  // One spelling per index: no leading all-zero groups (x000/001 is 001).
  if (parts.length > 1 && parts[0] === 'x000') return null;
  if (!Number.isSafeInteger(index)) return null;
  return { level, index, width };
}

/** How many hashes of tile level `level` a tree of `size` leaves has: floor(size / 256^level). */
export function hashesAtLevel(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * Whether the tree of `size` leaves has this tile (full, or partial of exactly-or-more
 * than this width); entry bundles are level 0. A partial tile of width W exists once
 * the tree has N·256 + W hashes at that level: tiles are immutable prefixes.
 */
export function tileExists(tile: TileRef, size: number): boolean {
  const available = hashesAtLevel(tile.level === 'entries' ? 0 : tile.level, size);
  return tile.width >= 1 && tile.width <= TILE_WIDTH && tile.index * TILE_WIDTH + tile.width <= available;
}

/**
 * The tiles of one level that hold hashes [from, to) of that level in a tree of `size`:
 * full tiles as full, the last one partial at its width in this tree. Nothing when the
 * range is empty.
 */
export function tilesCovering(level: number | 'entries', from: number, to: number, size: number): TileRef[] {
  const available = hashesAtLevel(level === 'entries' ? 0 : level, size);
  const end = Math.min(to, available);
  const tiles: TileRef[] = [];
  for (let index = Math.floor(from / TILE_WIDTH); index * TILE_WIDTH < end; index++) {
    tiles.push({ level, index, width: Math.min(TILE_WIDTH, available - index * TILE_WIDTH) });
  }
  return tiles;
}

/** The stored node holding position `position` of a tile: level 8L, index N·256 + position. */
export function tileNode(level: number, index: number, position: number): NodeKey {
  return { level: TILE_HEIGHT * level, index: index * TILE_WIDTH + position };
}

/** An entry bundle: each entry a big-endian uint16 length, then its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) throw new RangeError(`an entry of ${e.length} bytes does not fit a bundle (at most ${MAX_ENTRY_SIZE})`);
    total += 2 + e.length;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const e of entries) {
    out.writeUInt16BE(e.length, at);
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** The entries of a bundle, as views into it; throws BundleError unless it holds exactly `width` well-formed entries. */
export function parseEntryBundle(bundle: Buffer, width: number): Buffer[] {
  const entries: Buffer[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) throw new BundleError(`bundle ends inside the length of entry ${entries.length}`);
    const length = bundle.readUInt16BE(at);
    if (at + 2 + length > bundle.length) throw new BundleError(`entry ${entries.length} says ${length} bytes, the bundle ends before`);
    entries.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (entries.length !== width) throw new BundleError(`bundle holds ${entries.length} entries, not ${width}`);
  return entries;
}

/** Splits a hash tile into its 32-byte hashes; throws BundleError unless it is exactly `width` hashes. */
export function parseHashTile(tile: Buffer, width: number): Buffer[] {
  if (tile.length !== width * HASH_SIZE) throw new BundleError(`hash tile is ${tile.length} bytes, not ${width} hashes of ${HASH_SIZE}`);
  const hashes: Buffer[] = [];
  for (let at = 0; at < tile.length; at += HASH_SIZE) hashes.push(tile.subarray(at, at + HASH_SIZE));
  return hashes;
}

/**
 * MTH of 2^k consecutive hashes at positions [first, first + 2^k) of `hashes`, which
 * must be aligned (first a multiple of 2^k): hashing k levels up, as a tile's hashes
 * are the leaves of a height-8 subtree.
 */
export function perfectHash(hashes: readonly Buffer[], first: number, k: number): Buffer {
  let level = hashes.slice(first, first + 2 ** k);
  if (level.length !== 2 ** k) throw new RangeError(`need ${2 ** k} hashes from ${first}, have ${level.length}`);
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}

/**
 * The root of a growing tree, one leaf hash at a time, in O(log n) memory: a stack of
 * the perfect subtrees so far (RFC 6962's right edge; transparency-dev's compact range
 * from 0). Each push merges equal-height neighbours, so n pushes cost n - 1 node hashes.
 * It can start from the perfect subtrees of an older tree (`frontier`, left to right,
 * as perfectSubtrees(0, size) lists them), which is how an incremental verification
 * extends a tree it has checked before without its leaves.
 */
export class RootBuilder {
  private readonly stack: { level: number; hash: Buffer }[] = [];
  private count: number;

  constructor(frontier: readonly { level: number; hash: Buffer }[] = []) {
    this.count = 0;
    for (const node of frontier) {
      const top = this.stack[this.stack.length - 1];
      if (top && top.level <= node.level) throw new RangeError('a frontier goes from the highest subtree down');
      this.stack.push({ level: node.level, hash: node.hash });
      this.count += 2 ** node.level;
    }
  }

  get size(): number {
    return this.count;
  }

  push(leafHashValue: Buffer): void {
    let node = { level: 0, hash: leafHashValue };
    let top = this.stack[this.stack.length - 1];
    while (top && top.level === node.level) {
      this.stack.pop();
      node = { level: node.level + 1, hash: nodeHash(top.hash, node.hash) };
      top = this.stack[this.stack.length - 1];
    }
    this.stack.push(node);
    this.count++;
  }

  /** MTH of everything pushed (and the frontier): the right edge folded right to left. */
  root(): Buffer {
    if (this.stack.length === 0) throw new RangeError('no root for an empty tree here: use emptyRoot()');
    let hash = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) hash = nodeHash(this.stack[i]!.hash, hash);
    return hash;
  }
}
