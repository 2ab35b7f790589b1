/**
 * Our gateway beside Hive Gateway (hive-gateway.ts) on the same hub, same query, same load.
 *
 * Order matters more than either gateway here: on 2 cores the hub keeps getting faster for
 * a minute or more after it starts (measured, our gateway alone, 10 s runs back to back on a
 * fresh hub: 118, 170, 187 req/s, and 196, 203 a minute later), so whichever gateway is
 * timed first looks 20–35 % slower (timed back to back, 10 s each, after 2 s warm-ups, the
 * second was the faster in either order). So:
 *  1. Hive's answers must equal ours, byte for byte and without errors, for the first
 *     patients of the list, before anything is timed;
 *  2. Hive is warmed up as long as ours was before its own timed run (2 s + SECONDS);
 *  3. the two are timed in interleaved slices, ours/Hive/Hive/ours twice (ABBA ABBA, by
 *     ../interleave.ts), so a steady drift weighs on both alike; each side's slices are
 *     merged (requests over time; latencies merged exactly, not averaged);
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

export interface PeerComparison {
  ours: LoadResult;
  hive: LoadResult;
  /** ours / Hive, over the merged slices. */
  throughputRatio: number;
  p50Ratio: number;
  /** ours / Hive for each adjacent pair of slices: the spread of the ratio in this run. */
  pairThroughputRatios: number[];
  sliceSeconds: number;
  order: ('ours' | 'hive')[];
  warmupSeconds: number;
  answersCompared: number;
  statementsPerRequest: { ours: number; hive: number };
  errorFree: boolean;
}

const SIDES = ['ours', 'hive'] as const;
/** Rounds of ours/Hive/Hive/ours. */
const ROUNDS = 2;

/** The versions the peer runs with, as installed (package.json pins them). */
export function peerVersions(): Record<string, string> {
  const req = createRequire(path.join(projectRoot(), 'package.json'));
  const version = (name: string) => (req(`${name}/package.json`) as { version: string }).version;
  return {
    '@graphql-hive/gateway-runtime': version('@graphql-hive/gateway-runtime'),
    '@graphql-mesh/transport-http': version('@graphql-mesh/transport-http'),
  };
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

export async function comparePeer(options: {
  subgraphs: Record<SubgraphName, string>;
  /** The hub's METRICS_TOKEN, to read the subgraphs' /metrics. */
  metricsToken: string;
  ours: string;
  hive: string;
  requests: BenchRequest[];
  seconds: number;
  connections: number;
  /** How many of the requests to compare answer for answer before timing. */
  compare?: number;
}): Promise<PeerComparison> {
  const { subgraphs, requests, seconds, connections, metricsToken } = options;
  const url = { ours: options.ours, hive: options.hive };
  const label = { ours: 'ours, interleaved with Hive', hive: `Hive Gateway ${peerVersions()['@graphql-hive/gateway-runtime']}, interleaved` };

  const compared = requests.slice(0, options.compare ?? 10);
  for (const r of compared) {
    const ours = await answer(url.ours, r.body, r.headers);
    const hive = await answer(url.hive, r.body, r.headers);
    if (hive !== ours) throw new Error(`Hive Gateway's answer differs from ours for ${r.body}:\nours ${ours}\nhive ${hive}`);
  }

  const warmupSeconds = 2 + seconds;
  const sliceSeconds = seconds / 2;
  process.stdout.write(`load: ${label.hive}: warm-up ${warmupSeconds} s, as ours had... then ${ROUNDS * 4} slices of ${sliceSeconds} s (ours hive hive ours, ${ROUNDS} times)... `);
  const statements = { ours: 0, hive: 0 };
  const run = await interleave(
    [
      // Ours is warm: it was timed already on this hub.
      { name: label.ours, url: url.ours, requests: () => requests, warmupSeconds: 0 },
      { name: label.hive, url: url.hive, requests: () => requests, warmupSeconds },
    ],
    {
      sliceSeconds,
      rounds: ROUNDS,
      warmupSeconds,
      connections,
      async around(i, slice) {
        const before = await subgraphStatements(subgraphs, metricsToken);
        const result = await slice();
        statements[SIDES[i]!] += (await subgraphStatements(subgraphs, metricsToken)) - before;
        return result;
      },
    },
  );
  const [ours, hive] = run.results as [LoadResult, LoadResult];
  const [oursSlices, hiveSlices] = run.slices as [LoadResult[], LoadResult[]];
  console.log(`${Math.round(ours.rps)} vs ${Math.round(hive.rps)} req/s`);
  return {
    ours,
    hive,
    throughputRatio: ours.rps / hive.rps,
    p50Ratio: ours.p50 / hive.p50,
    // The i-th slice of each side sit next to each other in ABBA order.
    pairThroughputRatios: oursSlices.map((o, i) => o.rps / hiveSlices[i]!.rps),
    sliceSeconds,
    order: run.order.map((i) => SIDES[i]!),
    warmupSeconds,
    answersCompared: compared.length,
    statementsPerRequest: { ours: statements.ours / ours.requests, hive: statements.hive / hive.requests },
    errorFree: [ours, hive].every((r) => r.errors + r.non2xx + r.graphqlErrors === 0),
  };
}
