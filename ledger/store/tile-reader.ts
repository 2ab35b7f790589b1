/**
 * C2SP tlog-tiles read from the ledger database (the paths and formats are
 * ledger/core/tiles.ts): a hash tile is one range read of stored perfect nodes (level 8L,
 * indices N·256 … N·256+W-1), an entry bundle one range read of leaf rows. Nothing is
 * hashed here: every tile hash is a node the worker stored when it appended.
 *
 * Full hash tiles never change (perfect nodes are immutable), so they are kept in a
 * bounded in-memory LRU and served again without touching the database: they are the
 * public, high-volume resource (witnesses, monitors, mirrors). Partial tiles are read
 * each time; only the right edge has them. Entry bundles are read each time too: they go
 * to the compliance role only, and an auditor must see the leaves as stored now — a
 * cached copy would hide an edit of the database from the very check meant to find it.
 *
 * Existence is decided against the committed tree size (ledger_state), which moves in
 * the same transaction as the nodes and leaves it covers, so a tile this says exists is
 * complete. Leaf bytes are served as stored, without checking them against their
 * stored hash: a bundle is evidence, and a verifier that recomputes the hashes must see
 * an edited leaf, not a refusal that would read as "could not verify".
 */
import type { DataSource } from 'typeorm';
import { HASH_SIZE } from '../core/hashing';
import { decodeBase64Strict } from '../core/encoding';
import { TILE_HEIGHT, TILE_WIDTH, encodeEntryBundle, isFull, tileExists, tilePath, type TileRef } from '../core/tiles';
import { readSize } from './db-node-store';
import { LedgerLeaf } from './entities';
import { exclusive } from './database';

/** The store disagrees with its own size: rows missing or malformed. Never the caller's fault. */
export class TileStoreError extends Error {
  override readonly name = 'TileStoreError';
}

export interface TileReaderOptions {
  /** Bytes of full hash tiles kept in memory (default 64 MiB, 8,192 tiles; 0 turns caching off). */
  cacheBytes?: number;
}

/** A least-recently-used map bounded by the total bytes of its values. */
class ByteLru {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;
  constructor(private readonly limit: number) {}

  get(key: string): Buffer | undefined {
    const value = this.entries.get(key);
    if (value) {
      // Re-insert: a Map iterates in insertion order, so the first key is the least recent.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.limit || this.entries.has(key)) return;
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [oldest, old] of this.entries) {
      if (this.bytes <= this.limit) break;
      this.entries.delete(oldest);
      this.bytes -= old.length;
    }
  }
}

export class TileReader {
  private readonly cache: ByteLru;
  /** Database reads made (cache misses), for tests and the benchmark. */
  reads = 0;

  constructor(
    private readonly db: DataSource,
    options: TileReaderOptions = {},
  ) {
    this.cache = new ByteLru(options.cacheBytes ?? 64 * 1024 * 1024);
  }

  /** The tile's bytes, or null when the tree does not (yet) have it. */
  async read(tile: TileRef): Promise<Buffer | null> {
    const key = tilePath(tile);
    const cacheable = isFull(tile) && tile.level !== 'entries';
    const cached = cacheable ? this.cache.get(key) : undefined;
    if (cached) return cached;
    const bytes = await exclusive(this.db, async () => {
      if (!tileExists(tile, await readSize(this.db.manager))) return null;
      this.reads++;
      return tile.level === 'entries' ? this.bundle(tile.index, tile.width) : this.hashes(tile.level, tile.index, tile.width);
    });
    if (bytes && cacheable) this.cache.set(key, bytes);
    return bytes;
  }

  private async hashes(level: number, index: number, width: number): Promise<Buffer> {
    const first = index * TILE_WIDTH;
    // Plain SQL on the primary key (level, idx): the query builder's per-row mapping cost
    // more than the read itself (measured by bench/ledger/tiles.ts).
    const placeholders = this.db.options.type === 'postgres' ? ['$1', '$2', '$3'] : ['?', '?', '?'];
    const rows: { idx: number | string; hash: string }[] = await this.db.query(
      `SELECT idx, hash FROM ledger_node WHERE level = ${placeholders[0]} AND idx >= ${placeholders[1]} AND idx < ${placeholders[2]} ORDER BY idx`,
      [TILE_HEIGHT * level, first, first + width],
    );
    const out = Buffer.allocUnsafe(width * HASH_SIZE);
    if (rows.length !== width) throw new TileStoreError(`tile ${level}/${index}: ${rows.length} of ${width} nodes stored`);
    rows.forEach((row, i) => {
      const hash = decodeBase64Strict(row.hash);
      if (Number(row.idx) !== first + i || !hash || hash.length !== HASH_SIZE) throw new TileStoreError(`node ${TILE_HEIGHT * level}:${first + i} is missing or malformed`);
      hash.copy(out, i * HASH_SIZE);
    });
    return out;
  }

  private async bundle(index: number, width: number): Promise<Buffer> {
    const first = index * TILE_WIDTH;
    const rows: { leaf_index: number | string; leaf_data: string }[] = await this.db.manager
      .createQueryBuilder(LedgerLeaf, 'l')
      .select('l.leafIndex', 'leaf_index')
      .addSelect('l.leafData', 'leaf_data')
      .where('l.leafIndex >= :first AND l.leafIndex < :end', { first, end: first + width })
      .orderBy('l.leafIndex', 'ASC')
      .getRawMany();
    if (rows.length !== width) throw new TileStoreError(`entry bundle ${index}: ${rows.length} of ${width} leaves stored`);
    const entries = rows.map((row, i) => {
      if (Number(row.leaf_index) !== first + i) throw new TileStoreError(`leaf ${first + i} is missing`);
      return Buffer.from(row.leaf_data, 'utf8');
    });
    return encodeEntryBundle(entries);
  }
}
