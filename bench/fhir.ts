/**
 * `BENCH_ONLY=fhir`: FHIR `Observation?patient=<id>&category=laboratory` beside the
 * equivalent GraphQL query (the same selection the FHIR module sends) through the same
 * gateway of one hub, in interleaved slices (interleave.ts), as one clinician reading
 * patients of their own institution. The ratio FHIR / GraphQL is the FHIR layer's cost:
 * identification, one in-process execution, the mapping and the Bundle. Goal ≥ 0.8.
 * About 20 s: a small seed, short warm-ups and slices.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../common/config';
import { freePort } from '../common/ports';
import { spawnHub } from '../cli/hub-process';
import { openIdentityDatabase } from '../gateway/identity/database';
import { User } from '../gateway/identity/entities';
import { seed } from '../seed/write';
import { interleave, roundThroughputs } from './interleave';
import type { BenchRequest, LoadResult } from './load';

/** What the FHIR module asks for a first page of laboratory Observations (fhir/resources/observation.ts). */
const LABS_QUERY = `query Labs($patient: ID!, $first: Int) {
  patient(id: $patient) {
    labResults(first: $first) { totalCount pageInfo { hasNextPage } edges { cursor node { id code { code display } value unit referenceRange { low high unit } interpretation status effectiveAt issuer { id } } } }
  }
}`;

export interface FhirBenchResult {
  fhir: LoadResult;
  graphql: LoadResult;
  ratio: number;
  perRound: number[];
}

export async function fhirBench(env: { DATABASE_URL?: string; REDIS_URL?: string }, connections: number): Promise<FhirBenchResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-bench-fhir-'));
  await seed({ patients: 200, seed: 42 }, { DATA_DIR: dataDir, DATABASE_URL: env.DATABASE_URL });
  const identityDb = await openIdentityDatabase({ DATA_DIR: dataDir, DATABASE_URL: env.DATABASE_URL } as never);
  const clinician = (await identityDb.getRepository(User).find({ where: { role: 'clinician' }, order: { username: 'ASC' }, take: 1 }))[0]!;
  await identityDb.destroy();
  const subgraphPorts = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) subgraphPorts[name] = await freePort();
  const hub = await spawnHub({ gateway: await freePort(), subgraphs: subgraphPorts }, { DATA_DIR: dataDir, LOG_LEVEL: 'error', RATE_LIMIT_GRAPHQL_PER_MINUTE: '100000000' });
  try {
    return await fhirBenchOnHub(hub.gateway, { authorization: `Bearer ${hub.token(clinician.username, 'read')}` }, connections);
  } finally {
    await hub.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The FHIR / GraphQL comparison on a running hub's gateway, as the caller `auth` names
 * (a clinician reading their institution's patients). `npm run bench` runs it on the hub
 * its gate on / off section already started; `BENCH_ONLY=fhir` on a small hub of its own.
 */
export async function fhirBenchOnHub(gatewayUrl: string, auth: { authorization: string }, connections: number): Promise<FhirBenchResult> {
  const list = await fetch(`${gatewayUrl}/fhir/R4/Patient?_count=50`, { headers: auth });
  const ids: string[] = ((await list.json()) as { entry: { resource: { id: string } }[] }).entry.map((e) => e.resource.id);
  if (!ids.length) throw new Error('no patients for the FHIR benchmark');
  const fhir: BenchRequest[] = ids.map((id) => ({ body: '', headers: { ...auth, accept: 'application/fhir+json' }, get: `/fhir/R4/Observation?patient=${id}&category=laboratory` }));
  const graphql: BenchRequest[] = ids.map((id) => ({ body: JSON.stringify({ query: LABS_QUERY, variables: { patient: id.replace('-', '_'), first: 20 } }), headers: auth }));
  // Each must answer before it is timed.
  const probe = await fetch(`${gatewayUrl}${fhir[0]!.get}`, { headers: fhir[0]!.headers });
  if (probe.status !== 200) throw new Error(`FHIR probe answered ${probe.status}: ${await probe.text()}`);
  const gql = (await (await fetch(`${gatewayUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: graphql[0]!.body })).json()) as { errors?: unknown };
  if (gql.errors) throw new Error(`GraphQL probe failed: ${JSON.stringify(gql.errors)}`);
  const run = await interleave(
    [
      { name: 'FHIR Observation?patient&category=laboratory', url: gatewayUrl, requests: () => fhir },
      { name: 'GraphQL patient.labResults (same selection)', url: `${gatewayUrl}/graphql`, requests: () => graphql },
    ],
    { sliceSeconds: 2, rounds: 2, warmupSeconds: 2, connections },
  );
  const [f, g] = run.results as [LoadResult, LoadResult];
  return { fhir: f, graphql: g, ratio: f.rps / g.rps, perRound: roundThroughputs(run).map((r) => r[0]! / r[1]!) };
}
