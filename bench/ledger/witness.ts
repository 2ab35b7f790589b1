/**
 * Checkpoint publication latency with two witnesses against none, side by side in one
 * run: one ledger database (SQLite in a temporary directory), two real `custodian
 * witness` processes on this machine, and publishCheckpoint timed alternately with the
 * witness pool and without it, after the same small append each time. What the
 * difference measures is the price of witnessing — two parallel HTTP round trips, a
 * consistency proof, a cosignature verified — not the network a real deployment has.
 * `BENCH_ONLY=witness` runs this alone (≤ 20 s).
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { generateNoteKey } from '../../ledger/core/note';
import { fromSignerKey } from '../../ledger/core/note-key';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { WitnessPool } from '../../ledger/pipeline/witnesses';
import { parseWitnessList } from '../../ledger/witness/endpoints';
import { appendEvents } from '../../ledger/store/append';
import { openLedgerDatabase } from '../../ledger/store/database';
import { redactEvent } from '../../ledger/core/leaf';
import { freePort } from '../../common/ports';
import { percentile } from '../load';

const ROUNDS = Number(process.env.BENCH_WITNESS_ROUNDS ?? 80);
const EVENTS_PER_ROUND = 20;
const ORIGIN = 'bench.custodian/witnessed';

export interface WitnessBenchResult {
  rounds: number;
  none: { p50: number; p99: number };
  twoWitnesses: { p50: number; p99: number; cosigned: number };
}

export async function witnessBench(): Promise<WitnessBenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-bench-witness-'));
  const log = generateNoteKey(ORIGIN);
  const key = fromSignerKey(log.signerKey);
  const procs: ChildProcess[] = [];
  const db = await openLedgerDatabase({ DATA_DIR: dir, DATABASE_URL: undefined });
  try {
    const entries: string[] = [];
    for (const name of ['w1', 'w2']) {
      const keyFile = path.join(dir, `${name}.key`);
      const cli = path.join(__dirname, '../../cli/main.js');
      const vkey = execFileSync(process.execPath, [cli, 'witness', '--generate-key', `${name}.bench/w`, '--out', keyFile], { encoding: 'utf8' }).trim();
      const port = await freePort();
      procs.push(spawn(process.execPath, [cli, 'witness', '--key', keyFile, '--log', log.verifierKey, '--port', String(port), '--data', path.join(dir, name)], { stdio: 'ignore', env: { ...process.env, LOG_LEVEL: 'silent' } }));
      await answering(`http://127.0.0.1:${port}/healthz`);
      entries.push(`${vkey}@http://127.0.0.1:${port}`);
    }
    const pool = new WitnessPool(parseWitnessList(entries.join(',')), 2_000);
    const none: number[] = [];
    const two: number[] = [];
    let cosigned = 0;
    let sequence = 0;
    const append = () =>
      appendEvents(db, Array.from({ length: EVENTS_PER_ROUND }, () => redactEvent({ id: `evt_bench${String(++sequence).padStart(12, '0')}`, kind: 'bench.event', at: new Date().toISOString(), count: sequence })));
    await append();
    await publishCheckpoint(db, key, ORIGIN, undefined, pool); // warm: the witnesses' first cosignature from size 0
    for (let round = 0; round < ROUNDS; round++) {
      for (const withWitnesses of round % 2 === 0 ? [true, false] : [false, true]) {
        await append();
        const started = process.hrtime.bigint();
        const published = await publishCheckpoint(db, key, ORIGIN, undefined, withWitnesses ? pool : undefined);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        (withWitnesses ? two : none).push(ms);
        if (withWitnesses && published && (published.note.match(/\n— [wW][12]\.bench\/w /g) ?? []).length === 2) cosigned++;
      }
    }
    const stats = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return { p50: round2(percentile(sorted, 50)), p99: round2(percentile(sorted, 99)) };
    };
    return { rounds: ROUNDS, none: stats(none), twoWitnesses: { ...stats(two), cosigned } };
  } finally {
    for (const p of procs) p.kill();
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function witnessTable(r: WitnessBenchResult): string {
  return [
    `checkpoint publication (${r.rounds} each, interleaved, SQLite)   p50 ms   p99 ms`,
    `  no witnesses                                        ${String(r.none.p50).padStart(6)}   ${String(r.none.p99).padStart(6)}`,
    `  two witnesses (${r.twoWitnesses.cosigned}/${r.rounds} with both cosignatures)        ${String(r.twoWitnesses.p50).padStart(6)}   ${String(r.twoWitnesses.p99).padStart(6)}`,
  ].join('\n');
}

async function answering(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no witness at ${url}`);
}

const round2 = (x: number) => Math.round(x * 100) / 100;
