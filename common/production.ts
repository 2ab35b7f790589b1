/**
 * Fail-safe production start. With NODE_ENV=production a process starts only if
 * everything it needs is there, and otherwise exits with ONE message that lists every
 * problem — not the first one only — before it has opened a database, generated a key
 * or written a byte to DATA_DIR. Development (NODE_ENV unset) is unchanged.
 *
 * What each process needs (README, "Production configuration"):
 *
 *   every process        DATABASE_URL is PostgreSQL; Redis answers a PING
 *   gateway, subgraphs   every ORIGIN is https (and, for the gateway, RP_ID is the first one's host or a parent of it)
 *   gateway              SESSION_PRIVATE_KEY[_FILE], IDENTITY_PRIVATE_KEY[_FILE]
 *   subgraphs            IDENTITY_JWKS or IDENTITY_PUBLIC_KEY (never the gateway's private keys)
 *   research, labs,      PSEUDONYM_KEY[_FILE] (the same key: labs and devices check a
 *   devices subgraphs    research subject's pseudonym themselves)
 *   ledger worker        LEDGER_NOTE_KEY[_FILE]
 *   gateway, ledger      every witness of LEDGER_WITNESSES is https, or http on this host
 *                        (plainHttpProblem; checked where the list is read, ledger/config.ts)
 *
 * Secrets may be given as `<NAME>_FILE` (a path, as container secrets are mounted): the
 * file's content becomes `<NAME>` before anything reads the environment.
 */
import fs from 'node:fs';
import { Redis } from 'ioredis';
import { readEnv, type Env } from './config';
import { decodeSecret, MissingInProduction, signingKeySource, verifyingKeySource, type KeyName } from './keys';
import { KeySet } from './keysets';

export type ProcessRole = 'gateway' | 'subgraph' | 'research' | 'ledger-relay' | 'ledger-worker';

/** Secrets that may be given as a file: `<NAME>_FILE`. Key files are read by common/keys.ts (and watched). */
export const FILE_SECRETS = ['DATABASE_URL', 'PSEUDONYM_KEY', 'PSEUDONYM_KEY_PREVIOUS', 'LEDGER_NOTE_KEY', 'METRICS_TOKEN'] as const;

/** How long Redis may take to answer PING at start-up. */
const REDIS_PING_TIMEOUT_MS = 2000;

export class StartupRefused extends Error {}

/**
 * `<NAME>_FILE` → `<NAME>` in `source` (process.env by default), for FILE_SECRETS; the
 * `_FILE` variable is then removed, so child processes (`custodian start`'s) inherit the
 * value once. Returns the problems: an unreadable file, or `<NAME>` set to something else.
 */
export function readSecretFiles(source: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  for (const name of FILE_SECRETS) {
    const file = source[`${name}_FILE`];
    if (!file) continue;
    let value: string;
    try {
      value = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      continue;
    }
    if (source[name] !== undefined && source[name] !== value) {
      problems.push(`${name} and ${name}_FILE are both set, to different values: give one`);
      continue;
    }
    source[name] = value;
    delete source[`${name}_FILE`];
  }
  return problems;
}

/** Whether Redis answers PING within the timeout; the reason if not. */
export async function redisAnswers(url: string, timeoutMs = REDIS_PING_TIMEOUT_MS): Promise<string | null> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError = '';
  redis.on('error', (err: Error) => (lastError = (err as NodeJS.ErrnoException).code ?? err.message));
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return answer === 'PONG' ? null : `answered ${JSON.stringify(answer)} to PING`;
  } catch (err) {
    return lastError || (err as NodeJS.ErrnoException).code || (err as Error).message;
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

function keyProblem(name: KeyName, role: 'sign' | 'verify', env: Env, source: NodeJS.ProcessEnv): string | null {
  try {
    const keySource = role === 'sign' ? signingKeySource(name, env.DATA_DIR, source) : verifyingKeySource(name, env.DATA_DIR, source);
    if (keySource.kind === 'url') {
      // Whoever answers this URL decides which identities the process believes: over plain
      // http anyone on the path could add a key of their own. https, or this host only.
      return plainHttpProblem(keySource.setting, keySource.url, 'whoever answers it chooses the keys that are believed'); // read when the first token comes
    }
    const set = KeySet.open(name, keySource);
    set.close();
    if (role === 'sign') set.signingKey();
    return null;
  } catch (err) {
    return err instanceof MissingInProduction ? err.message : `${name} key: ${(err as Error).message}`;
  }
}

/** localhost, 127.0.0.0/8 or [::1]: traffic that never leaves this host. */
export function isLoopbackUrl(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
}

/**
 * The production rule for a URL a process calls: https, or plain http on this host
 * only (a sidecar, a tunnel's local end). Null if `url` obeys it; else the problem,
 * saying what anyone on the path could do (`why`). Used for key URLs here and for the
 * witnesses of LEDGER_WITNESSES (ledger/config.ts, which knows their list's syntax).
 */
export function plainHttpProblem(setting: string, url: string, why: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${setting}: ${JSON.stringify(url)} is not a URL`;
  }
  if (parsed.protocol === 'https:' || isLoopbackUrl(parsed)) return null;
  return `${setting}: must be an https URL in production (or on this host), since ${why} (it is ${url})`;
}

/**
 * The problems a settings reader reports (readEnv, readLedgerEnv: "Invalid …
 * configuration:" then one line per setting), as lines for the start-up message.
 */
export function settingProblems(read: () => unknown): string[] {
  try {
    read();
    return [];
  } catch (err) {
    return (err as Error).message.split('\n').slice(1).map((line) => line.trim());
  }
}

/** Every problem that stops a process of these roles from starting in production. */
export async function productionProblems(roles: ProcessRole[], source: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const has = (role: ProcessRole) => roles.includes(role);
  const problems: string[] = [];
  let env: Env;
  try {
    env = readEnv(source);
  } catch {
    // Every invalid setting, then go on with what can be read: the other checks still report.
    problems.push(...settingProblems(() => readEnv(source)));
    env = readEnv({ NODE_ENV: 'production', DATA_DIR: source.DATA_DIR, REDIS_URL: /^rediss?:\/\//.test(source.REDIS_URL ?? '') ? source.REDIS_URL : undefined });
  }
  if (!source.DATABASE_URL) problems.push('DATABASE_URL: required in production, a postgres:// URL (SQLite is for development)');
  const redis = await redisAnswers(env.REDIS_URL);
  if (redis) problems.push(`REDIS_URL: Redis at ${redactUrl(env.REDIS_URL)} does not answer PING (${redis})`);
  if (has('gateway') || has('subgraph')) {
    // Every web origin, not only the hub's own: a related origin over plain http would let
    // anyone on the path run a ceremony as it. (No exception for localhost here: an unset
    // ORIGIN defaults to http://localhost:4000, and a production hub must not start on it.)
    for (const web of env.WEB_ORIGINS) {
      if (!web.startsWith('https:')) problems.push(`ORIGIN: must be https in production (it is ${web})`);
    }
    // The hub's own origin is on the RP ID's site; the others are related origins, which
    // browsers accept from /.well-known/webauthn on the RP ID (gateway/identity/well-known.ts).
    const origin = new URL(env.ORIGIN);
    if (has('gateway') && origin.hostname !== env.RP_ID && !origin.hostname.endsWith(`.${env.RP_ID}`)) {
      problems.push(`RP_ID: must be ORIGIN's host (${origin.hostname}) or a parent domain of it (it is ${env.RP_ID})`);
    }
  }
  if (has('gateway')) {
    for (const name of ['session', 'identity'] as const) {
      const problem = keyProblem(name, 'sign', env, source);
      if (problem) problems.push(problem);
    }
  }
  if (has('subgraph')) {
    const problem = keyProblem('identity', 'verify', env, source);
    if (problem) problems.push(problem);
  }
  if (has('research')) {
    if (!source.PSEUDONYM_KEY) problems.push('PSEUDONYM_KEY: required by the research, labs and devices subgraphs in production (or PSEUDONYM_KEY_FILE); base64 of at least 32 random bytes');
    else {
      try {
        decodeSecret('PSEUDONYM_KEY', source.PSEUDONYM_KEY);
      } catch (err) {
        problems.push(`PSEUDONYM_KEY: ${(err as Error).message}`);
      }
    }
  }
  if (has('ledger-worker') && !source.LEDGER_NOTE_KEY) {
    problems.push('LEDGER_NOTE_KEY: required by the ledger worker in production (or LEDGER_NOTE_KEY_FILE): the note signer key PRIVATE+KEY+<name>+<id>+<key>');
  }
  return problems;
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * The first thing every process does: reads `<NAME>_FILE` secrets, and in production
 * checks everything the process needs (plus `more`, its own settings' problems). Throws
 * StartupRefused with one message listing every problem.
 */
export async function checkStartup(processName: string, roles: ProcessRole[], more: () => string[] = () => [], source: NodeJS.ProcessEnv = process.env): Promise<void> {
  const problems = readSecretFiles(source);
  if (source.NODE_ENV === 'production') problems.push(...(await productionProblems(roles, source)), ...more());
  if (problems.length === 0) return;
  throw new StartupRefused(
    `${processName} refuses to start${source.NODE_ENV === 'production' ? ' (NODE_ENV=production)' : ''}; ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
      problems.map((p) => `  - ${p}`).join('\n') +
      `\nSee README.md, "Production configuration".`,
  );
}

/**
 * Which roles a subgraph process has: research keys pseudonyms, and labs and devices
 * recompute a research subject's pseudonym to check it (subgraphs/kit/research-series.ts).
 */
export function subgraphRoles(name: string): ProcessRole[] {
  return ['research', 'labs', 'devices'].includes(name) ? ['subgraph', 'research'] : ['subgraph'];
}
