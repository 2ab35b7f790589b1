/**
 * `/healthz`: the gateway is healthy when every subgraph answers its own `/healthz`
 * (which checks its database) within a short timeout, Redis answers, its identity
 * database and the ledger database answer, and the ledger keeps up (ledgerFreshness).
 * The public answer is only up or down; the detail (names, URLs, latencies, errors, the
 * ledger's progress) is for operators (common/metrics/operator.ts). One check serves
 * every caller for a second, so a flood of health checks is not a flood of probes.
 */
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import type { Logger } from '../common/logger';
import type { Health } from '../common/metrics';
import { databaseAnswers, depthTotal, probe, queueDepth, treeState, type QueueDepth } from '../ledger/pipeline/observe';
import { createLedgerQueue } from '../ledger/pipeline/queue';

export interface SubgraphHealth {
  status: 'up' | 'down';
  url: string;
  latencyMs: number;
  error?: string;
}

export interface HubHealth {
  status: 'ok' | 'degraded';
  subgraphs: Record<string, SubgraphHealth>;
}

const TIMEOUT_MS = 2_000;

export function healthUrl(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  url.pathname = url.pathname.replace(/\/graphql\/?$/, '') + '/healthz';
  return url.toString();
}

export async function checkSubgraphs(urls: Record<string, string>): Promise<HubHealth> {
  const entries = await Promise.all(
    Object.entries(urls).map(async ([name, url]): Promise<[string, SubgraphHealth]> => {
      const started = performance.now();
      try {
        const res = await fetch(healthUrl(url), { signal: AbortSignal.timeout(TIMEOUT_MS) });
        const latencyMs = Math.round(performance.now() - started);
        return [name, res.ok ? { status: 'up', url, latencyMs } : { status: 'down', url, latencyMs, error: `HTTP ${res.status}` }];
      } catch (err) {
        const latencyMs = Math.round(performance.now() - started);
        const error = err instanceof Error ? (err.name === 'TimeoutError' ? 'timeout' : err.message) : String(err);
        return [name, { status: 'down', url, latencyMs, error }];
      }
    }),
  );
  const subgraphs = Object.fromEntries(entries);
  return { status: entries.every(([, h]) => h.status === 'up') ? 'ok' : 'degraded', subgraphs };
}

/** Settings of the gateway's health, read from the environment (zod) beside common/config.ts. */
const HealthEnvSchema = z.object({
  /**
   * How long events may wait without a new checkpoint before the gateway says it is
   * down (see ledgerFreshness); 0 turns the check off.
   */
  HEALTH_MAX_CHECKPOINT_AGE_SECONDS: z.coerce.number().min(0).default(120),
});

export interface HealthSettings {
  maxCheckpointAgeSeconds: number;
}

export function readHealthSettings(source: NodeJS.ProcessEnv = process.env): HealthSettings {
  const parsed = HealthEnvSchema.safeParse(source);
  if (!parsed.success) throw new Error(`Invalid health configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return { maxCheckpointAgeSeconds: parsed.data.HEALTH_MAX_CHECKPOINT_AGE_SECONDS };
}

/**
 * Is the ledger keeping up? An idle ledger with an old checkpoint is healthy: nothing
 * waits, so nothing is unproven. What is unhealthy is events waiting — jobs in the queue,
 * or leaves the latest checkpoint does not cover — for longer than the bound without a
 * new checkpoint. "Waiting since" is when this gateway first saw events waiting after the
 * latest checkpoint (so an event arriving after an idle hour does not make the old
 * checkpoint count against it); stale is now − max(latest checkpoint, waiting since) over
 * the bound. What this cannot see: rows still in the subgraphs' outboxes when no relay
 * runs (the ledger process's own /healthz and its custodian_ledger_outbox_* gauges show
 * those).
 */
export function ledgerFreshness(ledgerDb: DataSource, maxAgeSeconds: number) {
  let waitingSince: { checkpointSize: number; at: number } | undefined;
  /**
   * `depth`: the queue's, as the Redis probe of the same check read it — one reading for
   * both, so a slow Redis cannot answer the probe and then, timed out, look like an empty
   * queue here. Null (unreadable): whether events wait cannot be told, so not fresh.
   */
  return async (depth: QueueDepth | null): Promise<{ fresh: boolean; detail: Record<string, unknown> }> => {
    const now = Date.now();
    const tree = await treeState(ledgerDb);
    const covered = tree.checkpoint?.size ?? 0;
    const queued = depth ? depthTotal(depth) : 0;
    const waiting = queued > 0 || tree.treeSize > covered;
    if (!waiting) waitingSince = undefined;
    else if (!waitingSince || waitingSince.checkpointSize !== covered) waitingSince = { checkpointSize: covered, at: now };
    const checkpointAgeSeconds = tree.checkpoint ? (now - tree.checkpoint.publishedAt.getTime()) / 1000 : null;
    const waitedSeconds = waitingSince ? (now - Math.max(waitingSince.at, tree.checkpoint?.publishedAt.getTime() ?? 0)) / 1000 : 0;
    const fresh = maxAgeSeconds === 0 || (depth !== null && waitedSeconds <= maxAgeSeconds);
    return {
      fresh,
      detail: {
        status: depth === null && maxAgeSeconds !== 0 ? 'unknown' : fresh ? 'up' : 'stale',
        treeSize: tree.treeSize,
        checkpointSize: covered,
        checkpointAgeSeconds: checkpointAgeSeconds === null ? null : Math.round(checkpointAgeSeconds),
        queued: depth ? queued : null,
        waitedSeconds: Math.round(waitedSeconds),
        maxCheckpointAgeSeconds: maxAgeSeconds,
        ...(fresh ? {} : depth === null ? { reason: 'the ledger queue could not be read: whether events wait is unknown' } : { reason: `events have waited ${Math.round(waitedSeconds)} s without a new checkpoint (HEALTH_MAX_CHECKPOINT_AGE_SECONDS=${maxAgeSeconds})` }),
      },
    };
  };
}

export interface HubHealthDeps {
  /** Subgraph GraphQL URLs by name. */
  urls: Record<string, string>;
  /** The gateway's own identity database and the ledger database it reads. */
  identityDb: DataSource;
  ledgerDb: DataSource;
  redisUrl: string;
  /** The ledger queue (LEDGER_QUEUE): its depth says whether events wait; counting it is the Redis probe. */
  queueName: string;
  settings: HealthSettings;
  log: Logger;
}

/**
 * The gateway's health: down when a subgraph, Redis, the identity or the ledger database
 * does not answer, or the ledger is stale (ledgerFreshness). The detail says which and
 * why; the public answer only up or down.
 */
export function hubHealth({ urls, identityDb, ledgerDb, redisUrl, queueName, settings, log }: HubHealthDeps): { check: () => Promise<Health>; close(): Promise<void> } {
  let warned = false;
  const queue = createLedgerQueue(queueName, redisUrl, (err) => {
    if (!warned) log.warn({ err: err.message }, 'health: Redis unavailable');
    warned = true;
  });
  const freshness = ledgerFreshness(ledgerDb, settings.maxCheckpointAgeSeconds);
  const check = async (): Promise<Health> => {
    let depth: QueueDepth | null = null;
    const [hub, redis, identity, ledger] = await Promise.all([
      checkSubgraphs(urls),
      probe(async () => (depth = await queueDepth(queue))),
      probe(() => databaseAnswers(identityDb)),
      probe(() => databaseAnswers(ledgerDb)),
    ]);
    const fresh = ledger === 'up' ? await freshness(depth).catch((err: unknown) => ({ fresh: false, detail: { status: 'unknown', reason: String(err) } })) : { fresh: false, detail: { status: 'unknown' } };
    const up = hub.status === 'ok' && redis === 'up' && identity === 'up' && ledger === 'up' && fresh.fresh;
    return { up, detail: { subgraphs: hub.subgraphs, redis, databases: { identity, ledger }, ledgerProgress: fresh.detail } };
  };
  return {
    check: shared(check),
    close: () => queue.close(),
  };
}

/** `check`, shared by concurrent callers and reused for `ttlMs`: a flood of health checks is not a flood of probes. */
export function shared(check: () => Promise<Health>, ttlMs = 1000): () => Promise<Health> {
  let last: { at: number; health: Promise<Health> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ttlMs) last = { at: now, health: check() };
    return last.health;
  };
}

/** checkSubgraphs alone, shared by concurrent callers and reused for `ttlMs`. */
export function cachedHealth(urls: Record<string, string>, ttlMs = 1000): () => Promise<Health> {
  return shared(() => checkSubgraphs(urls).then((h) => ({ up: h.status === 'ok', detail: { subgraphs: h.subgraphs } })), ttlMs);
}
