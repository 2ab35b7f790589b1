/**
 * One load run with autocannon over loopback: a fixed number of connections for a fixed
 * time, POSTing GraphQL bodies in rotation. Returns throughput and latency percentiles,
 * and how many answers carried GraphQL errors (an HTTP 200 can: a gateway that answers
 * errors fast must not pass for a fast gateway).
 */
import autocannon from 'autocannon';

export interface LoadResult {
  name: string;
  url: string;
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Answers with a top-level `errors` entry (GraphQL errors, whatever the HTTP status). */
  graphqlErrors: number;
}

export interface BenchRequest {
  body: string;
  headers: Record<string, string>;
  /** A GET of this path (and query) on the load's URL instead of a POST of `body` (the FHIR API). */
  get?: string;
}

/**
 * `latencies`, when given, receives each 2xx answer's latency in whole milliseconds, as
 * autocannon's own histogram records it, so that several runs can be merged exactly.
 */
export async function load(
  name: string,
  url: string,
  requests: BenchRequest[],
  seconds: number,
  connections: number,
  latencies?: number[],
  /** Open loop: this many requests a second in all, whatever the answers' latency. */
  overallRate?: number,
): Promise<LoadResult> {
  let n = 0;
  const run = autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    verifyBody: (body) => typeof body === 'string' && !body.includes('"errors":'),
    requests: [
      {
        setupRequest: (req) => {
          const next = requests[n++ % requests.length]!;
          if (next.get !== undefined) return { ...req, method: 'GET', path: next.get, body: undefined, headers: { ...req.headers, ...next.headers } };
          return { ...req, body: next.body, headers: { ...req.headers, 'content-type': 'application/json', ...next.headers } };
        },
      },
    ],
  });
  // The instance is also an event emitter; 'response' passes (client, statusCode, resBytes,
  // responseTime) — @types/autocannon leaves out the client.
  if (latencies) {
    (run as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.push(Math.floor(ms));
    });
  }
  const result = await run;
  return {
    name,
    url,
    connections,
    seconds,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
  };
}

/** The exact percentile of whole-millisecond latencies (hdr-histogram's definition). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Several runs of one scenario as one: summed time and requests, latencies merged. */
export function mergeRuns(name: string, runs: readonly LoadResult[], latencies: readonly number[]): LoadResult {
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  const sum = (f: (r: LoadResult) => number) => runs.reduce((s, r) => s + f(r), 0);
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    name,
    url: runs[0]!.url,
    connections: runs[0]!.connections,
    seconds,
    requests: sum((r) => r.requests),
    rps: sum((r) => r.rps * r.seconds) / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    errors: sum((r) => r.errors),
    non2xx: sum((r) => r.non2xx),
    graphqlErrors: sum((r) => r.graphqlErrors),
  };
}
