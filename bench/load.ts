/**
 * One load run with autocannon over loopback: a fixed number of connections for a fixed
 * time, POSTing GraphQL bodies in rotation. Returns throughput and latency percentiles.
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
}

export interface BenchRequest {
  body: string;
  headers: Record<string, string>;
}

export async function load(name: string, url: string, requests: BenchRequest[], seconds: number, connections: number): Promise<LoadResult> {
  let n = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (req) => {
          const next = requests[n++ % requests.length]!;
          return { ...req, body: next.body, headers: { ...req.headers, 'content-type': 'application/json', ...next.headers } };
        },
      },
    ],
  });
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
  };
}
