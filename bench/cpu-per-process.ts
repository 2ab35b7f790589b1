/**
 * Where a hub spends its CPU: the bench's cross-subgraph patient view under load, and
 * each process's CPU time per request (user + system, from /proc). Run after a build:
 *
 *   node dist/bench/cpu-per-process.js            # gate on
 *   CONSENT_GATE=off node dist/bench/cpu-per-process.js   # gate off (bench/ungated-preload.ts)
 *
 * Not part of `npm run bench` (it would add a minute): a tool for finding what to make
 * cheaper, as the gate's SQL was (README, "Benchmarks").
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnHub } from '../cli/hub-process';
import { SUBGRAPH_NAMES, type SubgraphName } from '../common/config';
import { freePort } from '../common/ports';
import { openIdentityDatabase } from '../gateway/identity/database';
import { User } from '../gateway/identity/entities';
import { seed } from '../seed/write';
import { load } from './load';
import { PATIENT_VIEW } from './queries';
import { ungatedHubEnv } from './ungated';

const PATIENTS = Number(process.env.BENCH_SEED_PATIENTS ?? 3000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);

/** CPU seconds a process has used (utime + stime, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function descendants(pid: number): number[] {
  const children = (p: number) =>
    (() => {
      try {
        return execFileSync('pgrep', ['-P', String(p)]).toString();
      } catch {
        return '';
      }
    })()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  const out: number[] = [];
  const walk = (p: number) => children(p).forEach((c) => (out.push(c), walk(c)));
  walk(pid);
  return out;
}

async function main(): Promise<void> {
  const gate = process.env.CONSENT_GATE === 'off' ? 'off' : 'on';
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-cpu-'));
  await seed({ patients: PATIENTS, seed: 42 }, { DATA_DIR: dataDir });
  const identityDb = await openIdentityDatabase({ DATA_DIR: dataDir });
  const clinician = (await identityDb.getRepository(User).find({ where: { role: 'clinician' }, order: { username: 'ASC' }, take: 1 }))[0]!;
  await identityDb.destroy();
  const ports = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) ports[name] = await freePort();
  const hub = await spawnHub({ gateway: await freePort(), subgraphs: ports }, { DATA_DIR: dataDir, LOG_LEVEL: 'error', RATE_LIMIT_GRAPHQL_PER_MINUTE: '0', ...(gate === 'off' ? ungatedHubEnv() : {}) });
  try {
    const auth = { authorization: `Bearer ${hub.token(clinician.username, 'read')}` };
    const list = await fetch(`${hub.gateway}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ query: '{ patients(first: 100) { nodes { id } } }' }) });
    const ids: string[] = ((await list.json()) as any).data.patients.nodes.map((n: { id: string }) => n.id);
    const requests = ids.map((id) => ({ body: JSON.stringify({ query: PATIENT_VIEW, variables: { id } }), headers: auth }));
    await load('warm-up', `${hub.gateway}/graphql`, requests, 8, 16);
    const pids = descendants(hub.process.pid!);
    const names = new Map(pids.map((p) => [p, fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1]?.replace(/.*dist\//, '') ?? String(p)]));
    const before = new Map(pids.map((p) => [p, cpuSeconds(p)]));
    const run = await load('timed', `${hub.gateway}/graphql`, requests, SECONDS, 16);
    const served = run.rps * SECONDS;
    console.log(`gate ${gate}: ${Math.round(run.rps)} req/s over ${SECONDS} s (${PATIENTS} patients, 16 connections)`);
    for (const p of pids) console.log(`${names.get(p)!.padEnd(34)} ${(((cpuSeconds(p) - before.get(p)!) / served) * 1000).toFixed(2)} ms CPU per request`);
  } finally {
    await hub.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('cpu-per-process failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
