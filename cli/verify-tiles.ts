/**
 * The log scan of `custodian verify`, from C2SP tiles (ledger/core/tiles.ts): every entry
 * bundle from the start (or from a saved checkpoint's size) to the signed size, each
 * leaf hash recomputed from its bytes and folded into the root (RootBuilder: n - 1 node
 * hashes, O(log n) memory), and compared with the signed root. Time is proportional to
 * the data read; requests are 2 per 256 leaves, a few in flight.
 *
 * The level-0 hash tiles of the same range are read beside the bundles, because when
 * the roots differ they say *where*: the first index whose bytes do not hash to the
 * tile's hash. If the tiles fold to the signed root, the signed checkpoint commits to
 * the tile's hash there and the entry was altered — shown with an inclusion proof of
 * that hash, verified against the signed root. If instead the entries fold to the
 * signed root, the served tiles are what is wrong.
 *
 * From a saved checkpoint of size m, the old tree's perfect subtrees (its "frontier")
 * come from at most one hash tile per tile level, and must fold to the saved root; the
 * scan then continues from m. The old entries are not read again.
 */
import { isSafeCount } from '../ledger/core/encoding';
import { leafHash } from '../ledger/core/hashing';
import { LeafFormatError, readLeaf, type LeafFormat } from '../ledger/core/leaf';
import { perfectSubtrees } from '../ledger/core/subtrees';
import { BundleError, RootBuilder, TILE_HEIGHT, TILE_WIDTH, hashesAtLevel, parseEntryBundle, parseHashTile, perfectHash, tilesCovering } from '../ledger/core/tiles';
import { verifyInclusion, ProofError } from '../ledger/core/verify';
import { decodeBase64Strict } from '../ledger/core/encoding';
import { CouldNotVerify, type LedgerClient } from './ledger-client';

export interface Findings {
  problems: string[];
  unverified: string[];
  notes: string[];
}

export interface ScanInput {
  client: LedgerClient;
  /** The signed checkpoint to verify. */
  size: number;
  root: Buffer;
  /** A checkpoint verified before (its signature checked, consistency proved): scan from its size. */
  from?: { size: number; root: Buffer };
  /** Sizes above `from` at which the root is wanted (key-rotation announcements). */
  rootsAt?: readonly number[];
  /** Tile pairs (bundle and hash tile) in flight at once. */
  concurrency?: number;
}

export interface ScanResult {
  /** Leaves read and hashed. */
  leaves: number;
  seconds: number;
  /** The root at each size of `rootsAt` that the scan passed. */
  roots: Map<number, Buffer>;
}

/** Lists that could hold one line per leaf keep the first few and count the rest. */
const MAX_LINES = 5;

function parsed<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof BundleError) throw new CouldNotVerify(`the server sent a malformed ${what}: ${err.message}`);
    throw err;
  }
}

const b64 = (h: Buffer) => h.toString('base64');

/** The perfect subtrees of the tree of size m, highest first, from hash tiles of the tree of size n ≥ m. */
async function frontierFromTiles(client: LedgerClient, m: number, n: number): Promise<{ level: number; hash: Buffer }[]> {
  const tiles = new Map<string, Buffer[]>();
  const frontier: { level: number; hash: Buffer }[] = [];
  for (const { level, index } of perfectSubtrees(0, m)) {
    // A node of level k is 2^(k mod 8) consecutive hashes of one tile at level floor(k/8).
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const up = level % TILE_HEIGHT;
    const position = index * 2 ** up;
    const tileIndex = Math.floor(position / TILE_WIDTH);
    const width = Math.min(TILE_WIDTH, hashesAtLevel(tileLevel, n) - tileIndex * TILE_WIDTH);
    const key = `${tileLevel}/${tileIndex}`;
    let hashes = tiles.get(key);
    if (!hashes) {
      const bytes = await client.tile({ level: tileLevel, index: tileIndex, width });
      hashes = parsed(`hash tile ${key}`, () => parseHashTile(bytes, width));
      tiles.set(key, hashes);
    }
    frontier.push({ level, hash: perfectHash(hashes, position - tileIndex * TILE_WIDTH, up) });
  }
  return frontier;
}

/** Fetches `count` items with at most `window` in flight, handing them over in order. */
async function* inOrder<T>(count: number, window: number, fetchOne: (k: number) => Promise<T>): AsyncGenerator<T> {
  const pending: Promise<T>[] = [];
  let next = 0;
  const topUp = () => {
    while (next < count && pending.length < window) {
      const p = fetchOne(next++);
      p.catch(() => undefined); // awaited in order below; this only keeps it from being "unhandled" meanwhile
      pending.push(p);
    }
  };
  topUp();
  while (pending.length > 0) {
    const value = await pending.shift()!;
    topUp();
    yield value;
  }
}

interface Mismatch {
  index: number;
  tile: string;
  /** The hash tile's hash at index. */
  tileHash: Buffer;
  /** The hash of the entry's bytes. */
  entryHash: Buffer;
}

export async function scanLog(input: ScanInput, found: Findings): Promise<ScanResult> {
  const { client, size: n, root } = input;
  const started = performance.now();
  const roots = new Map<number, Buffer>();
  if (!isSafeCount(n)) throw new CouldNotVerify(`checkpoint size ${n} is not a count`);
  const m = input.from?.size ?? 0;
  if (n === 0 || m >= n) return { leaves: 0, seconds: 0, roots };

  const frontier = m > 0 ? await frontierFromTiles(client, m, n) : [];
  const fromEntries = new RootBuilder(frontier);
  const fromTiles = new RootBuilder(frontier);
  if (m > 0 && !fromEntries.root().equals(input.from!.root)) {
    found.problems.push(`the served hash tiles of the first ${m} leaves do not fold to the root of the saved checkpoint of size ${m}: the tree under it was changed`);
    return { leaves: 0, seconds: (performance.now() - started) / 1000, roots };
  }

  const rootsAt = new Set(input.rootsAt ?? []);
  const bundles = tilesCovering('entries', m, n, n);
  let mismatch: Mismatch | null = null;
  const formats = new Map<LeafFormat, number>();
  const notLeaves: string[] = [];
  const newer: string[] = [];
  let leaves = 0;

  const pairs = inOrder(bundles.length, input.concurrency ?? 8, async (k) => {
    const bundle = bundles[k]!;
    const tile = { level: 0, index: bundle.index, width: bundle.width };
    const [entryBytes, tileBytes] = await Promise.all([client.tile(bundle), client.tile(tile)]);
    return {
      first: bundle.index * TILE_WIDTH,
      entries: parsed(`entry bundle ${bundle.index}`, () => parseEntryBundle(entryBytes, bundle.width)),
      hashes: parsed(`hash tile 0/${bundle.index}`, () => parseHashTile(tileBytes, bundle.width)),
    };
  });
  for await (const { first, entries, hashes } of pairs) {
    // The first bundle from a saved size starts before it: those leaves are in the frontier.
    for (let i = Math.max(0, m - first); i < entries.length; i++) {
      const index = first + i;
      const data = entries[i]!;
      const entryHash = leafHash(data);
      const tileHash = hashes[i]!;
      if (!mismatch && !entryHash.equals(tileHash)) mismatch = { index, tile: `0/${first / TILE_WIDTH}`, tileHash, entryHash };
      fromEntries.push(entryHash);
      fromTiles.push(tileHash);
      leaves++;
      if (rootsAt.has(fromEntries.size)) roots.set(fromEntries.size, fromEntries.root());
      try {
        const format = readLeaf(data).format;
        formats.set(format, (formats.get(format) ?? 0) + 1);
      } catch (err) {
        if (!(err instanceof LeafFormatError)) throw err;
        if (err.code === 'unknown-format') newer.push(`entry ${index}: ${err.message}; its hash is checked, its content is not read`);
        else notLeaves.push(`entry ${index}: its data is not a ledger leaf (${err.message})`);
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;

  const more = (list: string[], what: string) => (list.length > MAX_LINES ? [...list.slice(0, MAX_LINES), `… and ${list.length - MAX_LINES} more ${what}`] : list);
  found.problems.push(...more(notLeaves, 'entries that are not ledger leaves'));
  found.unverified.push(...more(newer, 'entries of a newer format'));
  if (formats.size > 0) found.notes.push(`leaves read: ${[...formats].sort(([a], [b]) => a - b).map(([f, c]) => `${c} of format ${f}`).join(', ')}`);

  const entriesRoot = fromEntries.root();
  const tilesRoot = fromTiles.root();
  const span = m > 0 ? `the ${leaves} new entries (${m}..${n - 1}) on the saved tree` : `all ${n} entries`;
  if (entriesRoot.equals(root)) {
    found.notes.push(`root recomputed from ${span} matches the signed checkpoint`);
    if (mismatch) {
      found.problems.push(
        `hash tile ${mismatch.tile} is wrong at index ${mismatch.index}: it says ${b64(mismatch.tileHash)}, the entry hashes to ${b64(mismatch.entryHash)}, ` +
          `and the entries, not the tiles, fold to the signed root`,
      );
    }
  } else if (mismatch && tilesRoot.equals(root)) {
    found.problems.push(await alteredEntry(client, mismatch, n, root));
  } else {
    found.problems.push(
      `the root recomputed from ${span} differs from the signed root (entries edited, removed or reordered), and the served hash tiles do not fold to it either` +
        (mismatch ? `; the first index where entries and tiles disagree is ${mismatch.index} (tile ${b64(mismatch.tileHash)}, entry ${b64(mismatch.entryHash)})` : ''),
    );
  }
  return { leaves, seconds, roots };
}

/** The tampered-entry finding: the index, expected vs got, and the inclusion proof that the signed root commits to the expected hash. */
async function alteredEntry(client: LedgerClient, mismatch: Mismatch, n: number, root: Buffer): Promise<string> {
  const head =
    `entry ${mismatch.index} was altered: its bytes hash to ${b64(mismatch.entryHash)}, but the signed checkpoint of size ${n} commits to ${b64(mismatch.tileHash)} there ` +
    `(the root recomputed from the entries differs from the signed root; the hash tiles fold to it)`;
  try {
    const proof = await client.json<{ hashes: string[] }>(`/ledger/proof/inclusion?index=${mismatch.index}&treeSize=${n}`);
    const hashes = proof.hashes.map((h) => decodeBase64Strict(h) ?? Buffer.alloc(0));
    verifyInclusion(mismatch.index, n, mismatch.tileHash, hashes, root);
    return `${head}. Proof: the inclusion proof of ${b64(mismatch.tileHash)} at index ${mismatch.index} in the tree of size ${n}, [${proof.hashes.join(', ')}], verifies against the signed root ${b64(root)}`;
  } catch (err) {
    if (err instanceof CouldNotVerify || err instanceof ProofError) return `${head} (no inclusion proof to show: ${(err as Error).message})`;
    throw err;
  }
}
