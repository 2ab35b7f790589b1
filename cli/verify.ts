/**
 * `custodian verify --url <gateway> [--token T] [--key VKEY] [--from-checkpoint FILE]`
 *
 * Checks the published ledger without trusting the server: the checkpoint's signature
 * (against a pinned key, or the key saved with the last checkpoint, or — first time
 * only — the key the server serves), consistency with the checkpoint saved by the
 * previous run (its RFC 9162 proof), then every leaf from C2SP tiles — entry bundles and
 * level-0 hash tiles, cli/verify-tiles.ts — hashed from its bytes and folded into the
 * root, which must be the signed root. With a saved checkpoint only the tiles past it
 * are read. Every leaf is read with the ledger's one leaf parser (ledger/core/leaf.ts
 * readLeaf, both formats). Uses only the public HTTP contract and the ledger's pure core,
 * as any outside party would.
 *
 * Exit codes: 0 verified; 1 tampered — evidence in the bytes read (the first bad index,
 * expected and got, and the proof); 2 could not verify — unreachable, refused (a
 * compliance token is needed for entry bundles), bad arguments, leaves of a format newer
 * than this verifier. Failing to read is never reported as tampering (cli/ledger-client.ts).
 *
 * Checkpoints from elsewhere (--checkpoint, cli/verify-split-view.ts): each must be of the
 * one history this log shows — else a split view, exit 1.
 *
 * Key rotation (ledger/core/key-rotation.ts): the trusted key is followed to a newer one
 * only through the checkpoint that announces it — signed by both, naming the new key —
 * and that checkpoint's root must be the root of the same leaves. Every key in GET
 * /ledger/keys after the first must be announced so; a key introduced any other way,
 * or a latest checkpoint signed by no key the trusted one leads to, is a problem (exit 1).
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  decodeBase64Strict,
  hexKeyId,
  openAnnouncement,
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  type Checkpoint,
} from '../ledger/core';
import { CosignatureError, cosignaturesOnNote, parseCosignerVerifierKey, type CosignatureVerifier } from '../ledger/core/cosignature';
import { CouldNotVerify, LedgerClient } from './ledger-client';
import { VERIFY_USAGE } from './usage';
import { scanLog, type Findings } from './verify-tiles';
import { checkOtherCheckpoints, readCheckpointFile, signersOf, type OtherCheckpoint } from './verify-split-view';


interface Saved {
  key: string;
  note: string;
}

export interface VerifyReport {
  ok: boolean;
  size: number;
  /** Evidence of tampering. */
  problems: string[];
  /** What could not be checked (leaves of a format newer than this verifier). */
  unverified: string[];
  notes: string[];
  /** Why the log could not be read (unreachable, refused, missing tiles): nothing was proved either way. */
  unreadable?: string;
  /** Leaves read and hashed from entry bundles, in how long, and what it took. */
  leaves: number;
  seconds: number;
  leavesPerSecond: number | null;
  requests: number;
  bytes: number;
  /** Tile and bundle paths fetched, in order (tile/0/…, tile/entries/…). */
  tilesFetched: string[];
}

export interface VerifyOptions {
  url: string;
  token?: string;
  key?: string;
  fromCheckpoint?: string;
  /** Tile pairs in flight at once (default 8). */
  concurrency?: number;
  /**
   * Verify the log as of this signed checkpoint (a note received elsewhere) instead of
   * the latest one the server serves; its signature is checked the same way.
   */
  checkpoint?: string;
  /** Witness cosigner keys (C2SP tlog-cosignature vkeys, type 0x04), and how many must have cosigned the checkpoint. */
  witnesses?: readonly string[];
  quorum?: number;
  /**
   * Checkpoints obtained elsewhere (--checkpoint FILE): each must be of this log's one
   * history — same size, same root; another size, consistent — else a split view (exit 1).
   */
  others?: readonly OtherCheckpoint[];
}

/** One key of GET /ledger/keys. */
interface ServedKey {
  verifierKey: string;
  fromSize: number;
  retiredAtSize: number | null;
}

/** A rotation the trusted key led to: its announcing checkpoint, whose root is checked against the leaves. */
interface Announcement {
  from: string;
  to: string;
  checkpoint: Checkpoint;
}

/** The key to trust: pinned, else saved with the last checkpoint, else — first time only — the served one. */
async function trustedKey(client: LedgerClient, opts: VerifyOptions, saved: Saved | null, found: Findings): Promise<{ text: string; served: string }> {
  const served = (await client.text('/ledger/key')).trim();
  const text = opts.key ?? saved?.key ?? served;
  if (!opts.key && !saved) found.notes.push('no pinned key and no saved checkpoint: trusting the served key on first use');
  try {
    parseVerifierKey(text);
  } catch (err) {
    throw new CouldNotVerify(`the key to trust is not a note verifier key: ${(err as Error).message}`);
  }
  return { text, served };
}

/** GET /ledger/keys; null from a server that predates it. */
async function servedKeys(client: LedgerClient): Promise<ServedKey[] | null> {
  const body = await client.get('/ledger/keys', { allow404: true });
  if (!body) return null;
  return (JSON.parse(body.toString('utf8')) as { keys: ServedKey[] }).keys;
}

/** The stored checkpoint of exactly `size`, or null. */
async function checkpointOfSize(client: LedgerClient, size: number): Promise<string | null> {
  const page = await client.json<{ checkpoints: { size: number; note: string }[] }>(`/ledger/checkpoints?since=${size}&limit=1`);
  const found = page.checkpoints[0];
  return found && found.size === size ? found.note : null;
}

/**
 * The key that signs now, reached from the trusted one through announced rotations
 * only. Every key of the list after the first must be announced by its predecessor;
 * the walk from the trusted key stops at the first that is not.
 */
async function followRotations(client: LedgerClient, trusted: string, served: string, found: Findings): Promise<{ key: string; announcements: Announcement[] }> {
  const keys = await servedKeys(client);
  if (!keys) {
    if (served !== trusted) found.problems.push(`the server's key changed: it serves ${served}, we trust ${trusted}, and it lists no announced rotation`);
    return { key: trusted, announcements: [] };
  }
  const valid: boolean[] = [true];
  const announcements: (Announcement | null)[] = [null];
  for (let i = 1; i < keys.length; i++) {
    const [previous, next] = [keys[i - 1]!, keys[i]!];
    const note = await checkpointOfSize(client, next.fromSize);
    try {
      if (!note) throw new Error(`there is no checkpoint of size ${next.fromSize}`);
      const checkpoint = openAnnouncement(note, previous.verifierKey, next.verifierKey);
      if (previous.retiredAtSize !== next.fromSize) throw new Error(`the key it replaces is listed as retired at ${previous.retiredAtSize}, not ${next.fromSize}`);
      announcements.push({ from: previous.verifierKey, to: next.verifierKey, checkpoint });
      valid.push(true);
    } catch (err) {
      found.problems.push(`key ${next.verifierKey} is listed from size ${next.fromSize} without a checkpoint announcing it signed by ${previous.verifierKey}: ${(err as Error).message}`);
      announcements.push(null);
      valid.push(false);
    }
  }
  const start = keys.findIndex((k) => k.verifierKey === trusted);
  if (start < 0) {
    found.problems.push(`the trusted key ${trusted} is not among the keys the server lists`);
    return { key: trusted, announcements: [] };
  }
  let at = start;
  const followed: Announcement[] = [];
  while (at + 1 < keys.length && valid[at + 1]) {
    followed.push(announcements[at + 1]!);
    at++;
  }
  for (const a of followed) {
    found.notes.push(`followed a key rotation at size ${a.checkpoint.size}: ${keyId(a.from)} → ${keyId(a.to)}, announced by a checkpoint signed by both`);
  }
  const key = keys[at]!.verifierKey;
  if (served !== key) found.problems.push(`the server serves the key ${served}, but the trusted key leads to ${key}`);
  return { key, announcements: followed };
}

function keyId(verifierKey: string): string {
  const v = parseVerifierKey(verifierKey);
  return `${v.name}+${hexKeyId(v.keyId)}`;
}

/** RFC 9162 consistency of two signed trees, with the server's proof. False (and a problem) if it does not hold. */
async function consistent(client: LedgerClient, older: Checkpoint, newer: Checkpoint, what: string, found: Findings): Promise<boolean> {
  if (older.size > newer.size) {
    found.problems.push(`the log shrank: ${what} has ${older.size} entries, the checkpoint now ${newer.size}`);
    return false;
  }
  if (older.size === newer.size || older.size === 0) {
    if (older.size === newer.size && !older.rootHash.equals(newer.rootHash)) {
      found.problems.push(`${what} and the checkpoint now have the same size ${newer.size} but different roots: history was rewritten`);
      return false;
    }
    return true;
  }
  const proof = await client.json<{ hashes: string[] }>(`/ledger/proof/consistency?from=${older.size}&to=${newer.size}`);
  try {
    verifyConsistency(older.size, newer.size, older.rootHash, newer.rootHash, proof.hashes.map((h) => decodeBase64Strict(h) ?? Buffer.alloc(0)));
    return true;
  } catch (err) {
    found.problems.push(
      `not consistent with ${what} (size ${older.size}, root ${older.rootHash.toString('base64')}): the server's consistency proof to size ${newer.size}, ` +
        `[${proof.hashes.join(', ')}], does not verify: ${(err as Error).message}`,
    );
    return false;
  }
}

/** The witnesses' keys, checked before anything is fetched: a bad one is a bad argument. */
function witnessVerifiers(opts: VerifyOptions): { verifiers: CosignatureVerifier[]; quorum: number } {
  const verifiers = (opts.witnesses ?? []).map((key) => {
    try {
      return parseCosignerVerifierKey(key);
    } catch (err) {
      throw new CouldNotVerify(`--witness ${key}: not a cosignature/v1 verifier key (<name>+<id>+base64(0x04 ‖ key)): ${(err as Error).message}`);
    }
  });
  // A witness counts once toward the quorum (cosignaturesOnNote keeps one per key): the
  // same name twice would ask for a quorum the note can never meet, or count one
  // witness's two keys as two witnesses.
  const names = new Set<string>();
  for (const v of verifiers) {
    if (names.has(v.name)) throw new CouldNotVerify(`--witness ${v.name} is given twice: give each witness once`);
    names.add(v.name);
  }
  const quorum = opts.quorum ?? verifiers.length;
  if (opts.quorum !== undefined && verifiers.length === 0) throw new CouldNotVerify('--quorum needs --witness keys');
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > verifiers.length) throw new CouldNotVerify(`--quorum ${opts.quorum} must be from 1 to the ${verifiers.length} witnesses given`);
  return { verifiers, quorum };
}

/**
 * K of the given witnesses must have cosigned the checkpoint (c2sp.org/tlog-cosignature):
 * a missing cosignature proves nothing, so too few is "could not verify"; a line by a
 * given witness that does not verify is a forgery, evidence (exit 1).
 */
function checkQuorum(note: string, opts: VerifyOptions, found: Findings): void {
  const { verifiers, quorum } = witnessVerifiers(opts);
  if (verifiers.length === 0) return;
  let cosigned: string[];
  try {
    cosigned = cosignaturesOnNote(note, verifiers).map((c) => `${c.name} at ${new Date(c.timestamp * 1000).toISOString()}`);
  } catch (err) {
    if (!(err instanceof CosignatureError)) throw err;
    found.problems.push(`the checkpoint carries a cosignature that does not verify: ${err.message}`);
    return;
  }
  if (cosigned.length < quorum) {
    throw new CouldNotVerify(`missing quorum: ${cosigned.length} of the ${quorum} witness cosignatures required (${cosigned.length ? `cosigned by ${cosigned.join(', ')}` : 'none'})`);
  }
  found.notes.push(`cosigned by ${cosigned.length} of ${verifiers.length} witnesses (quorum ${quorum}): ${cosigned.join(', ')}`);
}

function readSaved(file: string | undefined): Saved | null {
  if (!file || !fs.existsSync(file)) return null;
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Saved;
    if (typeof saved.key !== 'string' || typeof saved.note !== 'string') throw new Error('it holds no key and note');
    return saved;
  } catch (err) {
    throw new CouldNotVerify(`cannot read the saved checkpoint ${file}: ${(err as Error).message}`);
  }
}

interface Verified {
  size: number;
  ok: boolean;
  leaves: number;
  seconds: number;
  /** What to save for the next run: the checkpoint verified, and the key it is signed by. */
  saved?: Saved;
}

async function verifyWith(client: LedgerClient, opts: VerifyOptions, found: Findings): Promise<Verified> {
  witnessVerifiers(opts);
  const saved = readSaved(opts.fromCheckpoint);
  const pinned = await trustedKey(client, opts, saved, found);
  const trusted = await followRotations(client, pinned.text, pinned.served, found);

  const note = opts.checkpoint ?? (await client.text('/ledger/checkpoint'));
  let checkpoint: Checkpoint;
  try {
    checkpoint = openCheckpoint(note, [parseVerifierKey(trusted.key)]).checkpoint;
  } catch (err) {
    found.problems.push(
      `the latest checkpoint is not signed by ${keyId(trusted.key)}, the key the trusted one leads to through announced rotations ` +
        `(it is signed by ${signersOf(note).join(', ') || 'nobody'}): ${(err as Error).message}`,
    );
    return { size: 0, ok: false, leaves: 0, seconds: 0 };
  }
  found.notes.push(`checkpoint ${checkpoint.origin} size ${checkpoint.size} root ${checkpoint.rootHash.toString('base64')}`);
  // Checkpoints from elsewhere before the quorum: a split view is evidence (exit 1) even
  // when too few witnesses cosigned the latest checkpoint to verify it (exit 2).
  if (opts.others?.length) {
    // Every key of the log this run trusts: a checkpoint from before a rotation is signed by an older one.
    const keys = [...new Set([trusted.key, ...trusted.announcements.flatMap((a) => [a.from, a.to])])].map((k) => parseVerifierKey(k));
    await checkOtherCheckpoints(
      { client, latest: { note, checkpoint }, others: opts.others, logKeys: keys, cosigners: witnessVerifiers(opts).verifiers, checkpointOfSize: (size) => checkpointOfSize(client, size) },
      found,
    );
  }
  checkQuorum(note, opts, found);

  // First the saved checkpoint: the log only ever grew. Only then are the old leaves taken as read.
  let from: Checkpoint | undefined;
  if (saved) {
    let previous: Checkpoint | undefined;
    try {
      previous = openCheckpoint(saved.note, [parseVerifierKey(saved.key)]).checkpoint;
    } catch (err) {
      found.problems.push(`the saved checkpoint does not verify: ${(err as Error).message}`);
    }
    if (previous && (await consistent(client, previous, checkpoint, 'the saved checkpoint', found))) {
      found.notes.push(previous.size === checkpoint.size ? `unchanged since the saved checkpoint (size ${checkpoint.size})` : `consistent with the saved checkpoint of size ${previous.size}`);
      from = previous;
    }
  }

  // A rotation's announcing checkpoint must be of the same log: its root is the root of its first leaves.
  const rootsAt: number[] = [];
  for (const { checkpoint: a } of trusted.announcements) {
    if (a.size > checkpoint.size) found.problems.push(`a rotation is announced at size ${a.size}, after the latest checkpoint (${checkpoint.size})`);
    else if (from && a.size <= from.size) await consistent(client, a, from, `the checkpoint announcing the key rotation at size ${a.size}`, found);
    else rootsAt.push(a.size);
  }

  const scan = await scanLog({ client, size: checkpoint.size, root: checkpoint.rootHash, from: from && { size: from.size, root: from.rootHash }, rootsAt, concurrency: opts.concurrency }, found);
  for (const { checkpoint: a } of trusted.announcements) {
    const root = scan.roots.get(a.size);
    if (rootsAt.includes(a.size) && root && !root.equals(a.rootHash)) {
      found.problems.push(`the checkpoint announcing the key rotation at size ${a.size} has a root that is not the root of those leaves`);
    }
  }
  return { size: checkpoint.size, ok: true, leaves: scan.leaves, seconds: scan.seconds, saved: { key: trusted.key, note } };
}

export async function verifyLedger(opts: VerifyOptions): Promise<VerifyReport> {
  const found: Findings = { problems: [], unverified: [], notes: [] };
  const client = new LedgerClient(opts.url, opts.token);
  let result: Verified = { size: 0, ok: false, leaves: 0, seconds: 0 };
  let unreadable: string | undefined;
  try {
    result = await verifyWith(client, opts, found);
  } catch (err) {
    if (!(err instanceof CouldNotVerify)) throw err;
    unreadable = err.message;
  }
  const ok = result.ok && !unreadable && found.problems.length === 0 && found.unverified.length === 0;
  if (opts.fromCheckpoint && ok && result.saved) {
    fs.writeFileSync(opts.fromCheckpoint, JSON.stringify(result.saved, null, 2) + '\n');
    found.notes.push(`saved this checkpoint to ${opts.fromCheckpoint}`);
  }
  return {
    ok,
    size: result.size,
    ...found,
    unreadable,
    leaves: result.leaves,
    seconds: result.seconds,
    leavesPerSecond: result.seconds > 0 ? Math.round(result.leaves / result.seconds) : null,
    requests: client.requests,
    bytes: client.bytes,
    tilesFetched: client.tilesFetched,
  };
}

/** 0 verified, 1 tampered, 2 could not verify (ARCHITECTURE.md). */
export function exitCodeOf(report: VerifyReport): 0 | 1 | 2 {
  if (report.problems.length) return 1;
  return report.ok ? 0 : 2;
}

export async function verifyCommand(argv: string[]): Promise<void> {
  let values: { url?: string; token?: string; key?: string; 'from-checkpoint'?: string; witness?: string[]; quorum?: string; checkpoint?: string[] };
  let quorum: number | undefined;
  let others: OtherCheckpoint[];
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        key: { type: 'string' },
        'from-checkpoint': { type: 'string' },
        witness: { type: 'string', multiple: true },
        quorum: { type: 'string' },
        checkpoint: { type: 'string', multiple: true },
      },
      strict: true,
    }));
    if (!values.url) throw new Error('verify needs --url <gateway>');
    if (values.quorum !== undefined) {
      if (!/^[1-9]\d{0,3}$/.test(values.quorum)) throw new Error(`--quorum ${values.quorum}: a positive integer`);
      quorum = Number(values.quorum);
    }
    others = (values.checkpoint ?? []).map(readCheckpointFile);
  } catch (err) {
    console.log(`could not verify: ${(err as Error).message}\n${VERIFY_USAGE}`);
    process.exitCode = 2;
    return;
  }
  const report = await verifyLedger({
    url: values.url!,
    token: values.token || process.env.CUSTODIAN_TOKEN || undefined,
    key: values.key,
    fromCheckpoint: values['from-checkpoint'],
    witnesses: values.witness,
    quorum,
    others,
  });
  const code = exitCodeOf(report);
  if (report.unreadable && code === 2) {
    // Nothing was proved either way: one line, saying what to do about it.
    console.log(`could not verify: ${report.unreadable}`);
    process.exitCode = 2;
    return;
  }
  for (const n of report.notes) console.log(`ok: ${n}`);
  for (const u of report.unverified) console.log(`UNVERIFIED: ${u}`);
  for (const p of report.problems) console.log(`TAMPERED: ${p}`);
  const rate = report.leavesPerSecond !== null ? `; ${report.leaves} leaves read in ${report.seconds.toFixed(2)} s, ${report.leavesPerSecond} leaves/s` : '';
  const traffic = `${report.requests} requests, ${(report.bytes / 1e6).toFixed(1)} MB`;
  if (code === 0) console.log(`verified: ${report.size} entries (${traffic}${rate})`);
  else if (code === 1) {
    // A split view is named in the verdict itself: it is what a second auditor's checkpoint is for.
    const split = report.problems.some((p) => p.startsWith('split view:')) ? 'tampered: split view; ' : '';
    console.log(`${split}verification FAILED: ${report.problems.length} problem(s)${report.unreadable ? `; and then could not read on: ${report.unreadable}` : ''}`);
  }
  else console.log(`could not verify: ${report.unverified.length} leaves in a format newer than this verifier`);
  process.exitCode = code;
}
