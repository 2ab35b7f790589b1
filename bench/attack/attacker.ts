/**
 * The attacker of the hostile-traffic benchmark, in its own process so that it competes
 * with the hub for the CPU as a real attacker on the same machine would, without sharing
 * an event loop with the load generator whose latencies are measured.
 *
 * Receives {url, token, seconds, connections} over IPC, runs every kind of the attack mix
 * at once, each as fast as autocannon goes on loopback with its connections, and answers
 * with each kind's count of answers by HTTP status and its latency percentiles.
 */
import autocannon from 'autocannon';
import { ATTACK_KINDS, attackRequest, type AttackKind } from './mix';

export interface AttackerConfig {
  url: string;
  token: string;
  seconds: number;
  connections: number;
}

export interface KindResult {
  kind: AttackKind;
  requests: number;
  rps: number;
  statuses: Record<string, number>;
  errors: number;
  p50: number;
  p99: number;
}

async function run(kind: AttackKind, config: AttackerConfig): Promise<KindResult> {
  const req = attackRequest(kind, config.token);
  const result = await autocannon({
    url: config.url + req.path,
    method: 'POST',
    connections: config.connections,
    duration: config.seconds,
    body: req.body,
    headers: req.headers,
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = (stat as { count?: number }).count ?? 0;
  return { kind, requests: result.requests.total, rps: result.requests.average, statuses, errors: result.errors + result.timeouts, p50: result.latency.p50, p99: result.latency.p99 };
}

process.once('message', (config: AttackerConfig) => {
  process.send!({ started: true });
  Promise.all(ATTACK_KINDS.map((kind) => run(kind, config))).then(
    (results) => process.send!({ results }, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`attacker failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
});
