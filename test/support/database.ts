/**
 * Each test file gets its own empty database: a temporary directory of SQLite files by
 * default, or — when DATABASE_URL is set (CI's PostgreSQL run) — a fresh PostgreSQL
 * database created next to the one DATABASE_URL names, dropped afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { readEnv, type Env } from '../../common/config';

export interface TestDatabase {
  env: Env;
  /** Environment variables for a child process using this database. */
  vars: Record<string, string>;
  drop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

export async function freshDatabase(): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-test-'));
  const base = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', NODE_ENV: 'test' };
  if (!process.env.DATABASE_URL) {
    return {
      env: readEnv({ ...base, DATABASE_URL: undefined }),
      vars: { DATA_DIR: dataDir, LOG_LEVEL: base.LOG_LEVEL },
      async drop() {
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const admin = new URL(process.env.DATABASE_URL);
  const name = `custodian_t_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    env: readEnv({ ...base, DATABASE_URL: url.toString() }),
    vars: { DATA_DIR: dataDir, DATABASE_URL: url.toString(), LOG_LEVEL: base.LOG_LEVEL },
    async drop() {
      const c = new Client({ connectionString: admin.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
