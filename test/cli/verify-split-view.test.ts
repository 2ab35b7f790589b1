/**
 * `custodian verify --checkpoint FILE` (cli/verify-split-view.ts), the built command
 * against the real gateway, with real witnesses (`custodian witness` processes) cosigning
 * the hub's checkpoints through the real publisher (LEDGER_WITNESSES' WitnessPool):
 *
 *   - an older checkpoint, saved as another auditor saw it, is of the same history: exit 0;
 *   - a split view — the hub's key signs a second tree of the latest size, witness alpha
 *     refuses it (409), a witness that never saw the log (gamma) cosigns it — given both
 *     cosigned checkpoints: exit 1, "tampered: split view", both roots, who signed and
 *     who cosigned each; also given only the fork (against the hub's own checkpoint);
 *   - a smaller tree the hub's latest does not extend: exit 1, split view;
 *   - once the log has grown past a fork, the hub's stored checkpoint of the fork's size
 *     is the other half of the evidence;
 *   - a checkpoint not signed by the log's key proves nothing: exit 2, never "tampered";
 *   - after a key rotation, a checkpoint signed by the old key still verifies, and a fork of
 *     a size from before the rotation is a split view whichever of the two keys signed it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { RunningGateway } from '../../gateway/server';
import { signCheckpoint } from '../../ledger/core/checkpoint';
import { addSignatureLines, cosignaturesOnNote } from '../../ledger/core/cosignature';
import { generateNoteKey, parseSignerKey } from '../../ledger/core/note';
import { fromSignerKey, type LedgerNoteKey } from '../../ledger/core/note-key';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { WitnessPool } from '../../ledger/pipeline/witnesses';
import { appendEvents } from '../../ledger/store/append';
import { parseWitnessList } from '../../ledger/witness/endpoints';
import { custodianVerify, startLedgerGateway, type LedgerGateway } from '../support/ledger-gateway';
import { testEvent } from '../support/ledger-pipeline';
import { addCheckpoint, newWitness, startWitness, witnessList, type TestWitness } from '../support/witnesses';

jest.setTimeout(60_000);
const ORIGIN = 'custodian.test/split-view';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-split-view-'));
let hub: LedgerGateway;
let gateway: RunningGateway;
let ledger: DataSource;
let key: LedgerNoteKey;
let token: string;
let alpha: TestWitness;
let beta: TestWitness;
let gamma: TestWitness;
let pool: WitnessPool;
let appended = 0;
/** Notes the hub published: the older one (size 100) and the latest (size 150), both cosigned by alpha and beta. */
let older: string;
let latest: string;

async function appendAndPublish(count: number): Promise<string> {
  await appendEvents(ledger, Array.from({ length: count }, (_, k) => testEvent(appended + k, 'access.decision')));
  appended += count;
  const published = await publishCheckpoint(ledger, key, ORIGIN, undefined, pool);
  expect(published?.size).toBe(appended);
  return published!.note;
}

function save(name: string, note: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, note);
  return file;
}

const custodian = (...args: string[]) => custodianVerify('--url', gateway.url, '--token', token, '--key', key.verifierKey, ...args);

const witnessArgs = (...ws: TestWitness[]) => ws.flatMap((w) => ['--witness', w.verifier.verifierKey]);
const rootOf = (note: string) => note.split('\n')[2]!;

beforeAll(async () => {
  hub = await startLedgerGateway({ RATE_LIMIT_LEDGER_PER_MINUTE: 0 });
  ({ gateway, ledger } = hub);
  token = await hub.tokenFor('split.officer', 'compliance');
  key = hub.signerKey(ORIGIN);
  [alpha, beta, gamma] = await Promise.all(['alpha', 'beta', 'gamma'].map((name) => newWitness(dir, name)));
  await Promise.all([alpha, beta, gamma].map((w) => startWitness(w, key.verifierKey)));
  pool = new WitnessPool(parseWitnessList(witnessList([alpha, beta])), 5_000);
  older = await appendAndPublish(100);
  latest = await appendAndPublish(50);
  for (const note of [older, latest]) expect(cosignaturesOnNote(note, [alpha.verifier, beta.verifier]).map((c) => c.name)).toEqual(['alpha.test/w', 'beta.test/w']);
}, 120_000);

afterAll(async () => {
  for (const w of [alpha, beta, gamma]) await w?.proc?.kill();
  await hub?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an older checkpoint another auditor saved, and the latest itself, are of the same history: exit 0', async () => {
  const { code, lines } = await custodian('--checkpoint', save('older.note', older), '--checkpoint', save('latest.json', JSON.stringify({ key: key.verifierKey, note: latest })), ...witnessArgs(alpha, beta));
  const out = lines.join('\n');
  expect(code).toBe(0);
  expect(out).toContain(`ok: the checkpoint in ${path.join(dir, 'older.note')} (size 100) is consistent with the hub's log (size 150)`);
  expect(out).toContain(`ok: the checkpoint in ${path.join(dir, 'latest.json')} (size 150) is the hub's latest checkpoint`);
  expect(out).toMatch(/ok: cosigned by 2 of 2 witnesses \(quorum 2\)/);
  expect(lines[lines.length - 1]).toMatch(/^verified: 150 entries/);
  expect(out).not.toMatch(/TAMPERED/);
});

describe('a split view: the hub signs a second tree of size 150', () => {
  let cosignedFork: string;
  beforeAll(async () => {
    const forkNote = signCheckpoint({ origin: ORIGIN, size: 150, rootHash: Buffer.alloc(32, 0x5a) }, key.signer);
    // A witness that cosigned the real tree refuses the other one ...
    expect((await addCheckpoint(alpha, 150, [], forkNote)).status).toBe(409);
    // ... and one that never saw this log cosigns it: each checkpoint alone looks fine.
    const answer = await addCheckpoint(gamma, 0, [], forkNote);
    expect(answer.status).toBe(200);
    cosignedFork = addSignatureLines(forkNote, (await answer.text()).trim().split('\n'));
  });

  test('given both cosigned checkpoints: exit 1, "tampered: split view", both roots, who signed and cosigned each', async () => {
    const real = save('seen-by-auditor-1.note', latest);
    const fork = save('seen-by-auditor-2.note', cosignedFork);
    const { code, lines } = await custodian('--checkpoint', real, '--checkpoint', fork, ...witnessArgs(alpha, beta, gamma), '--quorum', '2');
    expect(code).toBe(1);
    const tampered = lines.filter((l) => l.startsWith('TAMPERED: '));
    expect(tampered).toHaveLength(1); // the fork between the files is the fork with the hub's own checkpoint: said once
    const [line] = tampered;
    const logKey = key.verifierKey.split('+').slice(0, 2).join('+');
    expect(line).toMatch(/^TAMPERED: split view: the log signed two different trees of size 150: /);
    expect(line).toMatch(new RegExp(`root ${escape(rootOf(latest))} in the checkpoint in ${escape(real)} \\(signed by ${escape(logKey)}; cosigned by alpha\\.test/w at \\S+Z, beta\\.test/w at \\S+Z\\)`));
    expect(line).toMatch(new RegExp(`root ${escape(Buffer.alloc(32, 0x5a).toString('base64'))} in the checkpoint in ${escape(fork)} \\(signed by ${escape(logKey)}; cosigned by gamma\\.test/w at \\S+Z\\)`));
    expect(lines[lines.length - 1]).toBe('tampered: split view; verification FAILED: 1 problem(s)');
  });

  test('given only the fork: exit 1 against the hub\'s own checkpoint; without --witness keys the cosignature lines are named, unchecked', async () => {
    const fork = save('fork-only.note', cosignedFork);
    const { code, lines } = await custodian('--checkpoint', fork);
    expect(code).toBe(1);
    const line = lines.find((l) => l.startsWith('TAMPERED: split view: '))!;
    expect(line).toContain(`in the hub's latest checkpoint (size 150) (signed by ${key.verifierKey.split('+').slice(0, 2).join('+')}; no --witness keys given to check cosignatures; also carries signatures by alpha.test/w+`);
    expect(line).toMatch(/in the checkpoint in \S+fork-only\.note \(signed by \S+; no --witness keys given to check cosignatures; also carries signatures by gamma\.test\/w\+[0-9a-f]{8} \(not checked\)\)/);
    expect(lines[lines.length - 1]).toBe('tampered: split view; verification FAILED: 1 problem(s)');
  });
});

test('a smaller tree the hub\'s latest does not extend: exit 1, split view, with the proof that fails', async () => {
  const other = save('not-a-prefix.note', signCheckpoint({ origin: ORIGIN, size: 120, rootHash: Buffer.alloc(32, 0x33) }, key.signer));
  const { code, lines } = await custodian('--checkpoint', other);
  expect(code).toBe(1);
  const line = lines.find((l) => l.startsWith('TAMPERED: '))!;
  expect(line).toMatch(/^TAMPERED: split view: the log signed a tree of size 120 that its tree of size 150 does not extend: /);
  expect(line).toMatch(/the hub's consistency proof between them, \[\S+(, \S+)*\], does not verify/);
  expect(lines[lines.length - 1]).toBe('tampered: split view; verification FAILED: 1 problem(s)');
});

test('a checkpoint not signed by the log\'s key, or not a checkpoint at all, proves nothing: exit 2, one line, never "tampered"', async () => {
  const stranger = parseSignerKey(generateNoteKey(ORIGIN).signerKey);
  const forged = save('forged.note', signCheckpoint({ origin: ORIGIN, size: 150, rootHash: Buffer.alloc(32, 0x44) }, stranger));
  const refused = await custodian('--checkpoint', forged);
  expect(refused.code).toBe(2);
  expect(refused.lines).toEqual([expect.stringMatching(/^could not verify: --checkpoint \S+forged\.note is not a checkpoint of custodian\.test\/split-view signed by the log's key .*so it shows nothing about this log/)]);

  const junk = await custodian('--checkpoint', save('junk.txt', 'hello\n'));
  expect(junk.code).toBe(2);
  expect(junk.lines[0]).toMatch(/^could not verify: --checkpoint \S+junk\.txt: not a signed checkpoint note/);
  const missing = await custodian('--checkpoint', path.join(dir, 'nope.note'));
  expect(missing.code).toBe(2);
  expect(missing.lines[0]).toMatch(/^could not verify: --checkpoint \S+nope\.note: cannot read it \(ENOENT\)/);
  for (const r of [refused, junk, missing]) expect(r.lines.join('\n')).not.toMatch(/TAMPERED|\n\s+at /);
});

test('after the log grew past the fork: the hub\'s own stored checkpoint of that size is the other half of the evidence', async () => {
  const fork = signCheckpoint({ origin: ORIGIN, size: 150, rootHash: Buffer.alloc(32, 0x5a) }, key.signer);
  await appendAndPublish(10); // the hub's latest is now 160; the fork is of 150
  const { code, lines } = await custodian('--checkpoint', save('old-fork.note', fork), ...witnessArgs(alpha, beta));
  expect(code).toBe(1);
  const line = lines.find((l) => l.startsWith('TAMPERED: '))!;
  expect(line).toMatch(/^TAMPERED: split view: the log signed two different trees of size 150: /);
  expect(line).toMatch(new RegExp(`root ${escape(rootOf(latest))} in the hub's checkpoint of size 150 \\(signed by \\S+; cosigned by alpha\\.test/w at \\S+Z, beta\\.test/w at \\S+Z\\)`));
  expect(lines.join('\n')).toMatch(/ok: cosigned by 2 of 2 witnesses/); // the latest (160) itself is fine
});

test('after a key rotation: a checkpoint from before it verifies with the key the rotation leads from; a fork from before it is still a split view, by either key', async () => {
  const next = fromSignerKey(generateNoteKey(ORIGIN).signerKey);
  const publish = async (keys: Parameters<typeof publishCheckpoint>[1]) => {
    await appendEvents(ledger, Array.from({ length: 5 }, (_, k) => testEvent(appended + k, 'access.decision')));
    appended += 5;
    expect((await publishCheckpoint(ledger, keys, ORIGIN))?.size).toBe(appended);
  };
  // What the publisher does after a rotation: the announcement signed by both keys, then the new key alone.
  await publish({ current: next, previous: key });
  const announcedAt = appended;
  await publish(next);

  const before = await custodian('--checkpoint', save('before-rotation.note', older));
  const out = before.lines.join('\n');
  expect(before.code).toBe(0);
  expect(out).toContain(`followed a key rotation at size ${announcedAt}`);
  expect(out).toContain(`ok: the checkpoint in ${path.join(dir, 'before-rotation.note')} (size 100) is consistent with the hub's log (size ${appended})`);
  expect(out).not.toMatch(/TAMPERED/);

  for (const [name, signer] of [['old', key.signer], ['new', next.signer]] as const) {
    const fork = save(`fork-before-rotation-${name}-key.note`, signCheckpoint({ origin: ORIGIN, size: 100, rootHash: Buffer.alloc(32, 0x77) }, signer));
    const { code, lines } = await custodian('--checkpoint', fork);
    expect([name, code]).toEqual([name, 1]);
    expect(lines.find((l) => l.startsWith('TAMPERED: '))).toMatch(/^TAMPERED: split view: the log signed two different trees of size 100: /);
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
