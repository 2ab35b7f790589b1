/**
 * The ledger's own settings, read from the environment next to common/config.ts (which
 * supplies DATA_DIR, DATABASE_URL and REDIS_URL). Validated once, so a typo stops the
 * process at start-up.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { readEnv, SUBGRAPH_NAMES, type Env } from '../common/config';
import { plainHttpProblem } from '../common/production';
import { isValidKeyName, parseVerifierKey } from './core/note';
import { parseWitnessList, type WitnessEndpoint } from './witness/endpoints';

const ms = z.coerce.number().int().positive();

const LedgerEnvSchema = z.object({
  /** The checkpoint origin, and the note key name when the key is generated. */
  LEDGER_ORIGIN: z.string().refine(isValidKeyName, 'LEDGER_ORIGIN must be non-empty, without white space or "+"').default('custodian.local/ledger'),
  /** PRIVATE+KEY+<name>+<id>+<key>, or a file holding it; else DATA_DIR/keys/ledger-note.key, generated on first use. */
  LEDGER_NOTE_KEY: z.string().optional(),
  /** During a rotation, the key being replaced (a key or a file path): the next checkpoint is signed by both. */
  LEDGER_NOTE_KEY_PREVIOUS: z.string().optional(),
  /** What GET /ledger/key serves, when pinned (`<name>+<id>+<key>`); else the key the worker recorded. */
  LEDGER_VERIFIER_KEY: z
    .string()
    .refine((k) => {
      try {
        parseVerifierKey(k);
        return true;
      } catch {
        return false;
      }
    }, 'LEDGER_VERIFIER_KEY must be a note verifier key <name>+<hex id>+<base64 key>')
    .optional(),
  /**
   * The BullMQ queue between relay and worker. By default named after the databases it
   * serves, so two hubs sharing one Redis (two test runs, a reset `.data/`) never append
   * each other's events to their ledgers.
   */
  LEDGER_QUEUE: z.string().regex(/^[A-Za-z0-9_-]+$/, 'LEDGER_QUEUE must be a plain name').optional(),
  /** Most events per database transaction (the worker takes whole jobs of up to 500 events each until it has this many). */
  LEDGER_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
  LEDGER_RELAY_INTERVAL_MS: ms.default(500),
  /** How long a relayed event may be missing from the ledger before the relay queues it again (Redis lost it). */
  LEDGER_CONFIRM_AFTER_MS: ms.default(30_000),
  /** The least time between two checkpoints. */
  LEDGER_CHECKPOINT_INTERVAL_MS: ms.default(1000),
  /** How long a killed worker's jobs stay locked before they come back to the queue (the holder renews its locks every half of it). */
  LEDGER_LOCK_DURATION_MS: ms.default(2_000),
  /** How often every worker moves jobs whose lock expired back to the queue. */
  LEDGER_STALLED_INTERVAL_MS: ms.default(500),
  /** How often a worker without the append lease tries to take it, and the holder confirms it still has it (pipeline/worker.ts). */
  LEDGER_LEASE_POLL_MS: ms.default(1_000),
  /** SQLite: a lease not renewed for this long is free; PostgreSQL: the lease connection's idle_session_timeout (a vanished host). */
  LEDGER_LEASE_TTL_MS: ms.default(2_500),
  /**
   * Where the ledger process serves GET /healthz and GET /metrics (common/metrics
   * ownPortEndpoints), bound to METRICS_HOST; unset: no listener (`npm start` gives it
   * 9406). 0 picks a free port, logged at start.
   */
  LEDGER_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /**
   * Witnesses that cosign each checkpoint (C2SP tlog-witness): `<cosigner verifier
   * key>@<base URL>`, comma-separated; each answers at `<base URL>/add-checkpoint`.
   */
  LEDGER_WITNESSES: z
    .string()
    .default('')
    .transform((value, ctx): WitnessEndpoint[] => {
      try {
        return parseWitnessList(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** How long a checkpoint waits for the witnesses; one that has not answered by then is asked again with the next checkpoint. */
  LEDGER_WITNESS_TIMEOUT_MS: ms.default(2_000),
  /** The databases whose outboxes the relay drains: every subgraph's, the consent database's and the gateway's identity database's. */
  LEDGER_SOURCES: z
    .string()
    .default([...SUBGRAPH_NAMES, 'consent', 'identity'].join(','))
    .transform((list) => list.split(',').map((s) => s.trim()).filter(Boolean)),
  /** Read only for the production rules below. */
  NODE_ENV: z.string().optional(),
}).superRefine((settings, ctx) => {
  // In production a witness is reached over https, or plain http on this host only
  // (common/production.ts): over plain http anyone on the path can drop or delay every
  // cosignature (forging one needs the witness's key: the publisher checks each), so
  // checkpoints would go out unwitnessed without anyone deciding so, and sees what the
  // hub submits. Checked here, where the list is read,
  // so the gateway and the ledger worker refuse the same settings (both read them).
  if (settings.NODE_ENV !== 'production') return;
  for (const w of settings.LEDGER_WITNESSES) {
    const problem = plainHttpProblem(`witness ${w.verifier.name}`, w.baseUrl, 'anyone on the path can drop or delay its cosignatures');
    if (problem) ctx.addIssue({ code: 'custom', path: ['LEDGER_WITNESSES'], message: problem });
  }
});

export type LedgerEnv = z.infer<typeof LedgerEnvSchema> & { LEDGER_QUEUE: string };

/** `ledger-<first 12 hex of SHA-256 of DATABASE_URL, or of DATA_DIR>`. */
export function defaultQueueName(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): string {
  return `ledger-${createHash('sha256').update(env.DATABASE_URL ?? path.resolve(env.DATA_DIR)).digest('hex').slice(0, 12)}`;
}

/**
 * The queue of the hub whose databases `env` names: LEDGER_QUEUE when set, else named
 * after those databases — for a process (a test's in-process gateway) whose databases are
 * not the ones in process.env.
 */
export function ledgerQueueOf(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>, source: NodeJS.ProcessEnv = process.env): string {
  return source.LEDGER_QUEUE ? readLedgerEnv(source).LEDGER_QUEUE : defaultQueueName(env);
}

export function readLedgerEnv(source: NodeJS.ProcessEnv = process.env): LedgerEnv {
  const parsed = LedgerEnvSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid ledger configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, LEDGER_QUEUE: parsed.data.LEDGER_QUEUE ?? defaultQueueName(readEnv(source)) };
}
