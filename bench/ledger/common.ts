/**
 * What the ledger benchmarks share: where their databases live (SQLite files in a
 * temporary directory, or a fresh PostgreSQL database beside DATABASE_URL's), unique
 * queue names whose Redis keys are removed afterwards, events shaped like the access
 * decisions subgraphs write, a node store that counts reads, and percentiles.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Queue } from 'bullmq';
import { readEnv, type Env } from '../../common/config';
import { generateNoteKey } from '../../ledger/core/note';
import { loadLedgerNoteKey, type LedgerNoteKey } from '../../ledger/core/note-key';
import type { AccessDecisionPayload } from '../../ledger/core/events';

export const ORIGIN = 'custodian.bench/ledger';

export interface BenchDatabase {
  env: Env;
  drop(): Promise<void>;
}

/** A database name on the server DATABASE_URL points at (same credentials). */
export function postgresUrl(name: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function postgresAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Empty databases for one benchmark: SQLite in a temporary directory, or a fresh PostgreSQL database. */
export async function freshBenchDatabase(label: string): Promise<BenchDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `custodian-bench-${label}-`));
  const base = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  if (!process.env.DATABASE_URL) {
    return {
      env: readEnv({ ...base, DATABASE_URL: undefined }),
      async drop() {
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `custodian_bench_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
  await postgresAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    env: readEnv({ ...base, DATABASE_URL: postgresUrl(name) }),
    async drop() {
      await postgresAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const redisUrl = (): string => readEnv().REDIS_URL;

export function uniqueQueueName(label: string): string {
  return `bench-${label}-${randomBytes(5).toString('hex')}`;
}

/** Removes every Redis key of a benchmark queue. */
export async function obliterateQueue(name: string): Promise<void> {
  const queue = new Queue(name, { connection: { url: redisUrl() } });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

/**
 * The benchmark's note key, derived from a fixed seed so that a cached ledger's
 * checkpoints verify on every run. A benchmark key, not a secret.
 */
export function benchNoteKey(): LedgerNoteKey {
  const seed = createHash('sha256').update('custodian bench ledger note key').digest();
  return loadLedgerNoteKey({ dataDir: os.tmpdir(), name: ORIGIN, signerKey: generateNoteKey(ORIGIN, seed).signerKey });
}

/**
 * The payload of one access decision, as the consent gate writes them (opaque ids and
 * allowed fields only; ~250 bytes of canonical JSON once it is a leaf). `count` carries
 * the benchmark's sequence number so a leaf can be traced back to its write.
 */
export function decisionPayload(sequence: number): AccessDecisionPayload & { count: number } {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return {
    subject: `usr_${hex(sequence % 997, 20)}`,
    patientId: `pat_${hex((sequence * 7919) % 100_000, 20)}`,
    category: sequence % 2 ? 'LABS' : 'DEMOGRAPHICS',
    action: 'read',
    purpose: 'TREATMENT',
    decision: sequence % 10 === 9 ? 'deny' : 'permit',
    decidedBy: 'policy:home-institution',
    consentVersion: 1 + (sequence % 5),
    service: 'labs',
    requestId: `req_${hex(sequence >>> 2, 20)}`,
    count: sequence,
  };
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Percentiles in the same unit as the samples (nearest rank), rounded to 3 decimals. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: round(at(50)), p99: round(at(99)), max: round(sorted[sorted.length - 1] ?? NaN), mean: round(mean) };
}


/** A wall-clock instant in ms, comparable across worker threads (performance.now() is per thread). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
