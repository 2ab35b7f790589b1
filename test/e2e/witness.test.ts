/**
 * Witnesses, with real processes: `custodian witness` twice (and a third for the split
 * view), the ledger worker (`node dist/ledger/main.js worker`, real Redis and BullMQ)
 * with LEDGER_WITNESSES naming them, and plain HTTP between them.
 *
 * - every checkpoint carries both cosignatures, valid for the witnesses' keys, and still
 *   opens with the log key alone;
 * - a witness refuses what the spec says it must: unknown log (404), a signature by an
 *   untrusted key (403), a rollback (409 with its size), a fork of its size (409), a bad
 *   proof (422), malformed requests (400, JSON, no stack);
 * - a split view shown to two witnesses yields two cosigned checkpoints that prove it;
 * - a witness down costs the checkpoint its cosignature and no more than the timeout;
 *   restarted, it keeps its state (refuses a rollback) and cosigns again, from the size
 *   it held, and from its own size when the hub's record of it is lost (409, retry).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { Queue } from 'bullmq';
import { signCheckpoint, openCheckpoint } from '../../ledger/core/checkpoint';
import { addSignatureLines, cosignaturesOnNote, splitNote } from '../../ledger/core/cosignature';
import { detectSplitView } from '../../ledger/core/split-view';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from '../../ledger/core/note';
import { MerkleTree } from '../../ledger/core/tree';
import { openLedgerDatabase, exclusive } from '../../ledger/store/database';
import { DbNodeStore } from '../../ledger/store/db-node-store';
import { LedgerCheckpoint, LedgerWitness } from '../../ledger/store/entities';
import { createLedgerQueue, type LedgerJobData } from '../../ledger/pipeline/queue';
import { formatAddCheckpointRequest } from '../../ledger/witness/protocol';
import { freshDatabase, type TestDatabase } from '../support/database';
import { enqueue, obliterateQueue, REDIS_URL, testEvent, uniqueQueueName, waitFor } from '../support/ledger-pipeline';
import { spawnNode, type ServiceProcess } from '../support/processes';
import { newWitness as newTestWitness, startWitness as startTestWitness, witnessList, type TestWitness } from '../support/witnesses';

const ORIGIN = 'custodian.test/witnessed-ledger';
const TIMEOUT_MS = 1500;
const logKey = generateNoteKey(ORIGIN);
const logSigner = parseSignerKey(logKey.signerKey);
const logVerifier = parseVerifierKey(logKey.verifierKey);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-witness-'));

type RunningWitness = TestWitness;

let db: TestDatabase;
let ledger: DataSource;
let queue: Queue<LedgerJobData>;
let worker: ServiceProcess;
let queueName: string;
let sequence = 0;
const witnesses: RunningWitness[] = [];

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(process.execPath, [path.join(__dirname, '../../dist/cli/main.js'), ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const newWitness = (name: string) => newTestWitness(dir, name);
const startWitness = (w: RunningWitness) => startTestWitness(w, logKey.verifierKey);

function post(w: RunningWitness, body: string): Promise<Response> {
  return fetch(`${w.url}/add-checkpoint`, { method: 'POST', body });
}

async function latest(): Promise<LedgerCheckpoint | null> {
  return exclusive(ledger, () => ledger.getRepository(LedgerCheckpoint).findOne({ where: {}, order: { size: 'DESC' } }));
}

/** Appends n events and waits for the checkpoint covering them; returns it and how long that took. */
async function appendAndWait(n: number): Promise<{ checkpoint: LedgerCheckpoint; ms: number }> {
  const events = Array.from({ length: n }, () => testEvent(++sequence));
  const started = Date.now();
  await enqueue(queue, events);
  const checkpoint = await waitFor('a checkpoint of every event', async () => {
    const c = await latest();
    return c && c.size >= sequence ? c : undefined;
  }, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}; the worker said:\n${worker.output().slice(-4000)}`);
  });
  return { checkpoint, ms: Date.now() - started };
}

function cosigners(note: string): string[] {
  return cosignaturesOnNote(note, witnesses.map((w) => w.verifier)).map((c) => c.name).sort();
}

async function rootAt(size: number): Promise<Buffer> {
  return new MerkleTree(new DbNodeStore(ledger)).rootHash(size); // it takes its own turns
}

async function witnessSize(w: RunningWitness): Promise<number> {
  const health = (await (await fetch(`${w.url}/healthz`)).json()) as { logs: { origin: string; size: number }[] };
  return health.logs.find((l) => l.origin === ORIGIN)!.size;
}

beforeAll(async () => {
  db = await freshDatabase();
  ledger = await openLedgerDatabase(db.env); // migrated here, before the worker opens it
  witnesses.push(await newWitness('alpha'), await newWitness('beta'));
  await Promise.all(witnesses.map(startWitness));
  queueName = uniqueQueueName('witness');
  queue = createLedgerQueue(queueName, REDIS_URL);
  worker = spawnNode('ledger-worker', 'ledger/main.js', ['worker'], {
    ...db.vars,
    LEDGER_QUEUE: queueName,
    LEDGER_ORIGIN: ORIGIN,
    LEDGER_NOTE_KEY: logKey.signerKey,
    LEDGER_CHECKPOINT_INTERVAL_MS: '100',
    LEDGER_WITNESSES: witnessList(witnesses),
    LEDGER_WITNESS_TIMEOUT_MS: String(TIMEOUT_MS),
  });
}, 60_000);

afterAll(async () => {
  await worker?.kill();
  for (const w of witnesses) await w.proc?.kill();
  await queue?.close();
  await obliterateQueue(queueName).catch(() => undefined);
  await ledger?.destroy();
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--generate-key writes a 0600 key, prints the 0x04 verifier key, and never overwrites', () => {
  const w = witnesses[0];
  expect(fs.statSync(w.keyFile).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(w.keyFile, 'utf8')).toMatch(/^PRIVATE\+KEY\+alpha\.test\/w\+[0-9a-f]{8}\+B[A-P]/);
  expect(w.verifier.verifierKey).toMatch(/^alpha\.test\/w\+[0-9a-f]{8}\+B[A-P]/);
  const before = fs.readFileSync(w.keyFile, 'utf8');
  const again = cli(['witness', '--generate-key', 'alpha.test/w', '--out', w.keyFile]);
  expect(again.status).toBe(2);
  expect(again.stderr).toMatch(/exists; not overwriting/);
  expect(fs.readFileSync(w.keyFile, 'utf8')).toBe(before);
  const bad = cli(['witness', '--key', w.keyFile, '--log', 'not-a-key']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).not.toMatch(/\n\s+at /); // a message, not a stack
});

test('every checkpoint carries both witnesses\' cosignatures and still opens with the log key alone', async () => {
  const { checkpoint } = await appendAndWait(10);
  const note = await waitFor('both cosignatures', async () => {
    const c = await latest();
    return c && cosigners(c.note).length === 2 ? c.note : undefined;
  }, 10_000);
  expect(cosigners(note)).toEqual(['alpha.test/w', 'beta.test/w']);
  const opened = openCheckpoint(note, [logVerifier], { origin: ORIGIN });
  expect(opened.checkpoint.size).toBeGreaterThanOrEqual(checkpoint.size);
  expect(opened.note.unverifiedSignatures.map((s) => s.name).sort()).toEqual(['alpha.test/w', 'beta.test/w']);
  const rows = await exclusive(ledger, () => ledger.getRepository(LedgerWitness).find());
  expect(rows.map((r) => Number(r.size))).toEqual([opened.checkpoint.size, opened.checkpoint.size]);
  for (const w of witnesses) expect(await witnessSize(w)).toBe(opened.checkpoint.size);
});

test('a witness refuses an unknown log (404), an untrusted signature (403), rollbacks and forks (409), bad proofs (422), malformed requests (400)', async () => {
  const [alpha] = witnesses;
  const size = await witnessSize(alpha);
  const root = await rootAt(size);

  const other = parseSignerKey(generateNoteKey('other.test/log').signerKey);
  const unknown = await post(alpha, formatAddCheckpointRequest(0, [], signCheckpoint({ origin: 'other.test/log', size: 1, rootHash: root }, other)));
  expect(unknown.status).toBe(404);

  const stranger = parseSignerKey(generateNoteKey(ORIGIN).signerKey); // the log's name, another key
  const forged = await post(alpha, formatAddCheckpointRequest(size, [], signCheckpoint({ origin: ORIGIN, size, rootHash: root }, stranger)));
  expect(forged.status).toBe(403);
  const tampered = signCheckpoint({ origin: ORIGIN, size, rootHash: root }, logSigner).replace(`\n${size}\n`, `\n${size + 1}\n`);
  expect((await post(alpha, formatAddCheckpointRequest(size, [], tampered))).status).toBe(403);

  // A rollback: an older checkpoint the log really signed, from old size 0 or from its own size.
  const older = signCheckpoint({ origin: ORIGIN, size: 3, rootHash: await rootAt(3) }, logSigner);
  const rollback = await post(alpha, formatAddCheckpointRequest(0, [], older));
  expect(rollback.status).toBe(409);
  expect(rollback.headers.get('content-type')).toBe('text/x.tlog.size');
  expect(await rollback.text()).toBe(`${size}\n`);
  expect((await post(alpha, formatAddCheckpointRequest(size, [], older))).status).toBe(400); // old size above the checkpoint's

  // A fork at its own size: same size, another root, validly signed.
  const fork = signCheckpoint({ origin: ORIGIN, size, rootHash: Buffer.alloc(32, 0xee) }, logSigner);
  const forkAnswer = await post(alpha, formatAddCheckpointRequest(size, [], fork));
  expect(forkAnswer.status).toBe(409);
  expect(await forkAnswer.text()).toBe(`${size}\n`);

  // A larger tree whose proof does not lead from the witness's root.
  const ahead = signCheckpoint({ origin: ORIGIN, size: size + 5, rootHash: Buffer.alloc(32, 0xab) }, logSigner);
  const proof = await new MerkleTree(new DbNodeStore(ledger)).consistencyProof(3, size);
  const badProof = await post(alpha, formatAddCheckpointRequest(size, proof, ahead));
  expect(badProof.status).toBe(422);
  expect(await badProof.json()).toMatchObject({ code: 'BAD_PROOF' });

  for (const body of ['', 'old x\n\n', `old 1\nnot-base64\n\n${older}`, `old ${size}\n${older}`, `old 0\n\nnot a note`]) {
    const res = await post(alpha, body);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'BAD_REQUEST' });
    expect(text).not.toMatch(/\n\s+at /);
  }
  expect((await fetch(`${alpha.url}/add-checkpoint`)).status).toBe(405);
  expect(await witnessSize(alpha)).toBe(size); // nothing refused changed its state
});

test('a split view shown to two witnesses: the second tree is refused by the first witness, and the two cosigned checkpoints prove the fork', async () => {
  const [alpha] = witnesses;
  const real = (await latest())!;
  const forkNote = signCheckpoint({ origin: ORIGIN, size: real.size, rootHash: Buffer.alloc(32, 0x5a) }, logSigner);
  expect((await post(alpha, formatAddCheckpointRequest(real.size, [], forkNote))).status).toBe(409);

  // A witness that never saw this log cosigns the other tree: each alone looks fine.
  const gamma = await newWitness('gamma');
  await startWitness(gamma);
  try {
    const answer = await post(gamma, formatAddCheckpointRequest(0, [], forkNote));
    expect(answer.status).toBe(200);
    const cosignedFork = addSignatureLines(forkNote, (await answer.text()).trim().split('\n'));
    const all = [...witnesses.map((w) => w.verifier), gamma.verifier];
    const evidence = detectSplitView(real.note, cosignedFork, [logVerifier], all);
    expect(evidence).toBeDefined();
    expect(evidence!.size).toBe(real.size);
    expect(evidence!.cosignatures[0].map((c) => c.name).sort()).toEqual(['alpha.test/w', 'beta.test/w']);
    expect(evidence!.cosignatures[1].map((c) => c.name)).toEqual(['gamma.test/w']);
    expect(detectSplitView(real.note, real.note, [logVerifier], all)).toBeUndefined();
  } finally {
    await gamma.proc!.kill();
  }
});

test('a witness down costs the checkpoint its cosignature and no more than the timeout; restarted, it keeps its state and cosigns again', async () => {
  const beta = witnesses[1];
  const held = await witnessSize(beta);
  await beta.proc!.kill();

  const { checkpoint, ms } = await appendAndWait(5);
  expect(cosigners(checkpoint.note)).toEqual(['alpha.test/w']);
  expect(ms).toBeLessThan(TIMEOUT_MS + 3_000); // a refused connection fails fast; the bound is the timeout
  openCheckpoint(checkpoint.note, [logVerifier]); // published, and valid

  await startWitness(beta);
  // Its state survived the restart: a rollback to an older tree is still refused.
  const older = signCheckpoint({ origin: ORIGIN, size: 3, rootHash: await rootAt(3) }, logSigner);
  const rollback = await post(beta, formatAddCheckpointRequest(0, [], older));
  expect(rollback.status).toBe(409);
  expect(await rollback.text()).toBe(`${held}\n`);

  const next = await appendAndWait(5);
  const both = await waitFor('both cosignatures again', async () => {
    const c = await latest();
    return c && c.size >= next.checkpoint.size && cosigners(c.note).length === 2 ? c : undefined;
  }, 10_000);
  expect(await witnessSize(beta)).toBe(both.size);

  // The hub forgets what the witnesses hold (a restored database): they answer 409 with
  // their size, and the publisher proves from there.
  await exclusive(ledger, () => ledger.getRepository(LedgerWitness).clear());
  const after = await appendAndWait(3);
  const recovered = await waitFor('cosignatures after the 409 retry', async () => {
    const c = await latest();
    return c && c.size >= after.checkpoint.size && cosigners(c.note).length === 2 ? c : undefined;
  }, 10_000);
  for (const w of witnesses) expect(await witnessSize(w)).toBe(recovered.size);
  expect(splitNote(recovered.note).body).toBe(`${ORIGIN}\n${recovered.size}\n${recovered.root}\n`);
});
