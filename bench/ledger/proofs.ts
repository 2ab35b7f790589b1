/**
 * Inclusion proofs at 1,000,000 leaves.
 *
 * The tree is built in bulk, but through the real code: MerkleTree over DbNodeStore,
 * BUILD_BATCH leaf hashes per append (one transaction each, with the store's size
 * compare-and-set), then a checkpoint signed by publishCheckpoint at the full size. The
 * leaf hashes are those of real leaves — the canonical JSON of access-decision events — but the
 * ledger_leaf rows are not written: proofs never read them, and writing them through
 * appendEvents took 80–165 s here (6–12k leaves/s), which alone would break the
 * five-minute budget of a first run. appendEvents' own speed is measured beside the
 * pipeline (index.ts). The result is cached (SQLite: .data/bench/ledger-<leaves>-<format>/,
 * PostgreSQL: a database named the same way) and reused while it is complete: the size
 * is right and the checkpoint at that size verifies and matches the tree's root.
 * Anything else is thrown away and rebuilt, so an interrupted build never passes for a
 * cached one.
 *
 * Then: random indexes against the latest size, proved one after another through
 * MerkleTree over DbNodeStore in process, and through GET /ledger/proof/inclusion (the
 * gateway's router, mounted alone on loopback; latency one request at a time,
 * throughput with 8 in flight; client and server share this process). Reads are
 * counted per proof — store calls, nodes asked for, and SQL statements sent — and a
 * sample of each kind of proof is verified against the signed root, for the leaf hash
 * of the event that leaf was built from (recomputed, not read back).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHash, generateKeyPairSync } from 'node:crypto';
import express from 'express';
import type { DataSource } from 'typeorm';
import { projectRoot } from '../../common/paths';
import { dbQueries } from '../../common/database';
import { createLogger } from '../../common/logger';
import { readEnv, type Env } from '../../common/config';
import { exclusive, openLedgerDatabase, LEDGER_DATABASE } from '../../ledger/store/database';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { checkpointAt } from '../../ledger/store/read-model';
import { openCheckpoint } from '../../ledger/core/checkpoint';
import { parseVerifierKey } from '../../ledger/core/note';
import { DbNodeStore, readSize } from '../../ledger/store/db-node-store';
import { MerkleTree } from '../../ledger/core/tree';
import { leafHash } from '../../ledger/core/hashing';
import { LEAF_FORMAT, type LedgerEvent } from '../../ledger/core/leaf';
import { verifyInclusion } from '../../ledger/core/verify';
import { ledgerRoutes } from '../../gateway/ledger-routes';
import { CountingStore } from '../../ledger/core/counting-store';
import { ORIGIN, benchNoteKey, decisionPayload, postgresAdmin, postgresUrl, summarize, type Summary } from './common';

const LEAVES = Number(process.env.BENCH_LEDGER_LEAVES ?? 1_000_000);
const BUILD_BATCH = 65_536;
const PROOFS = Number(process.env.BENCH_LEDGER_PROOFS ?? 3_000);
const HTTP_PROOFS = Number(process.env.BENCH_LEDGER_HTTP_PROOFS ?? 1_000);
const HTTP_CONCURRENCY = 8;
/** Every VERIFY_EVERY-th proof is checked against the signed root (outside the timing). */
const VERIFY_EVERY = 25;

/**
 * Bump when the events or the build change. Ledger migrations are part of the key, so a
 * schema change also starts a new cache.
 */
const FORMAT = 'f3';

function cacheKey(): string {
  const migrations = (LEDGER_DATABASE.migrations as { name: string }[]).map((m) => m.name).join(',');
  return `${LEAVES}-${FORMAT}-${createHash('sha256').update(migrations).digest('hex').slice(0, 8)}`;
}

/**
 * The leaf hash of leaf i of the benchmark ledger: an access decision with a
 * deterministic id. Its canonical JSON is made by sorting the keys and JSON.stringify —
 * RFC 8785 exactly for a flat object of ASCII strings and safe integers, and several
 * times cheaper than the general canonicalizer; test/bench checks both agree.
 */
export function benchLeafHash(i: number): Buffer {
  return leafHash(Buffer.from(benchLeafText(i), 'utf8'));
}

export function benchLeafText(i: number): string {
  // As the worker writes it today: the event and its leaf format (ledger/FORMAT.md).
  const event = { ...benchEvent(i), v: LEAF_FORMAT } as unknown as Record<string, string | number>;
  const sorted: Record<string, string | number> = {};
  for (const key of Object.keys(event).sort()) sorted[key] = event[key]!;
  return JSON.stringify(sorted);
}

export function benchEvent(i: number): LedgerEvent {
  return {
    id: `evt_${i.toString(16).padStart(20, '0')}`,
    kind: 'access.decision',
    at: new Date(Date.UTC(2026, 0, 1) + i * 10).toISOString(),
    ...decisionPayload(i),
  };
}

interface Built {
  db: DataSource;
  cached: boolean;
  buildSeconds: number | null;
  where: string;
}

/** The cached ledger when complete and correct; null (and nothing left behind) otherwise. */
async function openCached(env: Env, verifier: ReturnType<typeof parseVerifierKey>): Promise<DataSource | null> {
  let db: DataSource;
  try {
    db = await openLedgerDatabase(env, 1);
  } catch {
    return null;
  }
  try {
    const size = await readSize(db.manager);
    const checkpoint = await checkpointAt(db, LEAVES);
    if (size === LEAVES && checkpoint) {
      const opened = openCheckpoint(checkpoint.note, [verifier], { origin: ORIGIN }).checkpoint;
      const root = await new MerkleTree(new DbNodeStore(db)).rootHash(LEAVES);
      if (opened.size === LEAVES && opened.rootHash.equals(root)) return db;
    }
  } catch {
    // fall through: rebuild
  }
  await db.destroy();
  return null;
}

/** The cached 1,000,000-leaf ledger (also the tiles benchmark's, tiles.ts). */
export async function buildOrReuse(): Promise<Built> {
  const key = benchNoteKey();
  const verifier = parseVerifierKey(key.verifierKey);
  const name = `ledger-${cacheKey()}`;
  const dataDir = path.join(projectRoot(), '.data', 'bench', name);
  const pgName = `custodian_bench_${name.replace(/\W/g, '_')}`;
  const onPostgres = Boolean(process.env.DATABASE_URL);
  const env = readEnv({ ...process.env, DATA_DIR: dataDir, DATABASE_URL: onPostgres ? postgresUrl(pgName) : undefined, LOG_LEVEL: 'silent' });
  const where = onPostgres ? `PostgreSQL database ${pgName}` : path.relative(projectRoot(), path.join(dataDir, 'ledger.sqlite'));

  if (onPostgres) {
    const exists = await postgresAdmin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [pgName])).rowCount === 1);
    if (exists) {
      const db = await openCached(env, verifier);
      if (db) return { db, cached: true, buildSeconds: null, where };
    }
    // This one is incomplete or stale, and older formats are dead weight.
    await postgresAdmin(async (c) => {
      const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'custodian\\_bench\\_ledger\\_%'");
      for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${pgName}`);
    });
  } else {
    if (fs.existsSync(dataDir)) {
      const db = await openCached(env, verifier);
      if (db) return { db, cached: true, buildSeconds: null, where };
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    // Older formats are dead weight (hundreds of MB each).
    const parent = path.dirname(dataDir);
    if (fs.existsSync(parent)) {
      for (const old of fs.readdirSync(parent)) if (old.startsWith('ledger-')) fs.rmSync(path.join(parent, old), { recursive: true, force: true });
    }
  }

  process.stdout.write(`ledger: building ${LEAVES} leaves (MerkleTree over DbNodeStore, ${BUILD_BATCH} per transaction), cached afterwards in ${where}... `);
  const db = await openLedgerDatabase(env);
  const started = performance.now();
  for (let from = 0; from < LEAVES; from += BUILD_BATCH) {
    const hashes: Buffer[] = [];
    for (let i = from; i < Math.min(LEAVES, from + BUILD_BATCH); i++) hashes.push(benchLeafHash(i));
    const range = await exclusive(db, () => db.transaction((tx) => new MerkleTree(new DbNodeStore(tx)).append(hashes)));
    if (range.fromSize !== from) throw new Error(`build: batch at ${from} landed at ${range.fromSize}`);
  }
  // The completion mark: a signed checkpoint at the full size.
  await publishCheckpoint(db, key, ORIGIN);
  const buildSeconds = (performance.now() - started) / 1000;
  console.log(`${buildSeconds.toFixed(1)} s (${Math.round(LEAVES / buildSeconds)} leaves/s)`);
  return { db, cached: false, buildSeconds, where };
}

async function sqlStatements(): Promise<number> {
  const metric = await dbQueries.get();
  return metric.values.find((v) => v.labels.service === 'ledger')?.value ?? 0;
}

/** Reproducible random indexes (mulberry32). */
function randomIndexes(count: number, below: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  });
}

export interface ProofRun {
  proofs: number;
  proofsPerSecond: number;
  latencyMs: Summary;
  verified: number;
}

export interface ProofBenchResult {
  leaves: number;
  store: string;
  cached: boolean;
  buildSeconds: number | null;
  buildLeavesPerSecond: number | null;
  inProcess: ProofRun & {
    /** Per proof, averaged. */
    storeCallsPerProof: { size: number; getNodes: number };
    nodesReadPerProof: number;
    sqlStatementsPerProof: number;
    log2Leaves: number;
  };
  /** latencyMs: one request at a time; proofsPerSecond: `concurrency` in flight. */
  http: ProofRun & { concurrency: number; sqlStatementsPerProof: number; identicalToInProcess: boolean };
}

export async function proofBench(): Promise<ProofBenchResult> {
  const built = await buildOrReuse();
  const { db } = built;
  const server = http.createServer();
  try {
    if (built.cached) console.log(`ledger: ${LEAVES} leaves, cached in ${built.where}`);
    const key = benchNoteKey();
    const checkpoint = (await checkpointAt(db, LEAVES))!;
    const { checkpoint: signed } = openCheckpoint(checkpoint.note, [parseVerifierKey(key.verifierKey)], { origin: ORIGIN });
    const size = signed.size;
    const root = signed.rootHash;

    // In process: the tree over the database store, as the gateway's routes use it.
    const counting = new CountingStore(new DbNodeStore(db));
    const tree = new MerkleTree(counting);
    const indexes = randomIndexes(PROOFS, size, 42);
    for (const i of indexes.slice(0, 200)) await tree.inclusionProof(i, size); // warm-up
    counting.reset();
    const statementsBefore = await sqlStatements();
    const latencies: number[] = [];
    const toVerify: { index: number; proof: Buffer[] }[] = [];
    const started = performance.now();
    for (let k = 0; k < indexes.length; k++) {
      const t0 = performance.now();
      const proof = await tree.inclusionProof(indexes[k]!, size);
      latencies.push(performance.now() - t0);
      if (k % VERIFY_EVERY === 0) toVerify.push({ index: indexes[k]!, proof });
    }
    const seconds = (performance.now() - started) / 1000;
    const statements = (await sqlStatements()) - statementsBefore;
    const calls = { size: counting.sizeCalls / PROOFS, getNodes: counting.getNodesCalls / PROOFS };
    const nodesRead = counting.nodesRead / PROOFS;
    for (const { index, proof } of toVerify) verifyInclusion(index, size, benchLeafHash(index), proof, root);

    // Over HTTP: GET /ledger/proof/inclusion, HTTP_CONCURRENCY requests in flight.
    const app = express();
    const { publicKey } = generateKeyPairSync('ed25519');
    // The identity database only serves /ledger/entries, which is not benchmarked here.
    // The verifier key is given as a function that also reads as the key's text: the
    // routes' signature is moving from the text to a getter, and only proofs matter here.
    const served = Object.assign(async () => key.verifierKey, { toString: () => key.verifierKey });
    const routes = ledgerRoutes as unknown as (...args: unknown[]) => express.Router;
    app.use('/ledger', routes(db, served, db, publicKey, createLogger('bench', 'error')));
    server.on('request', app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const httpIndexes = randomIndexes(HTTP_PROOFS, size, 7);
    const get = async (index: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/ledger/proof/inclusion?index=${index}&treeSize=${size}`);
      if (res.status !== 200) throw new Error(`GET /ledger/proof/inclusion answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { leafIndex: number; treeSize: number; hashes: string[] };
    };
    for (const i of httpIndexes.slice(0, 100)) await get(i); // warm-up: connections, JIT
    // Latency one request at a time; throughput with HTTP_CONCURRENCY in flight.
    const httpLatencies: number[] = [];
    const httpToVerify: { index: number; hashes: string[] }[] = [];
    const sequential = httpIndexes.slice(0, HTTP_PROOFS / 2);
    for (let k = 0; k < sequential.length; k++) {
      const t0 = performance.now();
      const body = await get(sequential[k]!);
      httpLatencies.push(performance.now() - t0);
      if (k % VERIFY_EVERY === 0) httpToVerify.push({ index: sequential[k]!, hashes: body.hashes });
    }
    const concurrent = httpIndexes.slice(HTTP_PROOFS / 2);
    const httpStatementsBefore = await sqlStatements();
    let next = 0;
    const httpStarted = performance.now();
    await Promise.all(
      Array.from({ length: HTTP_CONCURRENCY }, async () => {
        while (next < concurrent.length) {
          const k = next++;
          const body = await get(concurrent[k]!);
          if (k % VERIFY_EVERY === 0) httpToVerify.push({ index: concurrent[k]!, hashes: body.hashes });
        }
      }),
    );
    const httpSeconds = (performance.now() - httpStarted) / 1000;
    const httpStatements = (await sqlStatements()) - httpStatementsBefore;
    let identical = true;
    for (const { index, hashes } of httpToVerify) {
      const proof = hashes.map((h) => Buffer.from(h, 'base64'));
      verifyInclusion(index, size, benchLeafHash(index), proof, root);
      const local = await tree.inclusionProof(index, size);
      identical &&= local.length === proof.length && local.every((h, j) => h.equals(proof[j]!));
    }

    const result: ProofBenchResult = {
      leaves: size,
      store: built.where,
      cached: built.cached,
      buildSeconds: built.buildSeconds,
      buildLeavesPerSecond: built.buildSeconds ? Math.round(LEAVES / built.buildSeconds) : null,
      inProcess: {
        proofs: PROOFS,
        proofsPerSecond: Math.round(PROOFS / seconds),
        latencyMs: summarize(latencies),
        verified: toVerify.length,
        storeCallsPerProof: calls,
        nodesReadPerProof: +nodesRead.toFixed(2),
        sqlStatementsPerProof: +(statements / PROOFS).toFixed(2),
        log2Leaves: Math.ceil(Math.log2(size)),
      },
      http: {
        proofs: HTTP_PROOFS,
        concurrency: HTTP_CONCURRENCY,
        sqlStatementsPerProof: +(httpStatements / concurrent.length).toFixed(2),
        proofsPerSecond: Math.round(concurrent.length / httpSeconds),
        latencyMs: summarize(httpLatencies),
        verified: httpToVerify.length,
        identicalToInProcess: identical,
      },
    };
    const p = result.inProcess;
    console.log(
      `ledger proofs at ${size} leaves: in process ${p.proofsPerSecond}/s (p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms; ` +
        `${p.sqlStatementsPerProof} SQL statements, ${p.nodesReadPerProof} nodes per proof, log2 n = ${p.log2Leaves}); ` +
        `HTTP ${result.http.proofsPerSecond}/s with ${HTTP_CONCURRENCY} in flight (one at a time p50 ${result.http.latencyMs.p50} ms, p99 ${result.http.latencyMs.p99} ms); ` +
        `${p.verified + result.http.verified} proofs verified against the signed root`,
    );
    return result;
  } finally {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
    await db.destroy();
  }
}
