/**
 * C2SP tiles at 1,000,000 leaves (`BENCH_ONLY=tiles` runs this alone).
 *
 * The ledger is proofs.ts's cached 1,000,000-leaf tree; its leaf rows (which the proofs
 * never needed) are added once, the canonical JSON of the same events, and kept in the
 * cache. The gateway's /ledger router is mounted alone on loopback (client and server
 * share this process, so every rate here is the pair's), with a compliance officer's API
 * token in a scratch identity database for the entry bundles.
 *
 *  1. Tile serving: random full level-0 hash tiles, first from the database (each tile
 *     once) and then again from the gateway's memory, 8 in flight for the rate and one at
 *     a time for latency.
 *  2. Full verification from tiles: `custodian verify`'s verifyLedger over every bundle
 *     and level-0 tile of the log as of a signed checkpoint (by default of the first
 *     250,000 leaves, to keep the section short; BENCH_TILES_VERIFY_LEAVES), in leaves/s.
 *  3. The old path on a slice of the same log: GET /ledger/entries/I one after another,
 *     each decoded, hashed and read as the verifier did before tiles, in leaves/s.
 *  4. Incremental verification of the last 10,000 leaves: from a checkpoint of size
 *     990,000 signed here with the log's key over the tree's own root at that size.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import type { DataSource } from 'typeorm';
import { createLogger } from '../../common/logger';
import { readEnv } from '../../common/config';
import { verifyLedger } from '../../cli/verify';
import { ledgerRoutes } from '../../gateway/ledger-routes';
import { createApiToken } from '../../gateway/identity/api-tokens';
import { openIdentityDatabase } from '../../gateway/identity/database';
import { createUser } from '../../gateway/identity/users';
import { signCheckpoint } from '../../ledger/core/checkpoint';
import { decodeBase64Strict } from '../../ledger/core/encoding';
import { leafHash } from '../../ledger/core/hashing';
import { readLeaf } from '../../ledger/core/leaf';
import { MerkleTree } from '../../ledger/core/tree';
import { tilePath } from '../../ledger/core/tiles';
import { exclusive } from '../../ledger/store/database';
import { DbNodeStore } from '../../ledger/store/db-node-store';
import { LedgerLeaf } from '../../ledger/store/entities';
import { TileReader } from '../../ledger/store/tile-reader';
import { ORIGIN, benchNoteKey, summarize, type Summary } from './common';
import { benchLeafHash, benchLeafText, buildOrReuse } from './proofs';

const TILE_REQUESTS = Number(process.env.BENCH_TILES_REQUESTS ?? 1_000);
const CONCURRENCY = 8;
const OLD_PATH_SLICE = Number(process.env.BENCH_TILES_OLD_SLICE ?? 2_000);
/**
 * Leaves verified from tiles: a prefix of the log, as of a checkpoint of that size signed
 * here over the tree's own root, so the section stays within its time (verifying is
 * linear: the rate is the figure). BENCH_TILES_VERIFY_LEAVES=1000000 verifies the whole log.
 */
const VERIFY_LEAVES = Number(process.env.BENCH_TILES_VERIFY_LEAVES ?? 250_000);
const INCREMENTAL = 10_000;

export interface TileServing {
  tiles: number;
  tilesPerSecond: number;
  /** One request at a time. */
  latencyMs: Summary;
  databaseReads: number;
}

export interface TilesBenchResult {
  leaves: number;
  store: string;
  leafRowsSeconds: number | null;
  serving: { fromDatabase: TileServing; fromMemory: TileServing };
  fullVerify: { leaves: number; seconds: number; leavesPerSecond: number; requests: number; megabytes: number; ok: boolean };
  oldPath: { entries: number; seconds: number; leavesPerSecond: number };
  /** Tiles over entries one by one, in leaves/s. */
  tilesOverOldPath: number;
  incremental: { newLeaves: number; seconds: number; leavesPerSecond: number; requests: number; tilesFetched: number; ok: boolean };
}

/** The leaf rows of the cached tree, written once (SQLite: one prepared statement in one transaction). */
async function ensureLeafRows(db: DataSource, leaves: number): Promise<number | null> {
  const have = await exclusive(db, () => db.getRepository(LedgerLeaf).count());
  if (have === leaves) return null;
  process.stdout.write(`tiles: writing ${leaves} leaf rows into the cached ledger (once)... `);
  const started = performance.now();
  const appendedAt = new Date(Date.UTC(2026, 0, 1)).toISOString();
  const row = (i: number) => {
    const text = benchLeafText(i);
    return [i, `evt_${i.toString(16).padStart(20, '0')}`, benchLeafHash(i).toString('base64'), text, appendedAt] as const;
  };
  await exclusive(db, async () => {
    await db.query('DELETE FROM ledger_leaf');
    if (db.options.type === 'better-sqlite3') {
      const sqlite = (db.driver as unknown as { databaseConnection: { prepare(sql: string): { run(...a: unknown[]): void }; transaction(f: () => void): () => void } }).databaseConnection;
      const insert = sqlite.prepare('INSERT INTO ledger_leaf (leaf_index, event_id, leaf_hash, leaf_data, appended_at) VALUES (?, ?, ?, ?, ?)');
      sqlite.transaction(() => {
        for (let i = 0; i < leaves; i++) insert.run(...row(i));
      })();
    } else {
      const PER = 2_000;
      for (let from = 0; from < leaves; from += PER) {
        const values: unknown[] = [];
        const tuples: string[] = [];
        for (let i = from; i < Math.min(leaves, from + PER); i++) {
          const p = values.length;
          tuples.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5})`);
          values.push(...row(i));
        }
        await db.query(`INSERT INTO ledger_leaf (leaf_index, event_id, leaf_hash, leaf_data, appended_at) VALUES ${tuples.join(', ')}`, values);
      }
    }
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(`${seconds.toFixed(1)} s`);
  return seconds;
}

/** Reproducible shuffled tile indexes, distinct. */
function shuffled(count: number, below: number): number[] {
  const all = Array.from({ length: below }, (_, i) => i);
  let state = 12345;
  for (let i = below - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count);
}

async function serve(base: string, indexes: number[], reader: TileReader): Promise<TileServing> {
  const get = async (n: number) => {
    const p = tilePath({ level: 0, index: n, width: 256 });
    const res = await fetch(base + p);
    if (res.status !== 200) throw new Error(`GET ${p}: ${res.status}`);
    await res.arrayBuffer();
  };
  const readsBefore = reader.reads;
  // Latency on the first half, one at a time; the rate on the second, CONCURRENCY in flight.
  const half = Math.floor(indexes.length / 2);
  const latencies: number[] = [];
  for (const n of indexes.slice(0, half)) {
    const t0 = performance.now();
    await get(n);
    latencies.push(performance.now() - t0);
  }
  const rest = indexes.slice(half);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < rest.length) await get(rest[next++]!);
  }));
  const seconds = (performance.now() - started) / 1000;
  return { tiles: rest.length, tilesPerSecond: Math.round(rest.length / seconds), latencyMs: summarize(latencies), databaseReads: reader.reads - readsBefore };
}

/** The verifier's loop before tiles: one GET per entry, decoded, hashed, read. */
async function oldPath(base: string, token: string, count: number, from: number): Promise<{ entries: number; seconds: number; leavesPerSecond: number }> {
  const started = performance.now();
  for (let i = from; i < from + count; i++) {
    const res = await fetch(`${base}entries/${i}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET /ledger/entries/${i}: ${res.status}`);
    const entry = (await res.json()) as { leafData: string; leafHash: string };
    const data = decodeBase64Strict(entry.leafData)!;
    if (!leafHash(data).equals(decodeBase64Strict(entry.leafHash)!)) throw new Error(`entry ${i} does not hash to its leaf hash`);
    readLeaf(data);
  }
  const seconds = (performance.now() - started) / 1000;
  return { entries: count, seconds: +seconds.toFixed(2), leavesPerSecond: Math.round(count / seconds) };
}

export async function tilesBench(): Promise<TilesBenchResult> {
  const built = await buildOrReuse();
  const db = built.db;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-bench-tiles-'));
  const server = http.createServer();
  let identity: DataSource | undefined;
  try {
    const leaves = Number((await exclusive(db, () => db.query('SELECT size FROM ledger_state WHERE id = 1')))[0].size);
    const leafRowsSeconds = await ensureLeafRows(db, leaves);

    // A compliance officer's API token, in a scratch identity database (SQLite).
    identity = await openIdentityDatabase(readEnv({ ...process.env, DATA_DIR: scratch, DATABASE_URL: undefined, LOG_LEVEL: 'silent' }));
    const officer = await createUser(identity, { username: 'bench.officer', role: 'compliance' });
    const token = (await createApiToken(identity, officer.id, { name: 'bench', scopes: ['read'], expiresInDays: 1 })).token;

    const key = benchNoteKey();
    const reader = new TileReader(db);
    const { publicKey } = generateKeyPairSync('ed25519');
    const app = express();
    app.use('/ledger', ledgerRoutes(db, async () => key.verifierKey, identity, publicKey, createLogger('bench', 'error'), { tiles: reader }));
    server.on('request', app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const base = `${url}/ledger/`;

    // 1. Tile serving: each tile once from the database, then the same ones from memory.
    const indexes = shuffled(Math.min(TILE_REQUESTS, Math.floor(leaves / 256)), Math.floor(leaves / 256));
    const fromDatabase = await serve(base, indexes, reader);
    const fromMemory = await serve(base, indexes, reader);

    // 2. Full verification from tiles, as of a checkpoint of VERIFY_LEAVES signed over the tree's root at that size.
    const verifySize = Math.min(VERIFY_LEAVES, leaves);
    const tree = new MerkleTree(new DbNodeStore(db));
    const asOf = signCheckpoint({ origin: ORIGIN, size: verifySize, rootHash: await tree.rootHash(verifySize), extensions: [] }, key.signer);
    const full = await verifyLedger({ url, token, key: key.verifierKey, checkpoint: asOf });
    if (!full.ok) throw new Error(`the bench ledger did not verify: ${[...full.problems, ...full.unverified, full.unreadable].join('; ')}`);
    const fullVerify = { leaves: full.leaves, seconds: +full.seconds.toFixed(2), leavesPerSecond: full.leavesPerSecond!, requests: full.requests, megabytes: +(full.bytes / 1e6).toFixed(1), ok: full.ok };

    // 3. The old path on a slice from the middle of the same log.
    const old = await oldPath(base, token, OLD_PATH_SLICE, Math.floor(leaves / 2));

    // 4. Incremental: a checkpoint INCREMENTAL leaves back, signed over the tree's own root at that size.
    const at = leaves - INCREMENTAL;
    const rootAt = await tree.rootHash(at);
    const savedFile = path.join(scratch, 'checkpoint.json');
    fs.writeFileSync(savedFile, JSON.stringify({ key: key.verifierKey, note: signCheckpoint({ origin: ORIGIN, size: at, rootHash: rootAt, extensions: [] }, key.signer) }));
    const started = performance.now();
    const inc = await verifyLedger({ url, token, fromCheckpoint: savedFile });
    const incSeconds = (performance.now() - started) / 1000;
    if (!inc.ok) throw new Error(`incremental verification failed: ${[...inc.problems, ...inc.unverified, inc.unreadable].join('; ')}`);

    const result: TilesBenchResult = {
      leaves,
      store: built.where,
      leafRowsSeconds,
      serving: { fromDatabase, fromMemory },
      fullVerify,
      oldPath: old,
      tilesOverOldPath: +(fullVerify.leavesPerSecond / old.leavesPerSecond).toFixed(1),
      incremental: { newLeaves: inc.leaves, seconds: +incSeconds.toFixed(2), leavesPerSecond: Math.round(inc.leaves / incSeconds), requests: inc.requests, tilesFetched: inc.tilesFetched.length, ok: inc.ok },
    };
    console.log(
      `ledger tiles at ${leaves} leaves: serving ${fromDatabase.tilesPerSecond} tiles/s from the database, ${fromMemory.tilesPerSecond}/s from memory; ` +
        `full verify ${fullVerify.leavesPerSecond} leaves/s (${fullVerify.seconds} s) vs entry by entry ${old.leavesPerSecond} leaves/s (${result.tilesOverOldPath}×); ` +
        `incremental ${inc.leaves} new leaves in ${result.incremental.seconds} s`,
    );
    return result;
  } finally {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
    await identity?.destroy();
    await db.destroy();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export function tilesTable(r: TilesBenchResult): (string | number)[][] {
  const lat = (s: TileServing) => `p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms`;
  return [
    ['ledger tiles', 'rate', 'latency', 'notes'],
    [`hash tile (8 KiB) at ${r.leaves} leaves, from the database`, `${r.serving.fromDatabase.tilesPerSecond} tiles/s`, lat(r.serving.fromDatabase), `${CONCURRENCY} in flight; ${r.serving.fromDatabase.databaseReads} database reads for ${r.serving.fromDatabase.tiles * 2} tiles`],
    [`hash tile, again (the gateway's memory)`, `${r.serving.fromMemory.tilesPerSecond} tiles/s`, lat(r.serving.fromMemory), `${r.serving.fromMemory.databaseReads} database reads`],
    [`verify ${r.fullVerify.leaves} leaves from tiles (all, from a checkpoint)`, `${r.fullVerify.leavesPerSecond} leaves/s`, `${r.fullVerify.seconds} s`, `${r.fullVerify.requests} requests, ${r.fullVerify.megabytes} MB; every leaf hashed from its bytes, root = signed root`],
    [`verify entry by entry (before tiles), ${r.oldPath.entries} entries`, `${r.oldPath.leavesPerSecond} leaves/s`, `${r.oldPath.seconds} s`, `tiles / entry by entry: ${r.tilesOverOldPath}×`],
    [`verify ${r.incremental.newLeaves} new leaves from a saved checkpoint`, `${r.incremental.leavesPerSecond} leaves/s`, `${r.incremental.seconds} s`, `${r.incremental.requests} requests, ${r.incremental.tilesFetched} tiles (consistency proof first)`],
  ];
}
