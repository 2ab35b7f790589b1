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
  /** Warm-up before the first slice, when not the common one (0: already warm). */
  warmupSeconds?: number;
}

export interface Interleaved {
  /** Each scenario's slices merged. */
  results: LoadResult[];
  /** Each scenario's slices, in the order they ran. */
  slices: LoadResult[][];
  sliceSeconds: number;
  /** Scenario indexes in the order their slices ran. */
  order: number[];
}

export async function interleave(
  scenarios: readonly Scenario[],
  opts: {
    sliceSeconds: number;
    rounds: number;
    warmupSeconds: number;
    connections: number;
    /** Open-loop load at this rate (requests a second) instead of as fast as answers come. */
    overallRate?: number;
    around?: (index: number, slice: () => Promise<LoadResult>) => Promise<LoadResult>;
  },
): Promise<Interleaved> {
  for (const s of scenarios) {
    const seconds = s.warmupSeconds ?? opts.warmupSeconds;
    if (seconds > 0) await load(s.name, s.url, await s.requests(), seconds, opts.connections, undefined, opts.overallRate); // not recorded
  }
  const forward = scenarios.map((_, i) => i);
  const order: number[] = [];
  for (let r = 0; r < opts.rounds; r++) order.push(...forward, ...[...forward].reverse());
  const slices = scenarios.map(() => [] as LoadResult[]);
  const latencies = scenarios.map(() => [] as number[]);
  for (const i of order) {
    const s = scenarios[i]!;
    const requests = await s.requests();
    const slice = () => load(s.name, s.url, requests, opts.sliceSeconds, opts.connections, latencies[i], opts.overallRate);
    slices[i]!.push(await (opts.around ? opts.around(i, slice) : slice()));
  }
  return { results: scenarios.map((s, i) => mergeRuns(s.name, slices[i]!, latencies[i]!)), slices, sliceSeconds: opts.sliceSeconds, order };
}

/** Per round (one pass each way: two slices of each scenario), each scenario's mean throughput. */
export function roundThroughputs(run: Interleaved): number[][] {
  const rounds = run.slices[0]!.length / 2;
  return Array.from({ length: rounds }, (_, r) => run.slices.map((runs) => mean(runs.slice(2 * r, 2 * r + 2).map((x) => x.rps))));
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
