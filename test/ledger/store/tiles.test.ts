/**
 * C2SP tiles served from the ledger database through the gateway's /ledger router
 * (mounted alone on loopback): every hash checked against hashes computed here from the
 * leaves by the independent RFC reference, entry bundles against the leaf bytes, the
 * cache headers, 404 past the tree, 400 for paths that are not the spec's spelling, full
 * tiles read from the database once — and, where Go is installed, the Go team's
 * golang.org/x/mod/sumdb/tlog reads our tiles (TileHashReader checks each against the
 * root) and proves leaves with them (test/ledger/go/tiles-crosscheck.go).
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import type { DataSource } from 'typeorm';
import { createLogger } from '../../../common/logger';
import { ledgerRoutes } from '../../../gateway/ledger-routes';
import { MerkleTree } from '../../../ledger/core/tree';
import { parseEntryBundle, parseHashTile, tilePath, type TileRef } from '../../../ledger/core/tiles';
import { exclusive, openLedgerDatabase } from '../../../ledger/store/database';
import { DbNodeStore } from '../../../ledger/store/db-node-store';
import { LedgerLeaf } from '../../../ledger/store/entities';
import { TileReader } from '../../../ledger/store/tile-reader';
import { freshDatabase, type TestDatabase } from '../../support/database';
import { ReferenceTree, refLeafHash } from '../../support/ledger';

// One full level-1 tile (65,536 leaves) and partial tiles at levels 0, 1 and 2.
const SIZE = 65_536 + 3 * 256 + 77;
const texts = Array.from({ length: SIZE }, (_, i) => `{"i":${i},"pad":"${'x'.repeat(i % 50)}"}`);
const leaves = texts.map((t) => refLeafHash(Buffer.from(t, 'utf8')));
const reference = new ReferenceTree(leaves);

let database: TestDatabase;
let db: DataSource;
let reader: TileReader;
let server: http.Server;
let base: string;

async function appendAll(): Promise<void> {
  // Uneven batches, so the tiles straddle appends, as the worker's batches make them.
  for (let done = 0, k = 0; done < SIZE; k++) {
    const end = Math.min(SIZE, done + [9000, 1, 255, 20_000, 300][k % 5]!);
    await exclusive(db, () =>
      db.transaction(async (tx) => {
        await new MerkleTree(new DbNodeStore(tx)).append(leaves.slice(done, end));
        for (let i = done; i < end; i += 500) {
          const rows = texts.slice(i, Math.min(end, i + 500)).map((text, j) => ({ leafIndex: i + j, eventId: `e${i + j}`, leafHash: leaves[i + j]!.toString('base64'), leafData: text, appendedAt: new Date() }));
          await tx.getRepository(LedgerLeaf).insert(rows);
        }
      }),
    );
    done = end;
  }
}

beforeAll(async () => {
  database = await freshDatabase();
  db = await openLedgerDatabase(database.env);
  await appendAll();
  reader = new TileReader(db);
  const app = express();
  const { publicKey } = generateKeyPairSync('ed25519');
  // Hash tiles need no identity; an unauthenticated bundle request is refused before any lookup.
  app.use('/ledger', ledgerRoutes(db, async () => null, db, publicKey, createLogger('test', 'silent'), { tiles: reader }));
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/ledger/`;
}, 180_000);
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await db?.destroy();
  await database?.drop();
});

/** Expected hashes of a tile, from the leaves: MTH of each 256^L-leaf span. */
function expectedTile(level: number, index: number, width: number): Buffer {
  const span = 256 ** level;
  return Buffer.concat(Array.from({ length: width }, (_, i) => reference.mth((index * 256 + i) * span, (index * 256 + i + 1) * span)));
}

const get = (p: string, headers: Record<string, string> = {}) => fetch(base + p, { headers });

test('every hash tile of the tree is the MTH of its spans, computed here from the leaves', async () => {
  const tiles: TileRef[] = [];
  for (let n = 0; n < 259; n++) tiles.push({ level: 0, index: n, width: 256 });
  tiles.push({ level: 0, index: 259, width: 77 }, { level: 1, index: 0, width: 256 }, { level: 1, index: 1, width: 3 }, { level: 2, index: 0, width: 1 });
  for (const tile of tiles) {
    const res = await get(tilePath(tile));
    expect([tilePath(tile), res.status]).toEqual([tilePath(tile), 200]);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(expectedTile(tile.level as number, tile.index, tile.width))).toBe(true);
  }
  // A narrower prefix of a tile is served too (a checkpoint of a smaller size needs it).
  const narrow = Buffer.from(await (await get('tile/0/259.p/5')).arrayBuffer());
  expect(narrow.equals(expectedTile(0, 259, 5))).toBe(true);
  // Level 1 holds exactly what a level-0 tile hashes to.
  const level1 = parseHashTile(Buffer.from(await (await get('tile/1/000')).arrayBuffer()), 256);
  expect(level1[3]!.equals(reference.mth(3 * 256, 4 * 256))).toBe(true);
}, 60_000);

test('cache headers: full tiles immutable for a year, partial ones briefly; octet-stream', async () => {
  const full = await get('tile/0/000');
  expect(full.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(full.headers.get('content-type')).toBe('application/octet-stream');
  expect((await get('tile/0/259.p/77')).headers.get('cache-control')).toBe('public, max-age=10');
});

test('a tile past the tree is a 404, a malformed path a 400, both JSON', async () => {
  for (const p of ['tile/0/260', 'tile/0/259.p/78', 'tile/0/259', 'tile/1/001', 'tile/2/000', 'tile/3/000.p/1', 'tile/0/x001/000']) {
    const res = await get(p);
    expect([p, res.status]).toEqual([p, 404]);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  }
  for (const p of ['tile/0/1', 'tile/0/001.p/256', 'tile/0/001.p/0', 'tile/00/001', 'tile/64/000', 'tile/0/x000/001', 'tile/x/000', 'tile/entries/1', 'tile/0/../000']) {
    const res = await get(p);
    expect([p, res.status]).toEqual([p, 400]);
    expect(await res.json()).toMatchObject({ error: { code: 'BAD_TILE_PATH' } });
  }
});

test('entry bundles hold the exact leaf bytes, which hash to the level-0 tile; without a token they are refused', async () => {
  expect((await get('tile/entries/000')).status).toBe(401);
  for (const tile of [{ level: 'entries' as const, index: 7, width: 256 }, { level: 'entries' as const, index: 259, width: 77 }]) {
    const bytes = await reader.read(tile);
    const entries = parseEntryBundle(bytes!, tile.width);
    entries.forEach((e, i) => {
      const at = tile.index * 256 + i;
      expect(e.toString('utf8')).toBe(texts[at]);
      expect(refLeafHash(e).equals(leaves[at]!)).toBe(true);
    });
  }
  expect(await reader.read({ level: 'entries', index: 260, width: 1 })).toBeNull();
});

test('full tiles come from the database once, then from memory; partial ones are read each time', async () => {
  const reader = new TileReader(db); // its own cache: the tests above filled the served one
  const tile = { level: 0, index: 42, width: 256 };
  const before = reader.reads;
  const first = await reader.read(tile);
  const second = await reader.read(tile);
  expect(second).toBe(first);
  expect(reader.reads - before).toBe(1);
  await reader.read({ level: 0, index: 259, width: 77 });
  await reader.read({ level: 0, index: 259, width: 77 });
  expect(reader.reads - before).toBe(3);
});

const GOPATH = '/usr/share/gocode';
const goEnv = { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: path.join(os.tmpdir(), 'custodian-go-cache'), GOFLAGS: '' };
const haveGo = (() => {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return fs.existsSync(path.join(GOPATH, 'src/golang.org/x/mod/sumdb/tlog/tile.go'));
  } catch {
    return false;
  }
})();
if (!haveGo) console.warn('tiles.test.ts: the Go cross-check is skipped: install golang-go and golang-golang-x-mod-dev');

/** The Go program runs while this process serves its requests: spawn, not execFileSync. */
function go(binary: string, request: object): Promise<{ treeHash?: string; leafHashes?: string[]; fetched?: string[]; error?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { env: goEnv });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out)));
    child.stdin.end(JSON.stringify(request));
  });
}

(haveGo ? describe : describe.skip)('golang.org/x/mod/sumdb/tlog over our tiles', () => {
  let binary: string;
  beforeAll(() => {
    binary = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-go-')), 'tiles-crosscheck');
    execFileSync('go', ['build', '-o', binary, path.join(__dirname, '../go/tiles-crosscheck.go')], { env: goEnv, stdio: 'pipe' });
  }, 120_000);

  test('TileHashReader accepts every tile it reads against the root, and its record proofs check', async () => {
    const root = reference.mth(0, SIZE).toString('base64');
    const indexes = [0, 255, 256, 65_535, 65_536, SIZE - 1];
    const answer = await go(binary, { base, size: SIZE, root, indexes });
    expect(answer.error).toBeUndefined();
    expect(answer.treeHash).toBe(root);
    expect(answer.leafHashes).toEqual(indexes.map((i) => leaves[i]!.toString('base64')));
    // It fetched partial tiles by our paths, e.g. tile/2/000.p/1.
    expect(answer.fetched).toEqual(expect.arrayContaining(['tile/2/000.p/1']));
  }, 60_000);

  test('and refuses them against a different root', async () => {
    const wrong = Buffer.from(reference.mth(0, SIZE));
    wrong[0] ^= 1;
    const answer = await go(binary, { base, size: SIZE, root: wrong.toString('base64'), indexes: [3] });
    expect(answer.error).toMatch(/inconsistent|verification/i);
  }, 60_000);
});
