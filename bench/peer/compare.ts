/**
 * The gateway's executor combinations side by side (peer/gateways.ts): Apollo Gateway,
 * Hive Gateway, and Hive Gateway with the Rust query planner — each the product's own
 * gateway process on the same hub, same query, same load.
 *
 * Order matters more than any of them here: on 2 cores the hub keeps getting faster for a
 * minute or more after it starts (measured, one gateway alone, 10 s runs back to back on a
 * fresh hub: 118, 170, 187 req/s, and 196, 203 a minute later), so whichever is timed first
 * looks 20–35 % slower. So:
 *  1. every combination's answers must equal the first's, byte for byte and without
 *     errors, for the first patients of the list, before anything is timed;
 *  2. each is warmed up alike;
 *  3. they are timed in interleaved slices, ABC CBA twice (../interleave.ts), so a steady
 *     drift weighs on all alike; each side's slices are merged (requests over time;
 *     latencies merged exactly, not averaged);
 *  4. every answer under load is checked for GraphQL errors, and the subgraphs' SQL
 *     statements per request are counted for each side: the same work, not just the same
 *     status codes.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { SubgraphName } from '../../common/config';
import { projectRoot } from '../../common/paths';
import { interleave } from '../interleave';
import type { BenchRequest, LoadResult } from '../load';

export interface Side {
  name: string;
  url: string;
}

export interface PeerComparison {
  /** Each side's slices merged, in the order given (the first is the reference). */
  results: (LoadResult & { side: string })[];
  /** Each side's throughput over the first side's, over the merged slices. */
  throughputRatios: Record<string, number>;
  p50Ratios: Record<string, number>;
  /** For each side, its throughput over the reference's in each adjacent pair of slices: the spread in this run. */
  pairThroughputRatios: Record<string, number[]>;
  sliceSeconds: number;
  order: string[];
  warmupSeconds: number;
  answersCompared: number;
  statementsPerRequest: Record<string, number>;
  errorFree: boolean;
}

/** Rounds of ABC CBA. */
const ROUNDS = 2;

/** The versions the executors run with, as installed (package.json pins them). */
export function executorVersions(): Record<string, string> {
  const req = createRequire(path.join(projectRoot(), 'package.json'));
  const version = (name: string) => (req(`${name}/package.json`) as { version: string }).version;
  const names = ['@apollo/gateway', '@graphql-hive/gateway-runtime', '@graphql-mesh/transport-http', '@graphql-hive/router-runtime', '@graphql-hive/router-query-planner'];
  return Object.fromEntries(names.map((n) => [n, version(n)]));
}

/** SQL statements the subgraphs have sent so far, summed over their /metrics. */
export async function subgraphStatements(subgraphs: Record<SubgraphName, string>, metricsToken: string): Promise<number> {
  let total = 0;
  for (const url of Object.values(subgraphs)) {
    const text = await (await fetch(url.replace(/\/graphql$/, '/metrics'), { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    for (const m of text.matchAll(/^custodian_db_queries_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  }
  return total;
}

async function answer(url: string, body: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  const parsed = JSON.parse(text) as { data?: unknown; errors?: unknown };
  if (!res.ok || parsed.errors || !parsed.data) throw new Error(`benchmark query failed at ${url} (HTTP ${res.status}): ${text.slice(0, 2000)}`);
  return JSON.stringify(parsed); // key order kept: the answers must match field for field
}

export async function compareGateways(options: {
  subgraphs: Record<SubgraphName, string>;
  /** The hub's METRICS_TOKEN, to read the subgraphs' /metrics. */
  metricsToken: string;
  sides: readonly Side[];
  requests: BenchRequest[];
  warmupSeconds: number;
  sliceSeconds: number;
  connections: number;
  /** How many of the requests to compare answer for answer before timing. */
  compare?: number;
}): Promise<PeerComparison> {
  const { subgraphs, sides, requests, warmupSeconds, sliceSeconds, connections, metricsToken } = options;
  const [reference, ...others] = sides;
  if (!reference) throw new Error('compareGateways: no sides');

  const compared = requests.slice(0, options.compare ?? 10);
  for (const r of compared) {
    const expected = await answer(reference.url, r.body, r.headers);
    for (const side of others) {
      const got = await answer(side.url, r.body, r.headers);
      if (got !== expected) throw new Error(`${side.name}'s answer differs from ${reference.name}'s for ${r.body}:\n${reference.name} ${expected}\n${side.name} ${got}`);
    }
  }

  process.stdout.write(
    `load: ${sides.map((s) => s.name).join(', ')}: warm-up ${warmupSeconds} s each, then ${ROUNDS * 2 * sides.length} interleaved slices of ${Number(sliceSeconds.toFixed(1))} s (${connections} connections)... `,
  );
  const statements = sides.map(() => 0);
  const run = await interleave(
    sides.map((s) => ({ name: `gateway: ${s.name}, interleaved`, url: s.url, requests: () => requests })),
    {
      sliceSeconds,
      rounds: ROUNDS,
      warmupSeconds,
      connections,
      async around(i, slice) {
        const before = await subgraphStatements(subgraphs, metricsToken);
        const result = await slice();
        statements[i] += (await subgraphStatements(subgraphs, metricsToken)) - before;
        return result;
      },
    },
  );
  const results = run.results.map((r, i) => ({ ...r, side: sides[i]!.name }));
  console.log(results.map((r) => `${r.side} ${Math.round(r.rps)}`).join(', ') + ' req/s');
  const ref = results[0]!;
  // In ABC CBA order the i-th slices of any two sides sit next to each other within one pass.
  const refSlices = run.slices[0]!;
  return {
    results,
    throughputRatios: Object.fromEntries(results.map((r) => [r.side, r.rps / ref.rps])),
    p50Ratios: Object.fromEntries(results.map((r) => [r.side, r.p50 / ref.p50])),
    pairThroughputRatios: Object.fromEntries(results.map((r, i) => [r.side, run.slices[i]!.map((s, k) => s.rps / refSlices[k]!.rps)])),
    sliceSeconds,
    order: run.order.map((i) => sides[i]!.name),
    warmupSeconds,
    answersCompared: compared.length,
    statementsPerRequest: Object.fromEntries(results.map((r, i) => [r.side, statements[i]! / r.requests])),
    errorFree: results.every((r) => r.errors + r.non2xx + r.graphqlErrors === 0),
  };
}
