/**
 * Hostile traffic, measured (issue 10): normal clinician traffic alone, and the same
 * traffic while the attack mix (mix.ts) runs as fast as the load tool goes on loopback —
 * side by side on one hub with the default limits, in interleaved slices (alone, under
 * attack, under attack, alone) after a warm-up.
 *
 *  - normal: four clinicians, each with a token of their own, asking for the
 *    cross-subgraph patient view of their institution's patients, open loop at a fixed
 *    rate (NORMAL_RATE requests a second in all, within each one's rate limit), so both
 *    sides are offered exactly the same load;
 *  - attack: another process (attacker.ts) sends every kind of the mix at once, each on
 *    its own connections, at whatever rate it reaches;
 *  - memory: every hub process's resident set, sampled every 100 ms, at rest after start
 *    and at its peak in each phase.
 *
 * Goals: normal p99 under attack ≤ 2× alone, every attack refused (the login flood is
 * answered only within the address's budget), no process above 2× its idle memory.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { freePort } from '../../common/ports';
import { spawnHub, type HubProcess } from '../../cli/hub-process';
import { interleave } from '../interleave';
import type { BenchRequest, LoadResult } from '../load';
import { PATIENT_VIEW } from '../queries';
import type { AttackerConfig, KindResult } from './attacker';
import { ATTACK_KINDS, attackRequest, isRefusal, type AttackKind } from './mix';
import { hubProcesses, RssSampler } from './rss';

const NORMAL_RATE = Number(process.env.BENCH_ATTACK_NORMAL_RATE ?? 40);
const SLICE_SECONDS = Number(process.env.BENCH_ATTACK_SLICE_SECONDS ?? 4);
const WARMUP_SECONDS = Number(process.env.BENCH_ATTACK_WARMUP_SECONDS ?? 4);
const ATTACK_CONNECTIONS = Number(process.env.BENCH_ATTACK_CONNECTIONS ?? 8);
const CLINICIANS = 4;

export interface AttackReport {
  normalRate: number;
  sliceSeconds: number;
  alone: LoadResult;
  underAttack: LoadResult;
  p99Ratio: number;
  attack: (KindResult & { refused: number; served: number })[];
  /** Requests per second of the whole mix, over the attack slices. */
  attackRps: number;
  memoryMb: { idle: Record<string, number>; alone: Record<string, number>; attack: Record<string, number> };
  memoryRatio: Record<string, number>;
  goals: { p99UnderAttackAtMost2x: boolean; everyAttackRefused: boolean; memoryAtMost2xIdle: boolean };
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

function startAttacker(config: AttackerConfig): Promise<{ done: Promise<KindResult[]> }> {
  const child = fork(path.join(__dirname, 'attacker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let results: KindResult[] | undefined;
    const done = new Promise<KindResult[]>((finish, fail) => {
      child.on('message', (m: { started?: boolean; results?: KindResult[] }) => {
        if (m.started) resolve({ done });
        if (m.results) results = m.results;
      });
      child.once('exit', (code) => (results ? finish(results) : fail(new Error(`attacker exited with ${code}`))));
    });
    done.catch(reject);
    child.send(config);
  });
}

function merge(kind: AttackKind, runs: KindResult[], seconds: number): KindResult & { refused: number; served: number } {
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const refused = Object.entries(statuses).filter(([code]) => isRefusal(Number(code))).reduce((n, [, c]) => n + c, 0);
  return {
    kind,
    requests,
    rps: requests / seconds,
    statuses,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    p50: Math.max(...runs.map((r) => r.p50)),
    // autocannon's p99 per slice; the larger of the slices (no exact merge across processes).
    p99: Math.max(...runs.map((r) => r.p99)),
    refused,
    served: requests - refused,
  };
}

/** `n` clinicians, spread over the institutions (round robin over them). */
function clinicians(hub: HubProcess, n: number): string[] {
  const byInstitution = new Map<string, string[]>();
  for (const line of hub.cli('users', '--role', 'clinician', '--limit', '500').split('\n')) {
    const [username, , , institution] = line.trim().split(/\s+/);
    if (username && institution) byInstitution.set(institution, [...(byInstitution.get(institution) ?? []), username]);
  }
  const picked: string[] = [];
  for (let i = 0; picked.length < n && [...byInstitution.values()].some((l) => l.length > i); i++) {
    for (const list of byInstitution.values()) if (list[i] && picked.length < n) picked.push(list[i]!);
  }
  if (picked.length < n) throw new Error(`the attack benchmark needs ${n} clinicians`);
  return picked;
}

export async function attackBench(dataDir: string): Promise<AttackReport> {
  const subgraphPorts = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) subgraphPorts[name] = await freePort();
  // The default limits: nothing here is relaxed.
  const hub = await spawnHub({ gateway: await freePort(), subgraphs: subgraphPorts }, { DATA_DIR: dataDir, LOG_LEVEL: 'error' });
  const sampler = new RssSampler(hubProcesses(hub.process.pid!));
  try {
    await new Promise((r) => setTimeout(r, 2000)); // at rest
    const idle = sampler.peak('idle');
    sampler.phase = 'warm-up';

    const [attackerName, ...names] = clinicians(hub, CLINICIANS + 1);
    const gateway = `${hub.gateway}/graphql`;
    const perClinician = await Promise.all(
      names.map(async (name) => {
        const auth = { authorization: `Bearer ${hub.token(name, 'read')}` };
        const res = await post(gateway, JSON.stringify({ query: '{ patients(first: 25) { nodes { id } } }' }), { 'content-type': 'application/json', ...auth });
        const ids: string[] = JSON.parse(res.text).data.patients.nodes.map((n: { id: string }) => n.id);
        return ids.map((id): BenchRequest => ({ body: JSON.stringify({ query: PATIENT_VIEW, variables: { id } }), headers: auth }));
      }),
    );
    // Round robin over the clinicians, so each stays within its own rate limit.
    const normal: BenchRequest[] = [];
    for (let i = 0; i < Math.max(...perClinician.map((r) => r.length)); i++) for (const list of perClinician) if (list[i]) normal.push(list[i]!);
    for (const r of perClinician.map((l) => l[0]!)) {
      const res = await post(gateway, r.body, { 'content-type': 'application/json', ...r.headers });
      if (res.status !== 200 || res.text.includes('"errors"')) throw new Error(`normal query failed: ${res.status} ${res.text.slice(0, 500)}`);
    }
    // Each attack is refused before it is timed (the login flood: answered, within budget).
    const token = hub.token(attackerName!, 'read');
    for (const kind of ATTACK_KINDS) {
      const req = attackRequest(kind, token);
      const res = await post(hub.gateway + req.path, req.body, req.headers);
      if (kind !== 'login' && !isRefusal(res.status)) throw new Error(`attack ${kind} was not refused: ${res.status} ${res.text.slice(0, 300)}`);
    }

    const attackRuns: KindResult[][] = [];
    const run = await interleave(
      [
        { name: 'normal clinician traffic alone', url: gateway, requests: () => normal },
        { name: 'normal clinician traffic under attack', url: gateway, requests: () => normal, warmupSeconds: 0 },
      ],
      {
        sliceSeconds: SLICE_SECONDS,
        rounds: 1,
        warmupSeconds: WARMUP_SECONDS,
        connections: 8,
        overallRate: NORMAL_RATE,
        around: async (i, slice) => {
          if (i === 0) {
            sampler.phase = 'alone';
            return slice();
          }
          sampler.phase = 'attack';
          const attacker = await startAttacker({ url: hub.gateway, token, seconds: SLICE_SECONDS + 1, connections: ATTACK_CONNECTIONS });
          await new Promise((r) => setTimeout(r, 500)); // the attack at full rate before timing
          const result = await slice();
          attackRuns.push(await attacker.done);
          return result;
        },
      },
    );
    const [alone, underAttack] = run.results as [LoadResult, LoadResult];
    const attackSeconds = attackRuns.length * (SLICE_SECONDS + 1);
    const attack = ATTACK_KINDS.map((kind) => merge(kind, attackRuns.map((runs) => runs.find((r) => r.kind === kind)!), attackSeconds));
    const memoryMb = { idle, alone: sampler.peak('alone'), attack: sampler.peak('attack') };
    const memoryRatio = Object.fromEntries(Object.entries(idle).map(([name, mb]) => [name, Math.max(memoryMb.alone[name] ?? 0, memoryMb.attack[name] ?? 0) / mb]));
    const p99Ratio = underAttack.p99 / alone.p99;
    return {
      normalRate: NORMAL_RATE,
      sliceSeconds: SLICE_SECONDS,
      alone,
      underAttack,
      p99Ratio,
      attack,
      attackRps: attack.reduce((n, k) => n + k.rps, 0),
      memoryMb,
      memoryRatio,
      goals: {
        p99UnderAttackAtMost2x: p99Ratio <= 2,
        // Everything refused, but the login flood's answers within its per-address budget.
        everyAttackRefused: attack.every((k) => k.served === 0 || (k.kind === 'login' && k.served <= loginBudget(attackSeconds))),
        memoryAtMost2xIdle: Object.values(memoryRatio).every((r) => r <= 2),
      },
    };
  } finally {
    sampler.stop();
    await hub.stop();
  }
}

/** Login options the default per-address limit (120 a minute) answers over `seconds`, at most. */
function loginBudget(seconds: number): number {
  return 120 * (Math.ceil(seconds / 60) + 1);
}

export function attackTable(r: AttackReport): (string | number)[][] {
  const mb = (x: number | undefined) => (x === undefined ? '' : x.toFixed(0));
  return [
    ['hostile traffic (default limits)', 'req/s', 'p50 ms', 'p99 ms', 'refused', 'served'],
    [`normal clinicians alone (${r.normalRate} req/s offered)`, Math.round(r.alone.rps), r.alone.p50, r.alone.p99, r.alone.non2xx, r.alone.requests - r.alone.non2xx],
    [`normal clinicians under attack`, Math.round(r.underAttack.rps), r.underAttack.p50, r.underAttack.p99, r.underAttack.non2xx, r.underAttack.requests - r.underAttack.non2xx],
    ...r.attack.map((k) => [`attack: ${k.kind} (${Object.entries(k.statuses).map(([c, n]) => `${n}×${c}`).join(', ')})`, Math.round(k.rps), k.p50, k.p99, k.refused, k.served]),
    [],
    ['process', 'idle MB', 'peak alone MB', 'peak under attack MB', 'peak / idle', ''],
    ...Object.keys(r.memoryMb.idle).map((name) => [name, mb(r.memoryMb.idle[name]), mb(r.memoryMb.alone[name]), mb(r.memoryMb.attack[name]), r.memoryRatio[name]!.toFixed(2), '']),
  ];
}
