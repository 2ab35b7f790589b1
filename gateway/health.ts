/**
 * `/healthz`: the gateway is healthy when every subgraph answers its own `/healthz`
 * (which checks its database) within a short timeout. The public answer is only up or
 * down; the list (names, URLs, latencies, errors) is for operators (common/metrics.ts).
 * One check serves every caller for a second, so a flood of health checks is not a
 * flood of subgraph requests.
 */
import type { Health } from '../common/metrics';

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

/** checkSubgraphs, shared by concurrent callers and reused for `ttlMs`. */
export function cachedHealth(urls: Record<string, string>, ttlMs = 1000): () => Promise<Health> {
  let last: { at: number; health: Promise<Health> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ttlMs) {
      const health = checkSubgraphs(urls).then((h) => ({ up: h.status === 'ok', detail: { subgraphs: h.subgraphs } }));
      last = { at: now, health };
    }
    return last.health;
  };
}
