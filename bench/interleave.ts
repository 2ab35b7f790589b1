/**
 * Several scenarios timed side by side: in short slices, in a palindromic order (ABC CBA
 * ABC CBA), so that the hub's drift — on 2 cores it keeps getting faster for a minute or
 * more after it starts — weighs on every scenario alike. Each scenario's slices are merged
 * into one result (requests over time; latencies merged exactly, not averaged).
 */
import { load, mergeRuns, type BenchRequest, type LoadResult } from './load';

export interface Scenario {
  name: string;
  url: string;
  /** Called before each slice: requests may carry short-lived tokens. */
  requests: () => Promise<BenchRequest[]> | BenchRequest[];
}

export interface Interleaved {
  results: LoadResult[];
  sliceSeconds: number;
  /** Scenario indexes in the order their slices ran. */
  order: number[];
  /** Per round (one pass in each direction), each scenario's throughput: for the spread of a ratio. */
  rounds: number[][];
}

export async function interleave(
  scenarios: readonly Scenario[],
  opts: { sliceSeconds: number; rounds: number; warmupSeconds: number; connections: number; around?: (index: number, slice: () => Promise<LoadResult>) => Promise<LoadResult> },
): Promise<Interleaved> {
  for (const s of scenarios) await load(s.name, s.url, await s.requests(), opts.warmupSeconds, opts.connections); // not recorded
  const forward = scenarios.map((_, i) => i);
  const order: number[] = [];
  for (let r = 0; r < opts.rounds; r++) order.push(...forward, ...[...forward].reverse());
  const slices = scenarios.map(() => [] as LoadResult[]);
  const latencies = scenarios.map(() => [] as number[]);
  for (const i of order) {
    const s = scenarios[i]!;
    const requests = await s.requests();
    const slice = () => load(s.name, s.url, requests, opts.sliceSeconds, opts.connections, latencies[i]);
    slices[i]!.push(await (opts.around ? opts.around(i, slice) : slice()));
  }
  const perRound = 2;
  const rounds = Array.from({ length: opts.rounds }, (_, r) => slices.map((runs) => mean(runs.slice(r * perRound, (r + 1) * perRound).map((x) => x.rps))));
  return { results: scenarios.map((s, i) => mergeRuns(s.name, slices[i]!, latencies[i]!)), sliceSeconds: opts.sliceSeconds, order, rounds };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
