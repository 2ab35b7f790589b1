/**
 * `npm run bench`: measured side by side in one run, on this machine.
 *
 *  1. seed     — 10,000 patients into a fresh embedded database (the seed's speed).
 *  2. gateway  — the cross-subgraph patient query (demographics, latest labs, devices with
 *                readings, research projects) through the gateway, under concurrent load;
 *                timed side by side with (4) and (5) in interleaved slices on two hubs
 *                running at once (interleave.ts): on 2 cores a hub keeps getting faster
 *                for a minute after it starts, so back-to-back runs favour the later one.
 *  3. peer     — (2) through each executor the gateway offers (GATEWAY_EXECUTOR /
 *                GATEWAY_PLANNER: apollo, hive, hive+rust), three gateway processes of the
 *                product on the same subgraphs (peer/gateways.ts). Their answers must be
 *                equal before they are timed; then they are timed in interleaved slices,
 *                since order alone moves the figures more than the differences between
 *                them (peer/compare.ts). `BENCH_ONLY=peer` runs this and nothing else.
 *  4. floor    — the patients subgraph's share of that query sent straight to it: the
 *                cost of one subgraph with no gateway, planning or entity fetches.
 *  5. ungated  — (2) on a second hub, started with bench/ungated-preload.js: the consent gate's
 *                cost is the ratio of (2) to (5).
 *  6. consent   — the consent engine at 1,000,000 consents (consent-engine.ts).
 *  6b. hostile — normal clinician traffic alone and while an attack mix runs (fan-out,
 *                aliases, login flood, oversized bodies), interleaved, on a hub with the
 *                default limits: latencies, refusals, peak memory (attack/index.ts).
 *  7. ledger    — the outbox → BullMQ → worker → checkpoint pipeline end to end, beside
 *                BullMQ alone on the same Redis, commit-to-checkpoint latency, and
 *                inclusion proofs at 1,000,000 leaves (ledger/index.ts).
 *  8. fhir    — FHIR Observation?patient&category=laboratory beside the same GraphQL
 *                selection through (2)'s gateway, interleaved (fhir.ts), right after (2).
 *                `BENCH_ONLY=fhir` runs it alone on a small hub of its own.
 *  9. witnesses — checkpoint publication with two `custodian witness` processes against
 *                none, interleaved (ledger/witness.ts); `BENCH_ONLY=witness` alone.
 *  7b. keep-up — (2)'s hub loaded at full speed while its own ledger process keeps up:
 *                events/s produced, backlog, commit → checkpoint (ledger/keep-up.ts);
 *                with (7), the goals of issue 12. `BENCH_ONLY=ledger` runs the seed,
 *                one hub, this and (7) without the proofs, and nothing else.
 *  7c. tiles — C2SP tiles at 1,000,000 leaves: serving rate and latency, full
 *                verification from tiles against entry by entry, incremental
 *                verification of 10,000 new leaves (ledger/tiles.ts). `BENCH_ONLY=tiles`
 *                runs this alone.
 *
 * The caller is a clinician asking about patients of their own institution, for
 * TREATMENT: every answer is permitted, by the base policy, through the full gate.
 *
 * Prints a table and writes bench/results/<date>.json and bench/results/latest.json.
 * Loopback only, bounded in time (about three and a half minutes in all; the first run
 * builds the 1,000,000-leaf ledger, about 80 s more, and caches it under .data/bench/).
 */
import { ungatedHubEnv } from './ungated';
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SUBGRAPH_NAMES, readEnv, type SubgraphName } from '../common/config';
import { projectRoot } from '../common/paths';
import { freePort } from '../common/ports';
import { spawnHub } from '../cli/hub-process';
import { operationDigest, signIdentity, type Identity } from '../common/signed-identity';
import { openIdentityDatabase } from '../gateway/identity/database';
import { User } from '../gateway/identity/entities';
import { loadPrivateKey } from '../common/keys';
import { seed } from '../seed/write';
import { consentEngineBench } from './consent-engine';
import { ledgerBench, ledgerTable, type LedgerBenchResult } from './ledger';
import { witnessBench, witnessTable } from './ledger/witness';
import { keepUpRun, keepUpTable, keepUpVerdict, type KeepUpRun } from './ledger/keep-up';
import { tilesBench, tilesTable } from './ledger/tiles';
import { interleave, roundThroughputs, type Interleaved, type Scenario } from './interleave';
import type { BenchRequest, LoadResult } from './load';
import { compareGateways, executorVersions, type PeerComparison } from './peer/compare';
import { COMBINATIONS, spawnGateway, type GatewayProcess } from './peer/gateways';
import { PATIENT_VIEW } from './queries';
import { fhirBench, fhirBenchOnHub, type FhirBenchResult } from './fhir';
import { attackBench, attackTable, type AttackReport } from './attack';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
/** Gate on, gate off and the floor: warm-up each, then rounds of ABC CBA slices. */
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 4);
const SLICE_SECONDS = Number(process.env.BENCH_SLICE_SECONDS ?? 2);
const SLICE_ROUNDS = Number(process.env.BENCH_SLICE_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const SEED_PATIENTS = Number(process.env.BENCH_SEED_PATIENTS ?? 10_000);
/**
 * `BENCH_ONLY=gate` times gate on / gate off / floor and nothing else (for working on the
 * gate); `BENCH_ONLY=peer` the executor combinations and nothing else.
 */
const ONLY = process.env.BENCH_ONLY;
/** The keep-up load's length (7b). */
const KEEP_UP_SECONDS = Number(process.env.BENCH_LEDGER_LOAD_SECONDS ?? 10);

const PATIENT_FLOOR = `query PatientFloor($id: ID!) {
  patient(id: $id) { id name { text } birthDate sex identifiers { system value } institution { name } }
}`;

async function post(url: string, query: string, variables: object, headers: Record<string, string>): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body: any = await res.json();
  if (body.errors) throw new Error(`benchmark query failed at ${url}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i]!)).join('  ')).join('\n');
}

/** How long each section took, printed at the end: the whole run must stay under five minutes on 2 cores. */
const sections: [string, number][] = [];
let sectionStart = Date.now();
function section(name: string): void {
  const now = Date.now();
  sections.push([name, (now - sectionStart) / 1000]);
  sectionStart = now;
}

/** The executor combinations side by side: figures, ratios to the first (apollo), the same work. */
function peerTable(peer: PeerComparison): string {
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  const ref = peer.results[0]!.side;
  const rows = peer.results.map((r) => [
    r.side,
    Math.round(r.rps),
    r.p50,
    r.p99,
    peer.throughputRatios[r.side]!.toFixed(2),
    r.side === ref ? '' : spread(peer.pairThroughputRatios[r.side]!),
    peer.statementsPerRequest[r.side]!.toFixed(1),
  ]);
  return (
    table([['executor', 'req/s', 'p50 ms', 'p99 ms', `throughput / ${ref}`, 'per pair of slices', 'SQL per request'], ...rows]) +
    `\n  same query, same subgraphs, interleaved; answers equal for ${peer.answersCompared} patients before timing` +
    (peer.errorFree ? '' : '\n  WARNING: errors under load (see the table): this comparison is not valid')
  );
}

function machine(databaseUrl: string | undefined) {
  return { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, database: databaseUrl ? 'postgres' : 'sqlite' };
}

/**
 * bench/results/<date>.json and latest.json; a partial run (BENCH_ONLY=ledger) writes
 * <date>-<part>.json and latest-<part>.json, leaving the full run's latest.json alone.
 */
function writeReport(part: string | null, report: { at: string } & Record<string, unknown>): void {
  const dir = path.join(projectRoot(), 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const suffix = part ? `-${part}` : '';
  const file = path.join(dir, `${report.at.replace(/[:.]/g, '-')}${suffix}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, `latest${suffix}.json`), JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

/** The ledger's tables: the pipeline's figures, then whether it keeps up with the gateway. */
function printLedger(ledger: LedgerBenchResult, keepUp: KeepUpRun) {
  console.log('\n' + table(ledgerTable(ledger)));
  const raw = ledger.rawQueue.filter((q) => q.label === 'bullmq-worker');
  const rawMean = raw.reduce((s, q) => s + q.jobsPerSecond, 0) / Math.max(1, raw.length);
  const verdict = keepUpVerdict(keepUp, ledger.pipeline.eventsPerSecond, rawMean);
  console.log('\n' + table(keepUpTable(keepUp, verdict)));
  console.log(
    `\nledger end to end / BullMQ alone (one job per event, Worker, concurrency 1): ${ledger.ratios.pipelineOverRawBullmq.toFixed(2)}; ` +
      `/ LedgerWorker's fetch loop without a database: ${ledger.ratios.pipelineOverFetchLoop.toFixed(2)}` +
      (ledger.ratios.httpOverInProcessProofs !== undefined ? `; proofs over HTTP / in process: ${ledger.ratios.httpOverInProcessProofs.toFixed(2)}` : ''),
  );
  return verdict;
}

async function main(): Promise<void> {
  if (ONLY === 'witness') {
    // Publication latency with two witnesses against none (bench/ledger/witness.ts): needs no seeded hub.
    const started = Date.now();
    console.log(witnessTable(await witnessBench()));
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return;
  }
  const env = readEnv();
  if (ONLY === 'tiles') {
    // C2SP tiles at 1,000,000 leaves alone: no seed, no hub (ledger/tiles.ts).
    const tiles = await tilesBench();
    section('ledger tiles');
    console.log('\n' + table(tilesTable(tiles)));
    writeReport('tiles', { at: new Date().toISOString(), machine: machine(env.DATABASE_URL), ledgerTiles: tiles });
    console.log(`sections (s): ${sections.map(([n, t]) => `${n} ${t.toFixed(0)}`).join(', ')}`);
    return;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-bench-'));
  const dbEnv = { DATA_DIR: dataDir, DATABASE_URL: env.DATABASE_URL };
  console.log(`custodian bench: ${os.cpus().length} cores, node ${process.version}, ${env.DATABASE_URL ? 'PostgreSQL' : 'SQLite'}`);
  if (ONLY === 'fhir') {
    const fhir = await fhirBench(env, CONNECTIONS);
    console.log(table([['scenario', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'], ...[fhir.fhir, fhir.graphql].map((r) => [r.name, Math.round(r.rps), r.p50, r.p99, r.non2xx + r.graphqlErrors])]));
    console.log(`FHIR / GraphQL throughput: ${fhir.ratio.toFixed(2)} (per round ${fhir.perRound.map((r) => r.toFixed(2)).join(', ')}; goal >= 0.8)`);
    writeReport('fhir', { at: new Date().toISOString(), machine: machine(env.DATABASE_URL), fhir });
    return;
  }

  process.stdout.write(`seeding ${SEED_PATIENTS} patients... `);
  const seeded = await seed({ patients: SEED_PATIENTS, seed: 42 }, dbEnv);
  section('seed');
  console.log(`${seeded.seconds.toFixed(1)} s (${Math.round(seeded.rows / seeded.seconds)} rows/s)`);

  // A clinician of the first hospital, as the subgraphs will see them.
  const identityDb = await openIdentityDatabase(dbEnv);
  const clinician = (await identityDb.getRepository(User).find({ where: { role: 'clinician' }, order: { username: 'ASC' }, take: 1 }))[0]!;
  await identityDb.destroy();
  const asSeen: Identity = {
    subject: clinician.id,
    role: 'clinician',
    institutionId: clinician.institutionId,
    patientId: null,
    practitionerId: clinician.practitionerId,
    purpose: 'TREATMENT',
    scopes: ['read'],
    requestId: 'bench',
  };

  const results: LoadResult[] = [];
  let paired: PeerComparison | undefined;
  let sideBySide: Interleaved | undefined;
  let hostile: AttackReport | undefined;
  let keepUp: KeepUpRun | undefined;
  let fhir: FhirBenchResult | undefined;
  // Two hubs at once on the same data, one with the gate and one without, so that gate on,
  // gate off and the floor are timed side by side in interleaved slices (interleave.ts)
  // rather than one after the other on hubs of different ages.
  const startHub = async (gate: 'on' | 'off') => {
    const subgraphPorts = {} as Record<SubgraphName, number>;
    for (const name of SUBGRAPH_NAMES) subgraphPorts[name] = await freePort();
    // One clinician's token drives these scenarios at full speed (~150 req/s), far over
    // the per-principal default of 1,200 a minute: the limiter stays on (its Redis round
    // trip is part of what is timed), with a budget this load never reaches.
    return spawnHub(
      { gateway: await freePort(), subgraphs: subgraphPorts },
      { DATA_DIR: dataDir, LOG_LEVEL: 'error', RATE_LIMIT_GRAPHQL_PER_MINUTE: '100000000', ...(gate === 'off' ? ungatedHubEnv() : {}) },
    );
  };
  const gated = await startHub('on');
  let ungatedHub: Awaited<ReturnType<typeof startHub>> | undefined;
  let combinations: GatewayProcess[] = [];
  try {
    const gateway = `${gated.gateway}/graphql`;
    const auth = { authorization: `Bearer ${gated.token(clinician.username, 'read')}` };
    const ids: string[] = (await post(gateway, '{ patients(first: 100) { nodes { id } } }', {}, auth)).patients.nodes.map((n: { id: string }) => n.id);
    const throughGateway: BenchRequest[] = ids.map((id) => ({ body: JSON.stringify({ query: PATIENT_VIEW, variables: { id } }), headers: auth }));
    // Straight to the subgraph, each request carries an identity token signed for it with
    // the gateway's key, as the gateway would send it: the floor pays for verification too.
    // Signed afresh for every slice: the tokens live 60 s.
    const identityKey = loadPrivateKey('identity', dataDir);
    const direct = async (): Promise<BenchRequest[]> =>
      Promise.all(
        ids.map(async (id) => ({
          body: JSON.stringify({ query: PATIENT_FLOOR, variables: { id } }),
          headers: { authorization: `Bearer ${await signIdentity(asSeen, operationDigest(PATIENT_FLOOR, { id }), identityKey)}` },
        })),
      );
    // Each query must succeed before it is timed.
    await post(gateway, PATIENT_VIEW, { id: ids[0] }, auth);
    await post(gated.subgraphs.patients, PATIENT_FLOOR, { id: ids[0] }, (await direct())[0]!.headers);
    const runKeepUp = async () => {
      process.stdout.write(`ledger keep-up: the gateway at full load (${CONNECTIONS} connections, ${KEEP_UP_SECONDS} s) while the hub's ledger appends... `);
      const run = await keepUpRun({ env: { ...dbEnv, REDIS_URL: env.REDIS_URL }, url: gateway, requests: throughGateway, seconds: KEEP_UP_SECONDS, connections: CONNECTIONS });
      section('ledger keep-up');
      console.log(`${run.eventsPerSecond} events/s produced, backlog ${run.bounded ? 'bounded' : 'GROWING'} (max ${run.maxBacklog}), commit → checkpoint p99 ${run.commitToCheckpointMs.p99} ms`);
      return run;
    };
    if (ONLY === 'ledger') {
      keepUp = await runKeepUp();
      await gated.stop();
      const ledger = await ledgerBench({ steadyRate: keepUp.eventsPerSecond, proofs: false });
      section('ledger');
      const verdict = printLedger(ledger, keepUp);
      writeReport('ledger', { at: new Date().toISOString(), machine: machine(env.DATABASE_URL), ledgerKeepUp: { ...keepUp, verdict }, ledger });
      console.log(`sections (s): ${sections.map(([n, t]) => `${n} ${t.toFixed(0)}`).join(', ')}`);
      return;
    }
    if (ONLY !== 'peer') {
      ungatedHub = await startHub('off');
      await post(`${ungatedHub.gateway}/graphql`, PATIENT_VIEW, { id: ids[0] }, auth);

      const scenarios: Scenario[] = [
        { name: 'gateway: cross-subgraph patient view, gate on', url: gateway, requests: () => throughGateway },
        { name: 'gateway: cross-subgraph patient view, gate off', url: `${ungatedHub.gateway}/graphql`, requests: () => throughGateway },
        { name: 'floor: patients subgraph direct', url: gated.subgraphs.patients, requests: direct },
      ];
      process.stdout.write(`load: gate on, gate off and the floor, ${WARMUP_SECONDS} s warm-up each, then ${SLICE_ROUNDS * 2 * scenarios.length} interleaved slices of ${SLICE_SECONDS} s (${CONNECTIONS} connections)... `);
      sideBySide = await interleave(scenarios, { sliceSeconds: SLICE_SECONDS, rounds: SLICE_ROUNDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS });
      section('gate on / off / floor (with two hub starts)');
      console.log(sideBySide.results.map((r) => `${Math.round(r.rps)}`).join(' / ') + ' req/s');
      results.push(...sideBySide.results);
      await ungatedHub.stop();
      ungatedHub = undefined;
      if (ONLY !== 'gate') {
        // FHIR beside the same GraphQL selection, on this hub's gateway (fhir.ts).
        process.stdout.write('FHIR Observation search beside GraphQL, interleaved... ');
        fhir = await fhirBenchOnHub(gated.gateway, auth, CONNECTIONS);
        section('fhir / graphql');
        console.log(`${Math.round(fhir.fhir.rps)} / ${Math.round(fhir.graphql.rps)} req/s`);
      }
      if (ONLY === 'gate') {
        const rounds = roundThroughputs(sideBySide);
        console.log(table([['scenario', 'req/s', 'p50 ms', 'p99 ms'], ...sideBySide.results.map((r) => [r.name, Math.round(r.rps), r.p50, r.p99])]));
        console.log(`gate on / gate off: ${(sideBySide.results[0]!.rps / sideBySide.results[1]!.rps).toFixed(2)} (per round ${rounds.map((r) => (r[0]! / r[1]!).toFixed(2)).join(', ')})`);
        return;
      }
    }

    // The same limits as the hub's own gateway: the load must not meet the rate limit.
    const gatewayEnv = { DATA_DIR: dataDir, DATABASE_URL: env.DATABASE_URL, LOG_LEVEL: 'error', RATE_LIMIT_GRAPHQL_PER_MINUTE: '100000000' };
    const ports = await Promise.all(COMBINATIONS.map(() => freePort()));
    const started = await Promise.allSettled(COMBINATIONS.map((c, i) => spawnGateway(c, ports[i]!, gated.subgraphs, gatewayEnv)));
    combinations = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])); // stopped in `finally` either way
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    paired = await compareGateways({
      subgraphs: gated.subgraphs,
      metricsToken: gated.metricsToken,
      sides: combinations.map((g) => ({ name: g.combination.name, url: g.url })),
      requests: throughGateway,
      // Three sides instead of two: shorter warm-ups and slices keep the section as long as before.
      warmupSeconds: SECONDS / 2,
      sliceSeconds: SECONDS / 3,
      connections: CONNECTIONS,
    });
    section('executors side by side (with three gateway starts)');
    results.push(...paired.results);
    await Promise.all(combinations.map((g) => g.stop()));
    combinations = [];
    if (ONLY === 'peer') {
      console.log('\n' + peerTable(paired));
      console.log(`sections (s): ${sections.map(([n, t]) => `${n} ${t.toFixed(0)}`).join(', ')}`);
      return;
    }
    keepUp = await runKeepUp();
    // The hostile-traffic scenario gets the machine to itself: its own hub, default limits.
    await gated.stop();
    process.stdout.write(`hostile traffic: normal clinicians alone and under an attack mix, interleaved... `);
    hostile = await attackBench(dataDir);
    section('hostile traffic');
    console.log(`p99 ${hostile.alone.p99} ms alone, ${hostile.underAttack.p99} ms under attack (${Math.round(hostile.attackRps)} attack req/s)`);
  } finally {
    await Promise.all(combinations.map((g) => g.stop()));
    await ungatedHub?.stop();
    await gated.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const consent = await consentEngineBench();
  section('consent engine');
  const ledger = await ledgerBench({ steadyRate: keepUp?.eventsPerSecond });
  section('ledger');
  const ledgerTiles = await tilesBench();
  section('ledger tiles');
  const witnessed = await witnessBench();
  section('witnesses');
  const byName = (prefix: string) => results.find((r) => r.name.startsWith(prefix))!;
  const through = byName('gateway: cross-subgraph patient view, gate on');
  const floor = byName('floor:');
  const ungated = byName('gateway: cross-subgraph patient view, gate off');
  const peer = paired!;
  console.log('\n' + table([
    ['scenario', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'non-2xx', 'GraphQL errors'],
    ...results.map((r) => [r.name, Math.round(r.rps), r.p50, r.p90, r.p99, r.errors, r.non2xx, r.graphqlErrors]),
  ]));
  const ratio = through.rps / floor.rps;
  const gateRatio = through.rps / ungated.rps;
  console.log(`\ngateway / floor throughput: ${ratio.toFixed(2)}  (p50 ${through.p50} ms vs ${floor.p50} ms)`);
  const rounds = roundThroughputs(sideBySide!);
  const gateRounds = rounds.map((r) => r[0]! / r[1]!);
  console.log(
    `gate on / gate off throughput: ${gateRatio.toFixed(2)}  (p50 ${through.p50} ms vs ${ungated.p50} ms; per round ${gateRounds.map((x) => x.toFixed(2)).join(', ')})`,
  );
  console.log('\n' + peerTable(peer));
  const h = hostile!;
  console.log('\n' + table(attackTable(h).filter((r) => r.length)));
  console.log(
    `normal p99 under attack / alone: ${h.p99Ratio.toFixed(2)} (goal ≤ 2: ${h.goals.p99UnderAttackAtMost2x ? 'met' : 'NOT met'}); ` +
      `every attack refused: ${h.goals.everyAttackRefused ? 'yes' : 'NO'}; every process ≤ 2× idle memory: ${h.goals.memoryAtMost2xIdle ? 'yes' : 'NO'}`,
  );
  const verdict = printLedger(ledger, keepUp!);
  console.log('\n' + table(tilesTable(ledgerTiles)));
  console.log('\n' + witnessTable(witnessed));
  const f = fhir!;
  console.log(`\nFHIR / GraphQL throughput: ${f.ratio.toFixed(2)} (${Math.round(f.fhir.rps)} vs ${Math.round(f.graphql.rps)} req/s, p50 ${f.fhir.p50} vs ${f.graphql.p50} ms; per round ${f.perRound.map((r) => r.toFixed(2)).join(', ')}; goal ≥ 0.8)`);
  console.log(`seed: ${SEED_PATIENTS} patients, ${seeded.rows} rows in ${seeded.seconds.toFixed(1)} s`);

  const report = {
    at: new Date().toISOString(),
    machine: machine(env.DATABASE_URL),
    seed: { patients: SEED_PATIENTS, rows: seeded.rows, seconds: seeded.seconds },
    load: results,
    sideBySide: { scenarios: sideBySide!.results.map((r) => r.name), sliceSeconds: sideBySide!.sliceSeconds, order: sideBySide!.order, roundThroughputs: rounds },
    peer: { versions: executorVersions(), ...peer },
    hostileTraffic: h,
    consentEngine: consent,
    ledger,
    ledgerTiles,
    witnesses: witnessed,
    fhir: f,
    ledgerKeepUp: { ...keepUp!, verdict },
    ratios: {
      gatewayOverFloorThroughput: ratio,
      gateOnOverGateOffThroughput: gateRatio,
      ...Object.fromEntries(Object.entries(peer.throughputRatios).slice(1).map(([side, r]) => [`${side}OverApolloThroughput`, r])),
      ...ledger.ratios,
      ledgerOverGatewayPeakEvents: verdict.ledgerOverGatewayPeak,
      fhirOverGraphqlThroughput: f.ratio,
    },
  };
  writeReport(null, report);
  console.log(`sections (s): ${sections.map(([n, t]) => `${n} ${t.toFixed(0)}`).join(', ')}; total ${sections.reduce((a, [, t]) => a + t, 0).toFixed(0)}`);
}

main().catch((err: unknown) => {
  console.error('bench failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
