/**
 * `custodian verify` from C2SP tiles, against the real gateway over a ledger of a few
 * thousand leaves, and the built command's exit codes and output:
 *   0  a clean log; again from the saved checkpoint, reading only the new tiles;
 *   1  an altered leaf (its index, expected vs got, an inclusion proof), a wrong hash
 *      tile, a saved checkpoint the log is not consistent with;
 *   2  no token, a non-compliance token, an unreachable gateway, bad arguments, a leaf the
 *      hub cannot serve, too few witness cosignatures — on one line, never "TAMPERED".
 * Witnesses: the latest checkpoint's stored note gets cosignature/v1 lines, as the
 * publisher adds them (ledger/core/cosignature.ts); --witness/--quorum count them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { verifyLedger } from '../../cli/verify';
import { freePort } from '../../common/ports';
import type { RunningGateway } from '../../gateway/server';
import { leafHash } from '../../ledger/core/hashing';
import { signCheckpoint } from '../../ledger/core/checkpoint';
import type { LedgerNoteKey } from '../../ledger/core/note-key';
import { publishCheckpoint } from '../../ledger/pipeline/checkpoint-publisher';
import { appendEvents } from '../../ledger/store/append';
import { LedgerCheckpoint, LedgerLeaf, LedgerNode } from '../../ledger/store/entities';
import { addSignatureLines, generateCosignerKey, parseCosignerSignerKey, splitNote } from '../../ledger/core/cosignature';
import { custodianVerify as custodian, startLedgerGateway, type LedgerGateway } from '../support/ledger-gateway';
import { testEvent } from '../support/ledger-pipeline';

const ORIGIN = 'custodian.test/tiles';
const FIRST = 3_000;
const MORE = 600;
let hub: LedgerGateway;
let gateway: RunningGateway;
let ledger: DataSource;
let key: LedgerNoteKey;
let token: string;
let clinicianToken: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custodian-verify-tiles-'));
const saved = path.join(dir, 'checkpoint.json');

async function append(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 500) {
    await appendEvents(ledger, Array.from({ length: Math.min(500, from + count - i) }, (_, k) => testEvent(i + k, 'access.decision')));
  }
  await publishCheckpoint(ledger, key, ORIGIN);
}

beforeAll(async () => {
  hub = await startLedgerGateway({ RATE_LIMIT_LEDGER_PER_MINUTE: 0 });
  ({ gateway, ledger } = hub);
  token = await hub.tokenFor('tiles.officer', 'compliance');
  clinicianToken = await hub.tokenFor('tiles.clinician', 'clinician');
  key = hub.signerKey(ORIGIN);
  await append(0, FIRST);
}, 120_000);
afterAll(() => hub?.stop());

describe('a clean log', () => {
  test('verifies from tiles (exit 0), reporting the rate, and saves the checkpoint', async () => {
    const { code, lines } = await custodian('--url', gateway.url, '--token', token, '--key', key.verifierKey, '--from-checkpoint', saved);
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(new RegExp(`root recomputed from all ${FIRST} entries matches the signed checkpoint`));
    expect(lines[lines.length - 1]).toMatch(new RegExp(`^verified: ${FIRST} entries \\(\\d+ requests, [\\d.]+ MB; ${FIRST} leaves read in [\\d.]+ s, \\d+ leaves/s\\)$`));
    expect(JSON.parse(fs.readFileSync(saved, 'utf8')).note).toMatch(new RegExp(`^${ORIGIN}\n${FIRST}\n`));
  }, 30_000);

  test('from the saved checkpoint after new leaves, it reads only the tiles past it', async () => {
    const full = await verifyLedger({ url: gateway.url, token, key: key.verifierKey });
    // 12 bundle + tile pairs for 3,000 leaves (11 full, one partial of 184).
    expect(full.tilesFetched.filter((p) => p.startsWith('tile/entries/'))).toHaveLength(12);
    await append(FIRST, MORE);
    const copy = path.join(dir, 'incremental.json');
    fs.copyFileSync(saved, copy);
    const report = await verifyLedger({ url: gateway.url, token, fromCheckpoint: copy });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.notes).toContain(`consistent with the saved checkpoint of size ${FIRST}`);
    expect(report.leaves).toBe(MORE);
    // Bundles 11..14 (leaves 2,816..3,599: the first starts before 3,000), their level-0
    // tiles, and the old tree's frontier: its level-1 tile and level-0 tile 11.
    const bundles = report.tilesFetched.filter((p) => p.startsWith('tile/entries/'));
    expect(bundles).toEqual(['tile/entries/011', 'tile/entries/012', 'tile/entries/013', 'tile/entries/014.p/16']);
    expect(report.tilesFetched.filter((p) => !p.startsWith('tile/entries/')).sort()).toEqual(['tile/0/011', 'tile/0/011', 'tile/0/012', 'tile/0/013', 'tile/0/014.p/16', 'tile/1/000.p/14'].sort());
    expect(report.requests).toBeLessThan(full.requests);
    // Nothing new: no tile at all.
    const again = await verifyLedger({ url: gateway.url, token, fromCheckpoint: copy });
    expect(again.ok).toBe(true);
    expect(again.tilesFetched).toEqual([]);
  }, 60_000);
});

describe('could not verify (exit 2), on one line, never "tampered"', () => {
  test('without a token: says a compliance token is needed', async () => {
    const { code, lines } = await custodian('--url', gateway.url, '--key', key.verifierKey);
    expect(code).toBe(2);
    expect(lines).toEqual([expect.stringMatching(/^could not verify: GET \/ledger\/tile\/entries\/000: HTTP 401: the entries need a compliance officer's token \(--token T or CUSTODIAN_TOKEN\)$/)]);
  }, 30_000);

  test("with a clinician's token: refused, said so", async () => {
    const { code, lines } = await custodian('--url', gateway.url, '--token', clinicianToken);
    expect(code).toBe(2);
    expect(lines).toEqual([expect.stringMatching(/^could not verify: .*HTTP 403: .*compliance officer's token.*the one given was refused$/)]);
  }, 30_000);

  test('an unreachable gateway', async () => {
    const { code, lines } = await custodian('--url', `http://127.0.0.1:${await freePort()}`, '--token', token);
    expect(code).toBe(2);
    expect(lines).toEqual([expect.stringMatching(/^could not verify: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/)]);
  }, 30_000);

  test('bad arguments', async () => {
    expect((await custodian('--token', token)).code).toBe(2);
    const unknown = await custodian('--url', gateway.url, '--frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.lines[0]).toMatch(/^could not verify: Unknown option '--frobnicate'/);
    expect((await custodian('--url', 'not a url', '--token', token)).lines).toEqual([expect.stringMatching(/^could not verify: bad --url/)]);
  }, 30_000);

  test('a leaf the hub cannot serve (its row deleted): the hub fails to answer, which proves nothing either way', async () => {
    const repo = ledger.getRepository(LedgerLeaf);
    const leaf = await repo.findOneByOrFail({ leafIndex: 700 });
    await repo.delete({ leafIndex: 700 });
    try {
      const { code, lines } = await custodian('--url', gateway.url, '--token', token, '--key', key.verifierKey);
      expect(code).toBe(2);
      expect(lines).toEqual([expect.stringMatching(/^could not verify: GET \/ledger\/tile\/entries\/002: HTTP 500/)]);
    } finally {
      await repo.insert(leaf);
    }
  }, 30_000);
});

describe('tampered (exit 1)', () => {
  test('an altered leaf, its hash fixed up too: the index, expected vs got, and the inclusion proof', async () => {
    const repo = ledger.getRepository(LedgerLeaf);
    const leaf = await repo.findOneByOrFail({ leafIndex: 1234 });
    const forged = leaf.leafData.replace('"count":1234', '"count":1235');
    expect(forged).not.toBe(leaf.leafData);
    await repo.update({ leafIndex: 1234 }, { leafData: forged, leafHash: leafHash(Buffer.from(forged)).toString('base64') });
    try {
      const { code, lines } = await custodian('--url', gateway.url, '--token', token, '--key', key.verifierKey);
      expect(code).toBe(1);
      const tampered = lines.filter((l) => l.startsWith('TAMPERED: '));
      expect(tampered).toHaveLength(1);
      expect(tampered[0]).toContain(
        `entry 1234 was altered: its bytes hash to ${leafHash(Buffer.from(forged)).toString('base64')}, but the signed checkpoint of size ${FIRST + MORE} commits to ${leaf.leafHash} there`,
      );
      expect(tampered[0]).toMatch(/Proof: the inclusion proof of \S+ at index 1234 in the tree of size 3600, \[(\S+, )+\S+\], verifies against the signed root/);
      expect(lines[lines.length - 1]).toBe('verification FAILED: 1 problem(s)');
    } finally {
      await repo.update({ leafIndex: 1234 }, { leafData: leaf.leafData, leafHash: leaf.leafHash });
    }
  }, 30_000);

  test('a wrong hash tile: the entries fold to the signed root, the tile does not', async () => {
    const nodes = ledger.getRepository(LedgerNode);
    // In the last, partial tile (3,584..3,599): full hash tiles are served from memory once read.
    const node = await nodes.findOneByOrFail({ level: 0, idx: 3595 });
    await nodes.update({ level: 0, idx: 3595 }, { hash: Buffer.alloc(32, 9).toString('base64') });
    try {
      const report = await verifyLedger({ url: gateway.url, token, key: key.verifierKey });
      expect(report.problems).toEqual([
        `hash tile 0/14 is wrong at index 3595: it says ${Buffer.alloc(32, 9).toString('base64')}, the entry hashes to ${node.hash}, and the entries, not the tiles, fold to the signed root`,
      ]);
    } finally {
      await nodes.update({ level: 0, idx: 3595 }, { hash: node.hash });
    }
  }, 30_000);

  test('a saved checkpoint of another history of the same size: not consistent', async () => {
    // The log's own key signs a tree of 1,000 leaves whose root is not the log's: a split view.
    const other = signCheckpoint({ origin: ORIGIN, size: 1000, rootHash: Buffer.alloc(32, 7), extensions: [] }, key.signer);
    const forkFile = path.join(dir, 'fork.json');
    fs.writeFileSync(forkFile, JSON.stringify({ key: key.verifierKey, note: other }));
    const { code, lines } = await custodian('--url', gateway.url, '--token', token, '--from-checkpoint', forkFile);
    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(/TAMPERED: not consistent with the saved checkpoint \(size 1000, root \S+\): the server's consistency proof to size 3600, \[.*\], does not verify/);
    // Refused, it is not overwritten.
    expect(JSON.parse(fs.readFileSync(forkFile, 'utf8')).note).toBe(other);
  }, 30_000);
});

describe('witness cosignatures (--witness, --quorum)', () => {
  const alpha = generateCosignerKey('witness.alpha.example');
  const beta = generateCosignerKey('witness.beta.example');
  let original: string;
  let size: number;

  /** The latest stored checkpoint with these cosignature lines added, as the publisher would. */
  async function cosignLatest(lines: string[]): Promise<void> {
    await ledger.getRepository(LedgerCheckpoint).update({ size }, { note: addSignatureLines(original, lines) });
  }
  const cosign = (signerKey: string) => parseCosignerSignerKey(signerKey).cosign(splitNote(original).body, Math.floor(Date.now() / 1000)).line;

  beforeAll(async () => {
    const latest = (await ledger.getRepository(LedgerCheckpoint).find({ order: { size: 'DESC' }, take: 1 }))[0]!;
    [original, size] = [latest.note, latest.size];
  });
  afterEach(() => ledger.getRepository(LedgerCheckpoint).update({ size }, { note: original }));

  const run = (...extra: string[]) => custodian('--url', gateway.url, '--token', token, '--key', key.verifierKey, ...extra);

  test('a quorum met verifies, naming the cosigners', async () => {
    await cosignLatest([cosign(alpha.signerKey)]);
    const { code, lines } = await run('--witness', alpha.verifierKey, '--witness', beta.verifierKey, '--quorum', '1');
    expect(code).toBe(0);
    expect(lines).toContainEqual(expect.stringMatching(/^ok: cosigned by 1 of 2 witnesses \(quorum 1\): witness\.alpha\.example at /));
  }, 30_000);

  test('too few cosignatures: could not verify, one line', async () => {
    await cosignLatest([cosign(alpha.signerKey)]);
    const { code, lines } = await run('--witness', alpha.verifierKey, '--witness', beta.verifierKey);
    expect(code).toBe(2);
    expect(lines).toEqual([expect.stringMatching(/^could not verify: missing quorum: 1 of the 2 witness cosignatures required \(cosigned by witness\.alpha\.example at /)]);
  }, 30_000);

  test('a forged cosignature by a given witness is tampering', async () => {
    // Beta's name and key ID, alpha's signature: a line that claims beta and does not verify.
    const alphaLine = cosign(alpha.signerKey);
    const raw = Buffer.from(alphaLine.split(' ')[2]!, 'base64');
    Buffer.from(beta.verifierKey.split('+')[1]!, 'hex').copy(raw, 0);
    await cosignLatest([`\u2014 witness.beta.example ${raw.toString('base64')}`]);
    const forged = await run('--witness', beta.verifierKey);
    expect(forged.code).toBe(1);
    expect(forged.lines).toContainEqual(expect.stringMatching(/^TAMPERED: the checkpoint carries a cosignature that does not verify: cosignature by witness\.beta\.example\+\w+ does not verify$/));
  }, 30_000);

  test('bad witness arguments', async () => {
    expect((await run('--quorum', '1')).lines).toEqual(['could not verify: --quorum needs --witness keys']);
    expect((await run('--witness', alpha.verifierKey, '--quorum', '2')).lines).toEqual(['could not verify: --quorum 2 must be from 1 to the 1 witnesses given']);
    expect((await run('--witness', key.verifierKey)).lines).toEqual([expect.stringMatching(/^could not verify: --witness .*: not a cosignature\/v1 verifier key/)]);
    expect((await run('--witness', alpha.verifierKey, '--quorum', 'two')).code).toBe(2);
    // One witness twice would count once: refused, rather than a quorum no note can meet.
    const twice = await run('--witness', alpha.verifierKey, '--witness', alpha.verifierKey);
    expect(twice).toEqual({ code: 2, lines: ['could not verify: --witness witness.alpha.example is given twice: give each witness once'] });
  }, 60_000);
});
